import Logging
import NIOCore
import NIOEmbedded
import SwitchboardProto
import SwitchboardTestSupport
import Testing

@testable import SwitchboardRPC

/// The embedded loop's virtual time, injected as the connection's clock.
private struct EmbeddedLoopClock: ConnectionClock, @unchecked Sendable {
    let loop: EmbeddedEventLoop
    func now() -> NIODeadline { loop.now }
}

/// A server connection on an `EmbeddedChannel`, with virtual time: no socket, no sleeping.
private struct Connection {
    let channel = EmbeddedChannel()

    init(
        maximumDataLength: Int = 1024, idleTimeout: TimeAmount? = nil, frameTimeout: TimeAmount? = nil,
        router: RPCRouter = RPCRouter()
    ) throws {
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let settings = ServerConnectionHandler.Settings(
            router: router, maximumDataLength: maximumDataLength, logger: Logger(label: "test")
        )
        try ServerConnectionHandler.install(
            on: channel, settings: settings, connectionID: "t", idleTimeout: idleTimeout,
            frameTimeout: frameTimeout, clock: EmbeddedLoopClock(loop: channel.embeddedEventLoop)
        )
    }

    /// A request for a service the router does not know: answered at once, without a task.
    static func request(_ streamID: UInt32) throws -> [UInt8] {
        let envelope = Ttrpc_Request(service: "test.v1.Missing", method: "Call", payload: [], timeoutNano: 0)
        return RawConnection.frame(streamID: streamID, type: .request, data: try envelope.serializedBytes())
    }

    func send(_ bytes: some Sequence<UInt8>) throws {
        try channel.writeInbound(ByteBuffer(bytes: Array(bytes)))
    }

    /// A request for `test.v1.Echo/Call`, which the router of ``immediateRouter`` answers.
    static func echoRequest(_ streamID: UInt32) throws -> [UInt8] {
        let envelope = Ttrpc_Request(service: "test.v1.Echo", method: "Call", payload: try HealthCheckRequest().serializedBytes())
        return RawConnection.frame(streamID: streamID, type: .request, data: try envelope.serializedBytes())
    }

    /// A router whose `test.v1.Echo/Call` answers without suspending.
    static var immediateRouter: RPCRouter {
        var router = RPCRouter()
        router.registerUnary(MethodDescriptor(service: "test.v1.Echo", method: "Call")) { (_: HealthCheckRequest, _) in
            HealthCheckResponse(status: .serving, serverVersion: "test")
        }
        return router
    }

    /// The socket writes made so far.
    func writes() throws -> Int {
        var count = 0
        while try channel.readOutbound(as: ByteBuffer.self) != nil { count += 1 }
        return count
    }

    /// The answers written so far: stream id and status code of each response frame.
    func answers() throws -> [(UInt32, Int32)] {
        var bytes = ByteBuffer()
        while var chunk = try channel.readOutbound(as: ByteBuffer.self) { bytes.writeBuffer(&chunk) }
        var decoder = FrameDecoder(maximumDataLength: 1 << 20)
        var answers: [(UInt32, Int32)] = []
        while case .frame(let frame)? = try decoder.decode(buffer: &bytes) {
            let response = try Ttrpc_Response(buffer: frame.data)
            answers.append((frame.header.streamID, response.status?.code ?? 0))
        }
        return answers
    }

    var isOpen: Bool { channel.isActive }

    func advance(by amount: TimeAmount) {
        channel.embeddedEventLoop.advanceTime(by: amount)
    }
}

@Suite("Server connection handler")
struct ServerConnectionHandlerTests {
    @Test("a 10-minute idle timeout closes the connection in virtual time; reads put it off")
    func idle() throws {
        let connection = try Connection(idleTimeout: .minutes(10))
        connection.advance(by: .minutes(9))
        try connection.send(try Connection.request(1))
        #expect(try connection.answers().map(\.0) == [1])
        connection.advance(by: .minutes(9))
        #expect(connection.isOpen)
        connection.advance(by: .minutes(1))
        #expect(!connection.isOpen)
    }

    @Test("a frame not whole within the frame timeout closes the connection; whole frames arm nothing")
    func slowFrame() throws {
        let connection = try Connection(frameTimeout: .seconds(10))
        let whole = try Connection.request(1)
        try connection.send(whole)
        connection.advance(by: .seconds(60))
        #expect(connection.isOpen)
        let next = try Connection.request(3)
        try connection.send(next.prefix(4))
        connection.advance(by: .seconds(6))
        try connection.send(next[4..<8])
        connection.advance(by: .seconds(3))
        #expect(connection.isOpen)
        connection.advance(by: .seconds(1))
        #expect(!connection.isOpen)
    }

    @Test("frames split anywhere, or many in one read, are each answered once, in order")
    func splitFrames() throws {
        let connection = try Connection()
        let bytes = try [1, 3, 5].flatMap { try Connection.request($0) }
        for byte in bytes { try connection.send([byte]) }
        #expect(try connection.answers().map(\.0) == [1, 3, 5])
        try connection.send(try [7, 9, 11].flatMap { try Connection.request($0) })
        let answers = try connection.answers()
        #expect(answers.map(\.0) == [7, 9, 11])
        #expect(answers.allSatisfy { $0.1 == 12 })  // UNIMPLEMENTED
    }

    @Test("a handler that does not suspend answers within the read that brought it; a read's answers go in one write")
    func immediateAnswers() throws {
        let connection = try Connection(router: Connection.immediateRouter)
        // No loop tick, no task job: the answers are written when the read completes.
        try connection.send(try [1, 3, 5].flatMap { try Connection.echoRequest($0) })
        #expect(try connection.answers().map { $0.0 } == [1, 3, 5])
        try connection.send(try [7, 9].flatMap { try Connection.echoRequest($0) })
        #expect(try connection.writes() == 1)
        // Later reads are served the same way.
        try connection.send(try Connection.echoRequest(11))
        #expect(try connection.answers().map { $0.1 } == [0])
    }

    @Test("an oversized request is skipped across reads and answered RESOURCE_EXHAUSTED; the next is served")
    func oversized() throws {
        let connection = try Connection(maximumDataLength: 16, frameTimeout: .seconds(10))
        let big = RawConnection.frame(streamID: 1, type: .request, data: Array(repeating: 7, count: 100))
        try connection.send(big.prefix(50))
        #expect(try connection.answers().map(\.1) == [8])
        connection.advance(by: .seconds(5))
        try connection.send(big.dropFirst(50) + (try Connection.request(3)))
        #expect(try connection.answers().map(\.0) == [3])
        connection.advance(by: .seconds(60))
        #expect(connection.isOpen)
    }

    @Test("a reserved byte set closes the connection")
    func reservedByte() throws {
        let connection = try Connection()
        try connection.send([1, 0, 0, 0, 0, 0, 0, 1, 1, 0])
        #expect(!connection.isOpen)
    }

    @Test("quiescing a connection without calls closes it")
    func quiesce() throws {
        let connection = try Connection()
        connection.channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(!connection.isOpen)
    }
}
