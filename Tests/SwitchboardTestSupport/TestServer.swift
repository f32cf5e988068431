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
    /// The `default` tenant's engine, to fire timers after moving a manual clock.
    public let engine: SwitchboardEngine
    /// The server's tenants (each awake one's engine: `try await tenants.awake(id).engine`).
    public let tenants: TenantRegistry

    /// A new client connection to the server.
    public func makeClient(token: String? = nil, tenant: String? = nil, configuration: RPCConnection.Configuration = .init()) -> SwitchboardClient {
        var configuration = configuration
        if let tenant { configuration.metadata.add(TenantRules.metadataKey, tenant) }
        return SwitchboardClient(host: "127.0.0.1", port: port, token: token, configuration: configuration)
    }

    /// A new raw ttrpc connection to the server, for byte-level tests.
    public func makeRawConnection() async throws -> RawConnection {
        try await RawConnection.connect(port: port)
    }
}

/// Runs `body` against a server (on a free port unless `configuration` names one) hosting Switchboard's services plus `extraServices` (by default
/// the echo service), and shuts the server down gracefully afterwards, on success and failure alike.
///
/// The store is a private in-memory database unless `database` names a file (to test restarts);
/// with `SWITCHBOARD_TEST_STORE=postgres`, a private PostgreSQL database instead (one per name,
/// see ``TestStores``).
/// Timers fire only when the test calls `engine.fireDueTimers()` (after moving a ManualClock).
public func withTestServer<Result: Sendable>(
    configuration: RPCServer.Configuration = .init(host: "127.0.0.1", port: 0),
    database: String? = nil,
    clock: any WallClock = SystemWallClock(),
    hook: (any AllocationHook)? = nil,
    keys: APIKeyRing? = nil,
    extraServices: [any RegistrableRPCService] = [EchoService()],
    monotonic: @escaping @Sendable () -> UInt64 = TenantRegistry.uptimeNanoseconds,
    tenantIdleAfter: Duration = .seconds(300),
    _ body: (TestServer) async throws -> Result
) async throws -> Result {
    var logger = Logger(label: "switchboard.test")
    logger.logLevel = .critical
    let backend = try await TestStores.open(database, clock: clock, logger: logger)
    let store = backend.catalog
    let tenants = try await TenantRegistry(
        backend: backend, hook: { _ in hook }, clock: clock,
        monotonic: monotonic, idleAfter: tenantIdleAfter, tick: nil, logger: logger
    )
    let engine = try await tenants.awake(TenantRules.defaultID).engine
    let server = SwitchboardServer.makeServer(
        configuration: configuration, tenants: tenants, logger: logger, keys: keys,
        extraServices: extraServices
    )
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.run() }
        do {
            let address = try await server.listeningAddress
            let result = try await body(TestServer(server: server, port: address.port!, engine: engine, tenants: tenants))
            server.beginGracefulShutdown()
            try await group.waitForAll()
            await tenants.stopAll()
            store.close()
            await backend.shutdown()
            return result
        } catch {
            server.beginGracefulShutdown()
            group.cancelAll()
            try? await group.waitForAll()
            await tenants.stopAll()
            store.close()
            await backend.shutdown()
            throw error
        }
    }
}

