import NIOCore
import NIOPosix
public import SwitchboardRPC
public import SwitchboardProto

/// A byte-level ttrpc connection for tests: sends any bytes, receives decoded frames.
public final class RawConnection: Sendable {
    private let channel: any Channel
    private let frames: AsyncThrowingStream<Frame, any Error>
    private let iterator: IteratorBox

    private final class IteratorBox: @unchecked Sendable {
        // Unchecked: only the test's single task iterates.
        var iterator: AsyncThrowingStream<Frame, any Error>.AsyncIterator
        init(_ iterator: AsyncThrowingStream<Frame, any Error>.AsyncIterator) { self.iterator = iterator }
    }

    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = InboundFrame
        let continuation: AsyncThrowingStream<Frame, any Error>.Continuation
        init(_ continuation: AsyncThrowingStream<Frame, any Error>.Continuation) { self.continuation = continuation }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if case .frame(let frame) = unwrapInboundIn(data) { continuation.yield(frame) }
        }
        func channelInactive(context: ChannelHandlerContext) { continuation.finish() }
        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            continuation.finish(throwing: error)
            context.close(promise: nil)
        }
    }

    private init(channel: any Channel, frames: AsyncThrowingStream<Frame, any Error>) {
        self.channel = channel
        self.frames = frames
        self.iterator = IteratorBox(frames.makeAsyncIterator())
    }

    static func connect(port: Int) async throws -> RawConnection {
        let (frames, continuation) = AsyncThrowingStream<Frame, any Error>.makeStream()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(FrameDecoder(maximumDataLength: 16 << 20)),
                        Collector(continuation)
                    )
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        return RawConnection(channel: channel, frames: frames)
    }

    /// Sends raw bytes.
    public func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    /// Sends a request frame for `method` with `payload` (already encoded).
    public func sendRequest(
        streamID: UInt32, service: String, method: String, payload: [UInt8],
        flags: FrameFlags = [], timeoutNano: Int64 = 0
    ) async throws {
        let envelope = Ttrpc_Request(service: service, method: method, payload: payload, timeoutNano: timeoutNano)
        try await send(Self.frame(streamID: streamID, type: .request, flags: flags, data: try envelope.serializedBytes()))
    }

    /// The bytes of a frame.
    public static func frame(streamID: UInt32, type: FrameType, flags: FrameFlags = [], data: [UInt8]) -> [UInt8] {
        var buffer = ByteBuffer()
        buffer.writeFrameHeader(FrameHeader(length: UInt32(data.count), streamID: streamID, type: type, flags: flags))
        buffer.writeBytes(data)
        return Array(buffer.readableBytesView)
    }

    /// The next frame, or `nil` once the server closed the connection.
    public func nextFrame() async throws -> Frame? {
        try await iterator.iterator.next()
    }

    /// The next frame, decoded as a response: its stream and status.
    public func nextResponse() async throws -> (streamID: UInt32, status: Google_Rpc_Status, payload: [UInt8])? {
        guard let frame = try await nextFrame() else { return nil }
        precondition(frame.header.type == .response, "expected a response frame, got \(frame.header.type)")
        let response = try Ttrpc_Response(buffer: frame.data)
        return (frame.header.streamID, response.status ?? .init(), response.payload)
    }

    /// Waits until the server closes the connection, skipping frames.
    public func waitUntilClosed() async throws {
        while try await nextFrame() != nil {}
    }

    /// Closes the connection.
    public func close() async {
        try? await channel.close()
    }
}
