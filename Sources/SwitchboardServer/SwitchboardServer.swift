public import Logging
public import SwitchboardRPC
import SwitchboardServices
public import SwitchboardStore

/// Assembles Switchboard's services into an RPC server.
public enum SwitchboardServer {
    /// The server's version.
    public static let version = "0.1.0"

    /// The services a Switchboard server hosts, wired to `server`'s lifecycle.
    public static func makeServer(
        configuration: RPCServer.Configuration,
        store: SwitchboardStore,
        logger: Logger,
        extraServices: [any RegistrableRPCService] = []
    ) -> RPCServer {
        let health = HealthService(version: version, services: [Health.name, SettingsService.name, AgentService.name])
        let services: [any RegistrableRPCService] = [
            health,
            SettingsServiceImplementation(store: store),
            AgentServiceImplementation(store: store),
        ]
        let server = RPCServer(configuration: configuration, services: services + extraServices, logger: logger)
        server.onShutdown { health.setServing(false) }
        return server
    }
}
