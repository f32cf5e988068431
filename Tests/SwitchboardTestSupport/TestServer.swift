import Logging
import NIOCore
import NIOPosix
public import SwitchboardClient
public import SwitchboardRPC
public import SwitchboardServer
public import SwitchboardTesting
import SwitchboardStore
public import SwitchboardCore

/// A Switchboard RPC server on `127.0.0.1:<free port>` for one test.
public struct TestServer: Sendable {
    /// The server.
    public let server: RPCServer
    /// Its port.
    public let port: Int
    /// The engine, to fire timers after moving a manual clock.
    public let engine: SwitchboardEngine

    /// A new client connection to the server.
    public func makeClient(token: String? = nil, configuration: RPCConnection.Configuration = .init()) -> SwitchboardClient {
        SwitchboardClient(host: "127.0.0.1", port: port, token: token, configuration: configuration)
    }

    /// A new raw ttrpc connection to the server, for byte-level tests.
    public func makeRawConnection() async throws -> RawConnection {
        try await RawConnection.connect(port: port)
    }
}

/// Runs `body` against a server (on a free port unless `configuration` names one) hosting Switchboard's services plus `extraServices` (by default
/// the echo service), and shuts the server down gracefully afterwards, on success and failure alike.
///
/// The store is a private in-memory database unless `database` names a file (to test restarts).
/// Timers fire only when the test calls `engine.fireDueTimers()` (after moving a ManualClock).
public func withTestServer<Result: Sendable>(
    configuration: RPCServer.Configuration = .init(host: "127.0.0.1", port: 0),
    database: String? = nil,
    clock: any WallClock = SystemWallClock(),
    hook: (any AllocationHook)? = nil,
    keys: APIKeyRing? = nil,
    extraServices: [any RegistrableRPCService] = [EchoService()],
    _ body: (TestServer) async throws -> Result
) async throws -> Result {
    var logger = Logger(label: "switchboard.test")
    logger.logLevel = .critical
    let store = try SwitchboardStore(location: database.map { .file($0) } ?? .inMemory, clock: clock)
    let engine = try await SwitchboardEngine(store: store, clock: clock, hook: hook, logger: logger)
    let server = SwitchboardServer.makeServer(
        configuration: configuration, engine: engine, store: store, logger: logger, keys: keys,
        extraServices: extraServices
    )
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.run() }
        do {
            let address = try await server.listeningAddress
            let result = try await body(TestServer(server: server, port: address.port!, engine: engine))
            server.beginGracefulShutdown()
            try await group.waitForAll()
            store.close()
            return result
        } catch {
            server.beginGracefulShutdown()
            group.cancelAll()
            try? await group.waitForAll()
            store.close()
            throw error
        }
    }
}
