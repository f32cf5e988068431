import NIOCore
import SwitchboardProto

/// Tracks the calls of one client connection, on its event loop: assigns stream ids in the order
/// frames are written (odd, increasing), matches answers to calls, enforces client-side deadlines
/// and fails every call in flight with `UNAVAILABLE` when the connection drops.
final class ClientConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = InboundFrame
    typealias OutboundOut = ByteBuffer

    private enum Pending {
        case unary(CheckedContinuation<[UInt8], any Error>, Scheduled<Void>?)
        case stream(AsyncThrowingStream<[UInt8], any Error>.Continuation, Scheduled<Void>?)

        var timeout: Scheduled<Void>? {
            switch self {
            case .unary(_, let timeout), .stream(_, let timeout): timeout
            }
        }

        func fail(_ error: RPCError) {
            timeout?.cancel()
            switch self {
            case .unary(let continuation, _): continuation.resume(throwing: error)
            case .stream(let continuation, _): continuation.finish(throwing: error)
            }
        }
    }

    private var pending: [UInt32: Pending] = [:]
    private var nextStreamID: UInt32 = 1
    private var context: ChannelHandlerContext?
    private var batch = OutboundBatch(allocator: ByteBufferAllocator())
    private var closedError: RPCError?
    private let peer: String

    init(peer: String) {
        self.peer = peer
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.batch = OutboundBatch(allocator: context.channel.allocator)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    // MARK: Starting calls

    /// Writes a unary request; `frame` is a request frame whose stream id is filled in here.
    func startUnary(
        _ frame: ByteBuffer, token: NIOLoopBoundBox<UInt32?>, timeout: Duration?,
        continuation: CheckedContinuation<[UInt8], any Error>
    ) {
        guard let streamID = assignStreamID(token) else {
            continuation.resume(throwing: unavailable())
            return
        }
        pending[streamID] = .unary(continuation, scheduleTimeout(timeout, streamID))
        write(frame, streamID: streamID)
    }

    /// Writes a server-streaming request; messages and the end go to `continuation`.
    func startStream(
        _ frame: ByteBuffer, token: NIOLoopBoundBox<UInt32?>, timeout: Duration?,
        continuation: AsyncThrowingStream<[UInt8], any Error>.Continuation
    ) {
        guard let streamID = assignStreamID(token) else {
            continuation.finish(throwing: unavailable())
            return
        }
        pending[streamID] = .stream(continuation, scheduleTimeout(timeout, streamID))
        write(frame, streamID: streamID)
    }

    /// Gives up on a call (its task was cancelled, or its stream's consumer left).
    func cancel(token: NIOLoopBoundBox<UInt32?>) {
        guard let streamID = token.value, let call = pending.removeValue(forKey: streamID) else { return }
        call.fail(RPCError(code: .cancelled, message: "the call was cancelled"))
        if case .stream = call {
            // Tell the server to stop the stream (Switchboard's extension of ttrpc: an empty data
            // frame flagged `no data` alone); servers without it ignore the frame.
            var frame = ByteBuffer()
            frame.writeFrameHeader(FrameHeader(length: 0, streamID: streamID, type: .data, flags: [.noData]))
            write(frame, streamID: streamID)
        }
    }

    private func assignStreamID(_ token: NIOLoopBoundBox<UInt32?>) -> UInt32? {
        guard context != nil, closedError == nil else { return nil }
        guard nextStreamID < UInt32.max - 1 else {
            // Ids are spent: finish what is in flight on a new connection.
            closedError = RPCError(code: .unavailable, message: "stream ids of the connection to \(peer) are exhausted")
            context?.close(promise: nil)
            return nil
        }
        let streamID = nextStreamID
        nextStreamID += 2
        token.value = streamID
        return streamID
    }

    private func scheduleTimeout(_ timeout: Duration?, _ streamID: UInt32) -> Scheduled<Void>? {
        guard let timeout, let context else { return nil }
        return context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(timeout.nanoseconds))) {
            guard let call = self.pending.removeValue(forKey: streamID) else { return }
            call.fail(RPCError(code: .deadlineExceeded, message: "deadline of \(timeout) exceeded"))
        }
    }

    /// Appends `frame` with its stream id to the outbound batch, flushed once per event loop
    /// tick (or at once when many frames wait): one socket write for many calls.
    private func write(_ frame: ByteBuffer, streamID: UInt32) {
        guard let context else { return }
        let flush = batch.append { buffer in
            let start = buffer.writerIndex
            buffer.writeImmutableBuffer(frame)
            buffer.setInteger(streamID, at: start + 4)
        }
        switch flush {
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

    private func unavailable() -> RPCError {
        closedError ?? RPCError(code: .unavailable, message: "the connection to \(peer) is closed")
    }

    // MARK: Answers

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        batch.readStarted()
        switch unwrapInboundIn(data) {
        case .frame(let frame):
            let streamID = frame.header.streamID
            switch frame.header.type {
            case .response:
                guard let call = pending.removeValue(forKey: streamID) else { return }
                call.timeout?.cancel()
                let response: Ttrpc_Response
                do {
                    response = try Ttrpc_Response(buffer: frame.data)
                } catch {
                    call.fail(RPCError(code: .internal, message: "invalid response envelope from \(peer): \(error)", cause: error))
                    return
                }
                switch call {
                case .unary(let continuation, _):
                    if let error = RPCError(status: response.status) {
                        continuation.resume(throwing: error)
                    } else {
                        continuation.resume(returning: response.payload)
                    }
                case .stream(let continuation, _):
                    if let error = RPCError(status: response.status) {
                        continuation.finish(throwing: error)
                    } else {
                        // A final response may carry one last message (allowed by ttrpc).
                        if !response.payload.isEmpty { continuation.yield(response.payload) }
                        continuation.finish()
                    }
                }
            case .data:
                guard case .stream(let continuation, let timeout)? = pending[streamID] else { return }
                if !frame.header.flags.contains(.noData) {
                    continuation.yield(Array(frame.data.readableBytesView))
                }
                if frame.header.flags.contains(.remoteClosed) {
                    pending[streamID] = nil
                    timeout?.cancel()
                    continuation.finish()
                }
            default:
                break
            }
        case .oversized(let header):
            guard let call = pending.removeValue(forKey: header.streamID) else { return }
            call.fail(RPCError(code: .resourceExhausted, message: "answer of \(header.length) bytes exceeds the client's limit"))
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if batch.readCompleted() { flushNow() }
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        let error = unavailable()
        closedError = error
        let calls = pending
        pending.removeAll()
        for (_, call) in calls { call.fail(error) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        closedError = RPCError(code: .unavailable, message: "the connection to \(peer) failed: \(error)", cause: error)
        context.close(promise: nil)
    }
}
