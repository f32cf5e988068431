public import Logging
public import SwitchboardRPC
import SwitchboardServices
public import SwitchboardStore
public import ServiceLifecycle

/// Fires the engine's due timers (offers, user timeouts, queue messages) at a steady tick.
public struct TimerDriver: Service {
    private let engine: SwitchboardEngine
    private let tick: Duration

    /// Creates a driver firing at every `tick`.
    public init(engine: SwitchboardEngine, tick: Duration = .milliseconds(200)) {
        self.engine = engine
        self.tick = tick
    }

    /// Runs until cancelled or a graceful shutdown; either ends it normally.
    public func run() async throws {
        try await runPeriodically(every: tick) { await engine.fireDueTimers() }
    }
}

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
    /// call is checked against them (see ``SwitchboardAuthenticator``).
    public static func makeServer(
        configuration: RPCServer.Configuration,
        engine: SwitchboardEngine,
        store: SwitchboardStore,
        logger: Logger,
        keys: APIKeyRing? = nil,
        extraServices: [any RegistrableRPCService] = []
    ) -> RPCServer {
        var configuration = configuration
        if let keys {
            configuration.authenticator = SwitchboardAuthenticator(keys: keys)
        }
        let health = HealthService(
            version: version, services: [Health.name, SettingsService.name, AgentService.name, SessionService.name]
        )
        let services: [any RegistrableRPCService] = [
            health,
            SettingsServiceImplementation(engine: engine),
            AgentServiceImplementation(engine: engine, store: store),
            SessionServiceImplementation(engine: engine, store: store),
        ]
        let server = RPCServer(configuration: configuration, services: services + extraServices, logger: logger)
        server.onShutdown { health.setServing(false) }
        return server
    }

    /// The services of a running Switchboard, in the order a `ServiceGroup` runs them: what the RPC
    /// server needs first, the RPC server last.
    ///
    /// A service group shuts its services down in reverse order, so the RPC server is the first to
    /// stop: it stops accepting and lets the calls in flight drain while the timers and the key
    /// refresher those calls may rely on still run (as Hummingbird's `Application` puts its HTTP
    /// server last).
    public static func services(
        server: RPCServer, engine: SwitchboardEngine, store: SwitchboardStore, keys: APIKeyRing, logger: Logger
    ) -> [any Service] {
        [
            TimerDriver(engine: engine),
            APIKeyRefresher(store: store, keys: keys, logger: logger),
            server,
        ]
    }
}
