import NIOCore
import NIOEmbedded
import SwitchboardClient
import SwitchboardProto
import SwitchboardRPC
import SwitchboardServices
import SwitchboardTestSupport
import SwitchboardTesting
import Testing

/// Collects the errors a pipeline fires.
private final class ErrorCollector: ChannelInboundHandler {
    typealias InboundIn = InboundFrame
    var frames = 0
    var errors: [any Error] = []
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { frames += 1 }
    func errorCaught(context: ChannelHandlerContext, error: any Error) { errors.append(error) }
}

@Suite("Limits")
struct LimitsTests {
    private static let echo = "switchboard.testing.v1.EchoService"

    @Test("a frame that does not arrive whole within the frame timeout is a framing error (virtual time)")
    func frameTimeoutDecoder() throws {
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let collector = ErrorCollector()
        try channel.pipeline.syncOperations.addHandlers(
            ByteToMessageHandler(FrameDecoder(maximumDataLength: 1024, frameTimeout: .seconds(10))), collector
        )
        let whole = RawConnection.frame(streamID: 1, type: .request, data: [1, 2, 3])
        // Whole frames arm nothing.
        try channel.writeInbound(ByteBuffer(bytes: whole))
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(collector.frames == 1 && collector.errors.isEmpty)
        // A frame's first bytes start its clock; more bytes of the same frame do not reset it.
        try channel.writeInbound(ByteBuffer(bytes: whole.prefix(4)))
        channel.embeddedEventLoop.advanceTime(by: .seconds(6))
        try channel.writeInbound(ByteBuffer(bytes: whole[4..<8]))
        channel.embeddedEventLoop.advanceTime(by: .seconds(3))
        #expect(collector.errors.isEmpty)
        // The rest arrives in time: no error, and the next frame's clock starts afresh.
        try channel.writeInbound(ByteBuffer(bytes: whole[8...] + whole.prefix(2)))
        #expect(collector.frames == 2)
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        #expect(collector.errors.isEmpty)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(collector.errors.count == 1)
        #expect("\(collector.errors.first!)".contains("did not arrive whole within 10000 ms"))
        _ = try? channel.finish()
    }

    @Test("a slow sender's connection is closed at the frame timeout; others are served")
    func slowSender() async throws {
        try await withTestServer(configuration: .init(host: "127.0.0.1", port: 0, frameTimeout: .milliseconds(200))) { server in
            let slow = try await server.makeRawConnection()
            try await slow.send([0, 0, 0])  // three bytes of a header, then nothing
            try await slow.waitUntilClosed()
            #expect(try await server.makeClient().health.check(HealthCheckRequest()).status == .serving)
        }
    }

    @Test("calls in flight on one connection are limited: RESOURCE_EXHAUSTED, the connection stays")
    func callsPerConnection() async throws {
        let probe = ProbeService()
        let configuration = RPCServer.Configuration(host: "127.0.0.1", port: 0, maximumCallsPerConnection: 2)
        try await withTestServer(configuration: configuration, extraServices: [probe]) { server in
            let raw = try await server.makeRawConnection()
            var events = probe.events.makeAsyncIterator()
            for (streamID, text) in [(UInt32(1), "block-1"), (3, "block-2")] {
                try await raw.sendRequest(streamID: streamID, service: Self.echo, method: "Echo",
                                          payload: try TestingEchoRequest(text: text).serializedBytes())
                #expect(await events.next() == .started(text))
            }
            try await raw.sendRequest(streamID: 5, service: Self.echo, method: "Echo",
                                      payload: try TestingEchoRequest(text: "third").serializedBytes())
            let refused = try #require(try await raw.nextResponse())
            #expect(refused.streamID == 5 && refused.status.code == 8)
            #expect(refused.status.message.contains("too many calls in flight on this connection (limit 2)"))
            probe.release("block-1")
            #expect(try await raw.nextResponse()?.streamID == 1)
            try await raw.sendRequest(streamID: 7, service: Self.echo, method: "Echo",
                                      payload: try TestingEchoRequest(text: "fourth").serializedBytes())
            let answered = try #require(try await raw.nextResponse())
            #expect(answered.streamID == 7 && answered.status.code == 0)
            probe.release("block-2")
            await raw.close()
        }
    }

