import Logging
import NIOCore
import SwitchboardProto

/// Serves the calls of one connection, on its event loop.
///
/// The handler decodes frames and performs what its ``ServerConnectionStateMachine`` decides:
/// every rule (stream ids, limits, authentication, the idle and slow-frame timeouts, graceful
/// shutdown) lives there; the handler owns the tasks, the timers and the socket. Time comes from
/// an injected ``ConnectionClock``.
///
/// Each admitted request becomes a task (preferring the connection's event loop as executor)
/// that runs the method's handler; answers are written as they finish, so calls complete out of
/// order, and batched by an ``OutboundBatch``.
final class ServerConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Settings shared by every connection of a server.
    struct Settings: Sendable {
        /// The server's methods by the bytes of their names, built once from its router.
        var routes: RouteTable
        var maximumDataLength: Int
        var logger: Logger
        var authenticator: (any RPCAuthenticator)?
        /// Calls in flight one connection may have; more are `RESOURCE_EXHAUSTED`.
        var maximumCallsPerConnection: Int
        /// The server-wide budget of server-streaming calls (watchers).
        var streams: StreamBudget

        init(
            router: RPCRouter, maximumDataLength: Int, logger: Logger, authenticator: (any RPCAuthenticator)? = nil,
            maximumCallsPerConnection: Int = .max, streams: StreamBudget = StreamBudget(limit: .max)
        ) {
            self.routes = RouteTable(router)
            self.maximumDataLength = maximumDataLength
            self.logger = logger
            self.authenticator = authenticator
            self.maximumCallsPerConnection = maximumCallsPerConnection
            self.streams = streams
        }
    }

    /// What the handler keeps of a call in flight; the state machine stores it.
    struct CallHandle {
        var task: Task<Void, Never>?
        var timeout: Scheduled<Void>?
    }

    private let settings: Settings
    // The handler's state is touched only on its event loop, one access at a time (NIO calls
    // the handler, and the tasks it starts resume, on that loop only), so the mutable state read
    // on every frame skips Swift's dynamic exclusivity checks (`@exclusivity(unchecked)`), which
    // cost about 4% of a bare call.
    @exclusivity(unchecked)
    private var machine: ServerConnectionStateMachine<CallHandle>
    private let clock: any ConnectionClock
    @exclusivity(unchecked)
    private var decoder: FrameDecoder
    /// Received bytes not decoded yet (part of a frame).
    @exclusivity(unchecked)
    private var inbound: ByteBuffer
    /// Stands in for `inbound` once it is all decoded, so the channel can reuse its read buffer.
    private let noBytes: ByteBuffer
    /// When the last read began (the time of every frame it brought).
    private var readInstant = NIODeadline.uptimeNanoseconds(0)
    @exclusivity(unchecked)
    private var batch: OutboundBatch
    private var idleTimer: Scheduled<Void>?
    private var frameTimer: Scheduled<Void>?

    private var context: ChannelHandlerContext?
    private var executor: EventLoopTaskExecutor?
    private var remotePeer = "unknown"
    private var logger: Logger
    private var writabilityWaiters: [(UInt32, CheckedContinuation<Void, any Error>)] = []
    private var requestCounter: UInt64 = 0
    private let connectionID: String

    /// Installs what a server gives each connection on `channel`: a connection handler, which
    /// decodes frames, closes the connection after `idleTimeout` without reads (and no calls),
    /// and when a frame is not whole `frameTimeout` after its first byte, reading the time from
    /// `clock`. Call it on the channel's loop.
    static func install(
        on channel: any Channel, settings: Settings, connectionID: String,
        idleTimeout: TimeAmount? = nil, frameTimeout: TimeAmount? = nil,
        clock: any ConnectionClock = SystemConnectionClock()
    ) throws {
        try channel.pipeline.syncOperations.addHandler(
            ServerConnectionHandler(
                settings: settings, connectionID: connectionID, idleTimeout: idleTimeout,
                frameTimeout: frameTimeout, clock: clock
            )
        )
    }

    init(
        settings: Settings, connectionID: String, idleTimeout: TimeAmount? = nil, frameTimeout: TimeAmount? = nil,
        clock: any ConnectionClock = SystemConnectionClock()
    ) {
        self.settings = settings
        self.connectionID = connectionID
        self.clock = clock
        self.machine = ServerConnectionStateMachine(
            configuration: .init(idleTimeout: idleTimeout, frameTimeout: frameTimeout),
            admission: RequestAdmission(
                maximumCallsPerConnection: settings.maximumCallsPerConnection, streams: settings.streams,
                authenticator: settings.authenticator
            )
        )
        self.decoder = FrameDecoder(maximumDataLength: settings.maximumDataLength)
        self.noBytes = ByteBuffer()
        self.inbound = noBytes
        self.batch = OutboundBatch(allocator: ByteBufferAllocator())
        var logger = settings.logger
        logger[metadataKey: "connection"] = "\(connectionID)"
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.executor = EventLoopTaskExecutor(eventLoop: context.eventLoop)
        self.batch = OutboundBatch(allocator: context.channel.allocator)
        if let address = context.channel.remoteAddress {
            remotePeer = address.ipAddress.map { "\($0):\(address.port ?? 0)" } ?? "\(address)"
        }
        if context.channel.isActive { connectionStarted(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimers()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        connectionStarted(context: context)
        context.fireChannelActive()
    }

    private func connectionStarted(context: ChannelHandlerContext) {
        if let deadline = machine.connectionStarted(now: clock.now()) {
            armIdleTimer(at: deadline, context: context)
        }
    }

    // MARK: Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard machine.acceptsFrames else { return }
        var bytes = unwrapInboundIn(data)
        let now = clock.now()
        readInstant = now
        machine.readStarted()
        batch.readStarted()
        if inbound.readableBytes == 0 {
            inbound = bytes
        } else {
            inbound.writeBuffer(&bytes)
        }
        var completedFrame = false
        do {
            while machine.acceptsFrames, let item = try decoder.decode(buffer: &inbound) {
                completedFrame = true
                receive(item, now: now, context: context)
            }
        } catch {
            inbound = noBytes
            errorCaught(context: context, error: error)
            return
        }
        let midFrame = inbound.readableBytes > 0 || decoder.isSkippingData
        if !midFrame { inbound = noBytes }
        switch machine.bytesDecoded(midFrame: midFrame, completedFrame: completedFrame, now: now) {
        case .none:
            break
        case .arm(let deadline):
            frameTimer?.cancel()
            frameTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
                self.frameTimerFired()
            }
        case .cancel:
            frameTimer?.cancel()
            frameTimer = nil
        }
    }

    private func receive(_ item: InboundFrame, now: NIODeadline, context: ChannelHandlerContext) {
        switch item {
        case .frame(let frame):
            switch frame.header.type {
            case .request:
                receiveRequest(frame, now: now, context: context)
            case .data:
                switch machine.dataReceived(frame.header) {
                case .none:
                    break
                case .reject(let streamID, let error):
                    writeError(streamID: streamID, error)
                case .end(let ended, let close):
                    end(ended, close: close)
                }
            default:
                break  // responses and unknown types from a client are ignored, as ttrpc peers do
            }
        case .oversized(let header):
            logger.debug("oversized frame", metadata: ["stream": "\(header.streamID)", "length": "\(header.length)"])
            switch machine.oversizedFrameReceived(header, maximumDataLength: settings.maximumDataLength) {
            case .none:
                break
            case .reject(let streamID, let error):
                writeError(streamID: streamID, error)
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        machine.readCompleted(now: readInstant)
        if batch.readCompleted() {
            flushNow()
        }
        context.fireChannelReadComplete()
    }

    private func receiveRequest(_ frame: Frame, now: NIODeadline, context: ChannelHandlerContext) {
        let streamID = frame.header.streamID
        let envelope: ReceivedRequest.Envelope
        var handler: RPCRouter.Handler?
        var payload: [UInt8] = []
        do {
            (envelope, handler, payload) = try frame.data.withUnsafeReadableBytes { bytes throws(ProtoDecodingError) in
                let request = try RequestEnvelope(bytes)
                let reader = WireReader(bytes)
                let service = reader.slice(request.service)
                let method = reader.slice(request.method)
                let found = settings.routes.route(service: service, method: method)
                let route: ReceivedRequest.Route
                switch found?.handler {
                case .unary?: route = .unary
                case .serverStreaming?: route = .serverStreaming
                case nil: route = settings.routes.hasService(service) ? .unknownMethod : .unknownService
                }
                let descriptor = found?.descriptor
                    ?? MethodDescriptor(service: reader.string(request.service), method: reader.string(request.method))
                let envelope = ReceivedRequest.Envelope.decoded(
                    method: descriptor, metadata: Metadata(request.metadata), timeoutNano: request.timeoutNano, route: route
                )
                return (envelope, found?.handler, reader.bytes(request.payload))
            }
        } catch {
            envelope = .undecodable("\(error)")
        }
        let received = ReceivedRequest(streamID: streamID, flags: frame.header.flags, envelope: envelope)
        switch machine.requestReceived(received, now: now) {
        case .none:
            break
        case .reject(let streamID, let error):
            writeError(streamID: streamID, error)
        case .start(let admitted, let deadline):
            guard let handler, case .decoded(let method, let metadata, _, _) = envelope else { return }
            start(
                handler, payload: payload, method: method, metadata: metadata, admitted: admitted,
                deadline: deadline, context: context
            )
        }
    }

    // MARK: Running calls

    private func start(
        _ handler: RPCRouter.Handler, payload: [UInt8], method: MethodDescriptor, metadata: Metadata,
        admitted: AdmittedRequest, deadline: NIODeadline?, context: ChannelHandlerContext
    ) {
        requestCounter &+= 1
        let streamID = admitted.streamID
        let timeoutNano = admitted.timeoutNano
        let serverContext = ServerContext(
            method: method, metadata: metadata,
            deadline: timeoutNano > 0 ? ContinuousClock.now + .nanoseconds(timeoutNano) : nil,
            remotePeer: remotePeer, connectionID: connectionID, callNumber: requestCounter,
            logger: settings.logger, principal: admitted.principal
        )

        let loop = context.eventLoop
        let bound = NIOLoopBound(self, eventLoop: loop)
        var call = CallHandle(task: nil, timeout: nil)
        if let deadline {
            call.timeout = loop.assumeIsolated().scheduleTask(deadline: deadline) {
                self.expire(streamID: streamID, timeoutNano: timeoutNano)
            }
        }
        // Registered before its handler starts: a unary handler runs at once, here, and may
        // answer before `spawnUnary` returns.
        machine.callStarted(streamID, streaming: admitted.streaming, handle: call)
        let task: Task<Void, Never>
        switch handler {
        case .unary(let run):
            task = Self.spawnUnary(
                run, payload: payload, context: serverContext, streamID: streamID,
                executor: executor!, handler: bound
            )
        case .serverStreaming(let run):
            task = Self.spawnStreaming(
                run, payload: payload, context: serverContext, streamID: streamID,
                executor: executor!, handler: bound
            )
        }
        machine.updateHandle(streamID) { $0.task = task }
    }

    /// Runs a unary handler in a task that starts at once, on this thread, inside the read that
    /// brought its request (`Task.immediate`), and resumes on the connection's event loop after
    /// it suspends. A handler that never suspends (a health check, a rejected argument) answers
    /// within the read, batched with the read's other answers, without a job on the loop or a
    /// wake-up; one that awaits (the engine, the store) costs no extra hop before it does.
    private static func spawnUnary(
        _ run: @escaping @Sendable ([UInt8], ServerContext) async throws -> [UInt8],
        payload: [UInt8], context: ServerContext, streamID: UInt32,
        executor: EventLoopTaskExecutor, handler: NIOLoopBound<ServerConnectionHandler>
    ) -> Task<Void, Never> {
        Task.immediate(executorPreference: executor) {
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
        guard case .answer(let call, let close) = machine.callReturned(streamID) else { return }  // expired or cancelled
        call.timeout?.cancel()
        switch outcome {
        case .success(let payload):
            write { $0.writeResponseFrame(streamID: streamID, payload: payload, error: nil) }
        case .failure(let error):
            logger.debug("call failed", metadata: ["stream": "\(streamID)", "code": "\(error.code)"])
            write { $0.writeResponseFrame(streamID: streamID, payload: [], error: error) }
        }
        if close { closeDrained() }
    }

    private func finishStream(streamID: UInt32, error: RPCError?) {
        guard case .answer(let call, let close) = machine.callReturned(streamID) else { return }
        call.timeout?.cancel()
        resumeWaiters(of: streamID, with: RPCError(code: .cancelled, message: "the stream has ended"))
        if let error {
            write { $0.writeResponseFrame(streamID: streamID, payload: [], error: error) }
        } else {
            write {
                $0.writeFrameHeader(FrameHeader(length: 0, streamID: streamID, type: .data, flags: [.remoteClosed, .noData]))
            }
        }
        if close { closeDrained() }
    }

    /// Performs the early end of a call: answers its error and cancels the handler's task.
    private func end(_ ended: ServerConnectionStateMachine<CallHandle>.EndedCall, close: Bool) {
        ended.handle.timeout?.cancel()
        ended.handle.task?.cancel()
        resumeWaiters(of: ended.streamID, with: RPCError(code: .cancelled, message: ended.error.message))
        writeError(streamID: ended.streamID, ended.error)
        if close { closeDrained() }
    }

    private func expire(streamID: UInt32, timeoutNano: Int64) {
        guard let (ended, close) = machine.deadlineExpired(streamID, timeout: .nanoseconds(timeoutNano)) else { return }
        end(ended, close: close)
    }

    // MARK: Streams

    /// Writes one message of a streaming call; resumes `continuation` once the connection can
    /// take more (at once when it is writable).
    fileprivate func writeStreamData(streamID: UInt32, payload: [UInt8], continuation: CheckedContinuation<Void, any Error>) {
        guard machine.isCallOpen(streamID), let context else {
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

    /// Appends a frame to the outbound batch; it is flushed at the end of the read burst or of
    /// the event loop tick, or at once when many answers wait: one socket write for many.
    private func write(_ encode: (inout ByteBuffer) -> Void) {
        guard let context else { return }
        switch batch.append(encode) {
        case .later:
            break
        case .now:
            flushNow()
        case .onNextTick:
            context.eventLoop.assumeIsolated().execute {
                self.batch.tickFired()
                self.flushNow()
            }
        }
    }

    private func flushNow() {
        guard let context else { return }
        if let frames = batch.take() {
            context.write(wrapOutboundOut(frames), promise: nil)
        }
        context.flush()
    }

    // MARK: Timers

    private func armIdleTimer(at deadline: NIODeadline, context: ChannelHandlerContext) {
        idleTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.idleTimerFired()
        }
    }

    private func idleTimerFired() {
        guard let context else { return }
        switch machine.idleTimerFired(now: clock.now()) {
        case .none:
            idleTimer = nil
        case .schedule(let deadline):
            armIdleTimer(at: deadline, context: context)
        case .close:
            idleTimer = nil
            logger.debug("closing an idle connection")
            context.close(promise: nil)
        }
    }

    private func frameTimerFired() {
        frameTimer = nil
        guard let context, let error = machine.frameTimerFired(now: clock.now()) else { return }
        logger.debug("closing connection", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    private func cancelTimers() {
        idleTimer?.cancel()
        idleTimer = nil
        frameTimer?.cancel()
        frameTimer = nil
    }

    // MARK: Lifecycle

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            let (ended, close) = machine.quiesceRequested()
            for call in ended { end(call, close: false) }
            if close { closeDrained() }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// Closes a quiesced connection whose last call has been answered, with the answer sent.
    private func closeDrained() {
        guard let context else { return }
        flushNow()
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimers()
        // The client left: cancel what it was waiting for; nothing is answered.
        let calls = machine.channelInactive()
        for (call, _) in calls {
            call.timeout?.cancel()
            call.task?.cancel()
        }
        if !calls.isEmpty {
            logger.debug("connection closed with calls in flight", metadata: ["calls": "\(calls.count)"])
        }
        let cancelled = RPCError(code: .cancelled, message: "the connection closed")
        let waiters = writabilityWaiters
        writabilityWaiters.removeAll()
        for (_, continuation) in waiters { continuation.resume(throwing: cancelled) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A framing violation or a socket error: this connection ends, the server goes on.
        guard machine.errorCaught() else { return }
        logger.debug("closing connection", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    /// Active calls, for tests.
    var activeCalls: Int { machine.callsInFlight }
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
