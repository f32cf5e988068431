import Logging
import NIOCore
import SwitchboardProto

/// Serves the calls of one connection, on its event loop.
///
/// Each request frame becomes a task (preferring the connection's event loop as executor) that
/// runs the method's handler; answers are written as they finish, so calls complete out of order.
/// Writes made while reading a burst of frames are flushed once at its end; writes made later
/// (when handlers finish) are flushed once per event loop tick.
final class ServerConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = InboundFrame
    typealias OutboundOut = ByteBuffer

    /// Settings shared by every connection of a server.
    struct Settings: Sendable {
        var router: RPCRouter
        var maximumDataLength: Int
        var logger: Logger
        var authenticator: (any RPCAuthenticator)?
        /// Calls in flight one connection may have; more are `RESOURCE_EXHAUSTED`.
        var maximumCallsPerConnection: Int = .max
        /// The server-wide budget of server-streaming calls (watchers).
        var streams: StreamBudget = StreamBudget(limit: .max)
    }

    private struct Call {
        var task: Task<Void, Never>?
        var timeout: Scheduled<Void>?
        let streaming: Bool
    }

    private let settings: Settings
    private var calls: [UInt32: Call] = [:]
    private var lastStreamID: UInt32 = 0
    private var context: ChannelHandlerContext?
    private var executor: EventLoopTaskExecutor?
    private var remotePeer = "unknown"
    private var logger: Logger

    private var reading = false
    private var needsFlush = false
    private var flushScheduled = false
    private var quiescing = false
    private var writabilityWaiters: [(UInt32, CheckedContinuation<Void, any Error>)] = []
    private var requestCounter: UInt64 = 0
    private static let outboundCapacity = 4096
    private var outbound = ByteBuffer()
    private var unflushedFrames = 0
    /// Answers buffered before a flush even within one read burst or tick.
    static let framesPerFlush = 16
    private let connectionID: String

    /// Installs what a server gives each connection on `channel`: the idle timer (with
    /// `idleTimeout`), the frame decoder and a connection handler. Call it on the channel's loop.
    static func install(
        on channel: any Channel, settings: Settings, connectionID: String,
        idleTimeout: TimeAmount? = nil, frameTimeout: TimeAmount? = nil
    ) throws {
        let operations = channel.pipeline.syncOperations
        if let idleTimeout {
            try operations.addHandler(IdleStateHandler(readTimeout: idleTimeout))
        }
        try operations.addHandlers(
            ByteToMessageHandler(FrameDecoder(maximumDataLength: settings.maximumDataLength, frameTimeout: frameTimeout)),
            ServerConnectionHandler(settings: settings, connectionID: connectionID)
        )
    }

    init(settings: Settings, connectionID: String) {
        self.settings = settings
        self.connectionID = connectionID
        var logger = settings.logger
        logger[metadataKey: "connection"] = "\(connectionID)"
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.executor = EventLoopTaskExecutor(eventLoop: context.eventLoop)
        self.outbound = context.channel.allocator.buffer(capacity: Self.outboundCapacity)
        if let address = context.channel.remoteAddress {
            remotePeer = address.ipAddress.map { "\($0):\(address.port ?? 0)" } ?? "\(address)"
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    // MARK: Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        reading = true
        switch unwrapInboundIn(data) {
        case .frame(let frame):
            switch frame.header.type {
            case .request:
                receiveRequest(frame, context: context)
            case .data:
                receiveData(frame.header)
            default:
                break  // responses and unknown types from a client are ignored, as ttrpc peers do
            }
        case .oversized(let header):
            logger.debug("oversized frame", metadata: ["stream": "\(header.streamID)", "length": "\(header.length)"])
            guard header.type == .request, acceptStreamID(header.streamID) else { return }
            writeError(
                streamID: header.streamID,
                RPCError(
                    code: .resourceExhausted,
                    message: "request frame of \(header.length) bytes exceeds the limit of \(settings.maximumDataLength) bytes"
                )
            )
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        reading = false
        if needsFlush {
            needsFlush = false
            flushNow()
        }
        context.fireChannelReadComplete()
    }

    /// Checks the ttrpc stream id rules; answers `INVALID_ARGUMENT` on the stream when broken.
    private func acceptStreamID(_ streamID: UInt32) -> Bool {
        if streamID % 2 == 0 {
            writeError(streamID: streamID, RPCError(code: .invalidArgument, message: "stream id \(streamID) is even; client streams must use odd ids"))
            return false
        }
        if streamID <= lastStreamID {
            writeError(streamID: streamID, RPCError(code: .invalidArgument, message: "stream id \(streamID) is not greater than \(lastStreamID); stream ids must increase"))
            return false
        }
        lastStreamID = streamID
        return true
    }

    private func receiveRequest(_ frame: Frame, context: ChannelHandlerContext) {
        let streamID = frame.header.streamID
        guard acceptStreamID(streamID) else { return }
        let request: Ttrpc_Request
        do {
            request = try Ttrpc_Request(buffer: frame.data)
        } catch {
            writeError(streamID: streamID, RPCError(code: .invalidArgument, message: "invalid request envelope: \(error)"))
            return
        }
        if quiescing {
            writeError(streamID: streamID, RPCError(code: .unavailable, message: "the server is shutting down"))
            return
        }
        guard let handler = settings.router.handler(service: request.service, method: request.method) else {
            let message = settings.router.hasService(request.service)
                ? "unknown method '\(request.method)' of service '\(request.service)'"
                : "unknown service '\(request.service)'"
            writeError(streamID: streamID, RPCError(code: .unimplemented, message: message))
            return
        }
        if frame.header.flags.contains(.remoteOpen) {
            writeError(streamID: streamID, RPCError(code: .unimplemented, message: "client streaming is not supported ('\(request.service)/\(request.method)')"))
            return
        }
        if request.timeoutNano < 0 {
            writeError(streamID: streamID, RPCError(code: .invalidArgument, message: "field 'timeout_nano' must not be negative"))
            return
        }
        // Credentials first: a caller who is refused takes no place under the limits below.
        let method = MethodDescriptor(service: request.service, method: request.method)
        let metadata = Metadata(request.metadata.map { Metadata.Element(key: $0.key, value: $0.value) })
        var principal: Principal?
        if let authenticator = settings.authenticator {
            do {
                principal = try authenticator.authenticate(method, metadata: metadata)
            } catch {
                writeError(streamID: streamID, error)
                return
            }
        }
        if calls.count >= settings.maximumCallsPerConnection {
            writeError(streamID: streamID, RPCError(
                code: .resourceExhausted,
                message: "too many calls in flight on this connection (limit \(settings.maximumCallsPerConnection)); wait for answers or open another connection"
            ))
            return
        }
        if case .serverStreaming = handler, !settings.streams.acquire() {
            writeError(streamID: streamID, RPCError(
                code: .resourceExhausted,
                message: "too many streams open on the server (limit \(settings.streams.limit)); retry later"
            ))
            return
        }
        start(
            handler, request: request, method: method, metadata: metadata, principal: principal,
            streamID: streamID, context: context
        )
    }

    private func receiveData(_ header: FrameHeader) {
        // The services here take no client streams. A bare end-of-stream marker is harmless; any
        // other data ends the call it names.
        if header.flags.contains(.remoteClosed) && header.length == 0 { return }
        // A client gives up on a call (Switchboard's extension of ttrpc, which has no cancel):
        // an empty data frame flagged `no data` alone. The handler is cancelled, the stream ends.
        if header.flags == [.noData] && header.length == 0 {
            if calls[header.streamID] != nil {
                finish(streamID: header.streamID, error: RPCError(code: .cancelled, message: "cancelled by the client"))
            }
            return
        }
        let message = "client data frames are not supported"
        if calls[header.streamID] != nil {
            finish(streamID: header.streamID, error: RPCError(code: .invalidArgument, message: message))
        } else if header.streamID % 2 == 1 {
            writeError(streamID: header.streamID, RPCError(code: .invalidArgument, message: message))
        }
    }

    // MARK: Running calls

    private func start(
        _ handler: RPCRouter.Handler, request: Ttrpc_Request, method: MethodDescriptor, metadata: Metadata,
        principal: Principal?, streamID: UInt32, context: ChannelHandlerContext
    ) {
        requestCounter &+= 1
        let deadline = request.timeoutNano > 0 ? ContinuousClock.now + .nanoseconds(request.timeoutNano) : nil
        let serverContext = ServerContext(
            method: method, metadata: metadata, deadline: deadline, remotePeer: remotePeer,
            connectionID: connectionID, callNumber: requestCounter, logger: settings.logger,
            principal: principal
        )

        let loop = context.eventLoop
        let bound = NIOLoopBound(self, eventLoop: loop)
        var call: Call
        switch handler {
        case .unary(let run):
            call = Call(task: nil, timeout: nil, streaming: false)
            call.task = Self.spawnUnary(
                run, payload: request.payload, context: serverContext, streamID: streamID,
                executor: executor!, handler: bound
            )
        case .serverStreaming(let run):
            call = Call(task: nil, timeout: nil, streaming: true)
            call.task = Self.spawnStreaming(
                run, payload: request.payload, context: serverContext, streamID: streamID,
                executor: executor!, handler: bound
            )
        }
        if request.timeoutNano > 0 {
            call.timeout = loop.assumeIsolated().scheduleTask(in: .nanoseconds(request.timeoutNano)) {
                self.expire(streamID: streamID, timeoutNano: request.timeoutNano)
            }
        }
        // The task cannot have finished yet: its first job runs after this read on the same loop.
        calls[streamID] = call
    }

    private static func spawnUnary(
        _ run: @escaping @Sendable ([UInt8], ServerContext) async throws -> [UInt8],
        payload: [UInt8], context: ServerContext, streamID: UInt32,
        executor: EventLoopTaskExecutor, handler: NIOLoopBound<ServerConnectionHandler>
    ) -> Task<Void, Never> {
        Task(executorPreference: executor) {
            let outcome: Result<[UInt8], RPCError>
            do {
                outcome = .success(try await run(payload, context))
            } catch {
                outcome = .failure(RPCError(from: error))
            }
            onLoop(executor.eventLoop, handler) { $0.finishUnary(streamID: streamID, outcome) }
        }
    }

    private static func spawnStreaming(
        _ run: @escaping @Sendable ([UInt8], StreamSink, ServerContext) async throws -> Void,
        payload: [UInt8], context: ServerContext, streamID: UInt32,
        executor: EventLoopTaskExecutor, handler: NIOLoopBound<ServerConnectionHandler>
    ) -> Task<Void, Never> {
        let sink = StreamSink(streamID: streamID, eventLoop: executor.eventLoop, handler: handler)
        return Task(executorPreference: executor) {
            let failure: RPCError?
            do {
                try await run(payload, sink, context)
                failure = nil
            } catch {
                failure = RPCError(from: error)
            }
            onLoop(executor.eventLoop, handler) { $0.finishStream(streamID: streamID, error: failure) }
        }
    }

    private static func onLoop(
        _ loop: any EventLoop, _ bound: NIOLoopBound<ServerConnectionHandler>,
        _ body: @escaping @Sendable (ServerConnectionHandler) -> Void
    ) {
        if loop.inEventLoop {
            body(bound.value)
        } else {
            loop.execute { body(bound.value) }
        }
    }

    private func finishUnary(streamID: UInt32, _ outcome: Result<[UInt8], RPCError>) {
        guard let call = removeCall(streamID) else { return }  // expired or cancelled
        call.timeout?.cancel()
        switch outcome {
        case .success(let payload):
            write { $0.writeResponseFrame(streamID: streamID, payload: payload, error: nil) }
        case .failure(let error):
            logger.debug("call failed", metadata: ["stream": "\(streamID)", "code": "\(error.code)"])
            write { $0.writeResponseFrame(streamID: streamID, payload: [], error: error) }
        }
        closeIfDrained()
    }

    private func finishStream(streamID: UInt32, error: RPCError?) {
        guard let call = removeCall(streamID) else { return }
        call.timeout?.cancel()
        resumeWaiters(of: streamID, with: RPCError(code: .cancelled, message: "the stream has ended"))
        if let error {
            write { $0.writeResponseFrame(streamID: streamID, payload: [], error: error) }
        } else {
            write {
                $0.writeFrameHeader(FrameHeader(length: 0, streamID: streamID, type: .data, flags: [.remoteClosed, .noData]))
            }
        }
        closeIfDrained()
    }

    /// Ends a call early: answers `error` and cancels the handler's task.
    private func finish(streamID: UInt32, error: RPCError) {
        guard let call = removeCall(streamID) else { return }
        call.timeout?.cancel()
        call.task?.cancel()
        resumeWaiters(of: streamID, with: RPCError(code: .cancelled, message: error.message))
        write { $0.writeResponseFrame(streamID: streamID, payload: [], error: error) }
        closeIfDrained()
    }

    /// Forgets a call, giving its stream budget back.
    private func removeCall(_ streamID: UInt32) -> Call? {
        guard let call = calls.removeValue(forKey: streamID) else { return nil }
        if call.streaming { settings.streams.release() }
        return call
    }

    private func expire(streamID: UInt32, timeoutNano: Int64) {
        let timeout = Duration.nanoseconds(timeoutNano)
        finish(streamID: streamID, error: RPCError(code: .deadlineExceeded, message: "deadline of \(timeout) exceeded"))
    }

    // MARK: Streams

    /// Writes one message of a streaming call; resumes `continuation` once the connection can
    /// take more (at once when it is writable).
    fileprivate func writeStreamData(streamID: UInt32, payload: [UInt8], continuation: CheckedContinuation<Void, any Error>) {
        guard calls[streamID] != nil, let context else {
            continuation.resume(throwing: RPCError(code: .cancelled, message: "the call has ended"))
            return
        }
        write {
            $0.writeFrameHeader(FrameHeader(length: UInt32(payload.count), streamID: streamID, type: .data, flags: []))
            $0.writeBytes(payload)
        }
        if context.channel.isWritable {
            continuation.resume()
        } else {
            writabilityWaiters.append((streamID, continuation))
            // Waiting for room: push what is buffered now rather than at the end of the tick.
            flushNow()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            let waiters = writabilityWaiters
            writabilityWaiters.removeAll()
            for (_, continuation) in waiters { continuation.resume() }
        }
        context.fireChannelWritabilityChanged()
    }

    private func resumeWaiters(of streamID: UInt32, with error: RPCError) {
        writabilityWaiters.removeAll { id, continuation in
            guard id == streamID else { return false }
            continuation.resume(throwing: error)
            return true
        }
    }

    // MARK: Writing

    private func writeError(streamID: UInt32, _ error: RPCError) {
        write { $0.writeResponseFrame(streamID: streamID, payload: [], error: error) }
    }

    /// Appends a frame to the outbound buffer, flushed at the end of the read burst or of the
    /// event loop tick: one socket write for many answers.
    private func write(_ encode: (inout ByteBuffer) -> Void) {
        guard context != nil else { return }
        encode(&outbound)
        unflushedFrames += 1
        if unflushedFrames >= Self.framesPerFlush {
            // Many answers are ready: send them now, so the peer works on them while the rest
            // are computed, instead of the two sides taking turns.
            flushNow()
        } else if reading {
            needsFlush = true
        } else if !flushScheduled {
            flushScheduled = true
            context!.eventLoop.assumeIsolated().execute {
                self.flushScheduled = false
                self.flushNow()
            }
        }
    }

    private func flushNow() {
        guard let context else { return }
        unflushedFrames = 0
        if outbound.readableBytes > 0 {
            let frames = outbound
            // A new buffer rather than clearing: the channel still holds the old one.
            outbound = context.channel.allocator.buffer(capacity: Self.outboundCapacity)
            context.write(wrapOutboundOut(frames), promise: nil)
        }
        context.flush()
    }

    // MARK: Lifecycle

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            // Nothing received for the idle timeout: close, unless calls (streams) are open.
            if calls.isEmpty {
                logger.debug("closing an idle connection")
                context.close(promise: nil)
            }
        } else if event is ChannelShouldQuiesceEvent {
            quiescing = true
            // Streams (watchers) never end on their own: end them so clients reconnect elsewhere.
            for (streamID, call) in calls where call.streaming {
                finish(streamID: streamID, error: RPCError(code: .unavailable, message: "the server is shutting down"))
            }
            closeIfDrained()
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    private func closeIfDrained() {
        guard quiescing, calls.isEmpty, let context else { return }
        flushNow()
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        // The client left: cancel what it was waiting for; nothing is answered.
        let cancelled = RPCError(code: .cancelled, message: "the connection closed")
        for (_, call) in calls {
            call.timeout?.cancel()
            call.task?.cancel()
            if call.streaming { settings.streams.release() }
        }
        if !calls.isEmpty {
            logger.debug("connection closed with calls in flight", metadata: ["calls": "\(calls.count)"])
        }
        calls.removeAll()
        let waiters = writabilityWaiters
        writabilityWaiters.removeAll()
        for (_, continuation) in waiters { continuation.resume(throwing: cancelled) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A framing violation or a socket error: this connection ends, the server goes on.
        logger.debug("closing connection", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    /// Active calls, for tests.
    var activeCalls: Int { calls.count }
}

/// Where a streaming handler's messages go: the connection handler, on its event loop.
@usableFromInline
final class StreamSink: Sendable {
    private let streamID: UInt32
    private let eventLoop: any EventLoop
    private let handler: NIOLoopBound<ServerConnectionHandler>

    init(streamID: UInt32, eventLoop: any EventLoop, handler: NIOLoopBound<ServerConnectionHandler>) {
        self.streamID = streamID
        self.eventLoop = eventLoop
        self.handler = handler
    }

    func send(_ payload: [UInt8]) async throws {
        try Task.checkCancellation()
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            if eventLoop.inEventLoop {
                handler.value.writeStreamData(streamID: streamID, payload: payload, continuation: continuation)
            } else {
                eventLoop.execute { [handler, streamID] in
                    handler.value.writeStreamData(streamID: streamID, payload: payload, continuation: continuation)
                }
            }
        }
    }
}