    @Test("open streams are limited server-wide; a closed watcher gives its place back")
    func streams() async throws {
        let configuration = RPCServer.Configuration(host: "127.0.0.1", port: 0, maximumStreams: 2)
        try await withTestServer(configuration: configuration) { server in
            let watch = try HealthCheckRequest().serializedBytes()
            var watchers: [RawConnection] = []
            for _ in 0..<2 {
                let raw = try await server.makeRawConnection()
                try await raw.sendRequest(streamID: 1, service: "switchboard.v1.Health", method: "Watch", payload: watch, flags: .remoteClosed)
                #expect(try await raw.nextFrame()?.header.type == .data)  // the first status
                watchers.append(raw)
            }
            #expect(server.server.openStreams == 2)
            let third = try await server.makeRawConnection()
            try await third.sendRequest(streamID: 1, service: "switchboard.v1.Health", method: "Watch", payload: watch, flags: .remoteClosed)
            let refused = try #require(try await third.nextResponse())
            #expect(refused.status.code == 8 && refused.status.message.contains("too many streams open on the server (limit 2)"))
            // Unary calls are not streams.
            #expect(try await server.makeClient().health.check(HealthCheckRequest()).status == .serving)

            await watchers[0].close()
            #expect(try await eventually { server.server.openStreams == 1 })
            try await third.sendRequest(streamID: 3, service: "switchboard.v1.Health", method: "Watch", payload: watch, flags: .remoteClosed)
            #expect(try await third.nextFrame()?.header.type == .data)
            await third.close()
            await watchers[1].close()
            #expect(try await eventually { server.server.openStreams == 0 })
        }
    }

    @Test("a client that stops reading a stream ends it on the server, and its place is free again")
    func cancelledStream() async throws {
        let configuration = RPCServer.Configuration(host: "127.0.0.1", port: 0, maximumStreams: 1)
        try await withTestServer(configuration: configuration) { server in
            let client = server.makeClient()
            let (first, firstSeen) = AsyncStream<Void>.makeStream()
            let watcher = Task {
                for try await _ in client.health.watch(HealthCheckRequest()) {
                    firstSeen.yield()
                }
            }
            var seen = first.makeAsyncIterator()
            _ = await seen.next()
            #expect(server.server.openStreams == 1)
            watcher.cancel()
            #expect(try await eventually { server.server.openStreams == 0 })
            // The same connection opens the one stream allowed again.
            var again = client.health.watch(HealthCheckRequest()).makeAsyncIterator()
            let status = try await again.next()?.status
            #expect(status == .serving)
            #expect(server.server.openStreams == 1)
            await client.close()
        }
    }

    @Test("connections over the limit are closed as they are accepted; a freed place is taken again")
    func connections() async throws {
        let configuration = RPCServer.Configuration(host: "127.0.0.1", port: 0, maximumConnections: 2)
        try await withTestServer(configuration: configuration) { server in
            let check = try HealthCheckRequest().serializedBytes()
            var open: [RawConnection] = []
            for _ in 0..<2 {
                let raw = try await server.makeRawConnection()
                try await raw.sendRequest(streamID: 1, service: "switchboard.v1.Health", method: "Check", payload: check)
                #expect(try await raw.nextResponse()?.status.code == 0)
                open.append(raw)
            }
            let refused = try await server.makeRawConnection()
            try? await refused.sendRequest(streamID: 1, service: "switchboard.v1.Health", method: "Check", payload: check)
            // Closed without an answer (an end of stream, or a reset when our request was unread).
            #expect((try? await refused.nextFrame()) == nil)
            await open[0].close()
            let admitted = try await eventually {
                let raw = try await server.makeRawConnection()
                defer { Task { await raw.close() } }
                try? await raw.sendRequest(streamID: 1, service: "switchboard.v1.Health", method: "Check", payload: check)
                return (try? await raw.nextFrame()) != nil
            }
            #expect(admitted)
            // The connections that were let in are still served.
            try await open[1].sendRequest(streamID: 3, service: "switchboard.v1.Health", method: "Check", payload: check)
            #expect(try await open[1].nextResponse()?.status.code == 0)
            await open[1].close()
        }
    }

    @Test("an idle connection is closed; one with a stream open is not")
    func idle() async throws {
        // Real time: long enough that the watcher's first request, on a busy machine, arrives
        // before its connection counts as idle (with 150 ms it sometimes did not, and the server
        // rightly closed it). The handler's timers are also tested in virtual time.
        let timeout = Duration.seconds(1)
        let configuration = RPCServer.Configuration(host: "127.0.0.1", port: 0, idleTimeout: timeout)
        try await withTestServer(configuration: configuration) { server in
            let watcher = try await server.makeRawConnection()
            try await watcher.sendRequest(
                streamID: 1, service: "switchboard.v1.Health", method: "Watch",
                payload: try HealthCheckRequest().serializedBytes(), flags: .remoteClosed
            )
            #expect(try await watcher.nextFrame()?.header.type == .data)

            let started = ContinuousClock.now  // before the connection exists, so before its idle clock starts
            let idle = try await server.makeRawConnection()
            try await idle.waitUntilClosed()
            #expect(ContinuousClock.now - started >= timeout)

            // The watcher, silent for longer than the idle timeout, still has its stream.
            #expect(server.server.openStreams == 1)
            let check = try HealthCheckRequest().serializedBytes()
            try await watcher.sendRequest(streamID: 3, service: "switchboard.v1.Health", method: "Check", payload: check)
            #expect(try await watcher.nextResponse()?.status.code == 0)
            await watcher.close()
        }
    }
}
