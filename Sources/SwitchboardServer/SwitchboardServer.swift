public import Logging
public import SwitchboardRPC
import SwitchboardServices

/// Assembles Switchboard's services into an RPC server.
public enum SwitchboardServer {
    /// The server's version.
    public static let version = "0.1.0"

    /// The services a Switchboard server hosts, wired to `server`'s lifecycle.
    public static func makeServer(
        configuration: RPCServer.Configuration,
        logger: Logger,
        extraServices: [any RegistrableRPCService] = []
    ) -> RPCServer {
        let health = HealthService(version: version, services: [Health.name])
        let server = RPCServer(configuration: configuration, services: [health] + extraServices, logger: logger)
        server.onShutdown { health.setServing(false) }
        return server
    }
}
