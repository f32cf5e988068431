import SwitchboardAddress
import SwitchboardRPC
import SwitchboardTestSupport
import SwitchboardTesting
import Testing

@Suite("Connection failures")
struct ConnectionFailureTests {
    @Test("a refused connection is UNAVAILABLE with a readable message and a ConnectionFailure cause")
    func refused() async throws {
        let port = try await unusedPort()
        let connection = RPCConnection(target: HostAndPort(host: "127.0.0.1", port: port))
        defer { Task { await connection.close() } }
        let error = await #expect(throws: RPCError.self) {
            _ = try await TestingEchoService.Client(connection: connection).echo(TestingEchoRequest(text: "x"))
        }
        #expect(error?.code == .unavailable)
        #expect(error?.message == "cannot connect to 127.0.0.1:\(port): connection refused")
        #expect(error?.description == "UNAVAILABLE: cannot connect to 127.0.0.1:\(port): connection refused")
        let failure = try #require(error?.cause as? ConnectionFailure)
        #expect(failure.target == HostAndPort(host: "127.0.0.1", port: port))
        #expect(failure.reason == "connection refused")
    }

    @Test("an unknown host name says it cannot be resolved")
    func unknownHost() async throws {
        let connection = RPCConnection(target: HostAndPort(host: "no-such-host.invalid", port: 7420))
        defer { Task { await connection.close() } }
        let error = await #expect(throws: RPCError.self) {
            _ = try await TestingEchoService.Client(connection: connection).echo(TestingEchoRequest(text: "x"))
        }
        #expect(error?.code == .unavailable)
        #expect(error?.message == "cannot connect to no-such-host.invalid:7420: cannot resolve the host name")
    }
}
