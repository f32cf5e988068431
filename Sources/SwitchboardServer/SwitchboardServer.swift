public import Logging
public import SwitchboardRPC
import SwitchboardServices
import SwitchboardStore
public import ServiceLifecycle

/// Runs `body` every `interval` until the task is cancelled or a graceful shutdown begins; either
/// ends it normally.
func runPeriodically(every interval: Duration, _ body: @escaping @Sendable () async -> Void) async throws {
    do {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                await body()
            }
        }
    } catch is CancellationError {
        return
    }
}

/// Assembles Switchboard's services into an RPC server.
public enum SwitchboardServer {
    /// The server's version.
    public static let version = "0.1.0"

    /// The services a Switchboard server hosts, wired to `server`'s lifecycle; with `keys`, every
    /// call is checked against them (see ``SwitchboardAuthenticator``). Every call acts in one of
    /// `tenants`.
    public static func makeServer(
        configuration: RPCServer.Configuration,
        tenants: TenantRegistry,
        logger: Logger,
        keys: APIKeyRing? = nil,
        extraServices: [any RegistrableRPCService] = []
    ) -> RPCServer {
        var configuration = configuration
        if let keys {
            configuration.authenticator = SwitchboardAuthenticator(keys: keys)
        }
        let health = HealthService(
            version: version,
            services: [Health.name, SettingsService.name, AgentService.name, SessionService.name, TenantService.name]
        )
        let services: [any RegistrableRPCService] = [
            health,
            SettingsServiceImplementation(tenants: tenants),
            AgentServiceImplementation(tenants: tenants),
            SessionServiceImplementation(tenants: tenants),
            TenantServiceImplementation(tenants: tenants, keys: keys),
        ]
        let server = RPCServer(configuration: configuration, services: services + extraServices, logger: logger)
        server.onShutdown { health.setServing(false) }
        return server
    }

    /// The services of a running Switchboard, in the order a `ServiceGroup` runs them: what the RPC
    /// server needs first, the RPC server last.
    ///
    /// A service group shuts its services down in reverse order, so the RPC server is the first to
    /// stop: it stops accepting and lets the calls in flight drain while the tenants' timers and
    /// the key refresher those calls may rely on still run (as Hummingbird's `Application` puts
    /// its HTTP server last).
    public static func services(
        server: RPCServer, tenants: TenantRegistry, keys: APIKeyRing, logger: Logger
    ) -> [any Service] {
        [
            TenantSweeper(registry: tenants),
            APIKeyRefresher(store: tenants.catalog, keys: keys, logger: logger),
            server,
        ]
    }
}
