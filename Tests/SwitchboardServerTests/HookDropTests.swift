import NIOCore
import NIOPosix
import Synchronization
import SwitchboardClient
import SwitchboardServer
import SwitchboardTestSupport
import Testing

/// A hook that drops its first connection in the middle of the first call, then answers.
private final class DroppingHookHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = InboundFrame
    typealias OutboundOut = ByteBuffer

    /// 1 for the first connection the hook accepted, 2 for the second...
    let connection: Int

    init(number: Int) {
        self.connection = number
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .frame(let frame) = unwrapInboundIn(data), frame.header.type == .request else { return }
        if connection == 1 {
            context.close(promise: nil)  // dropped mid-call
            return
        }
        let answer = HookAllocateResponse(decision: .agents(HookAgentList(agentIDs: ["bob"])))
        let response = Ttrpc_Response(status: Google_Rpc_Status(), payload: try! answer.serializedBytes())
        let body = try! response.serializedBytes()
        var buffer = context.channel.allocator.buffer(capacity: 10 + body.count)
        buffer.writeFrameHeader(FrameHeader(length: UInt32(body.count), streamID: frame.header.streamID, type: .response, flags: []))
        buffer.writeBytes(body)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }
}

private final class ConnectionCounter: Sendable {
    let value = Atomic(0)
}

@Suite("Hook retry on a dropped connection")
struct HookDropTests {
    @Test("a connection dropped in the middle of a call is retried once on a new connection")
    func retryAfterDrop() async throws {
        let counter = ConnectionCounter()
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                let number = counter.value.add(1, ordering: .relaxed).newValue
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(FrameDecoder(maximumDataLength: 1 << 20)),
                        DroppingHookHandler(number: number)
                    )
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let hook = NetworkAllocationHook()
        do {
            try await withScenario(hook: hook) { scenario in
                try await scenario.useHook(port: server.localAddress!.port!)
                try await scenario.agentsOnline("ann", "bob")
                let session = try await scenario.ask("u1", [:])
                #expect(session.agentID == "bob", "the retried call's answer was used")
            }
        } catch {
            try? await server.close()
            throw error
        }
        try await server.close()
        #expect(counter.value.load(ordering: .relaxed) == 2)
        #expect(hook.statistics.calls == 2 && hook.statistics.answers == 1 && hook.statistics.failures == 0)
    }
}
