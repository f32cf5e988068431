@_exported public import SwitchboardAddress
@_exported public import SwitchboardProto
@_exported public import SwitchboardRPC
@_exported public import SwitchboardServices

/// A client of a Switchboard server: one connection, and a typed client per service.
///
/// ```swift
/// let client = SwitchboardClient(host: "127.0.0.1", port: 7420)
/// let health = try await client.health.check(HealthCheckRequest())
/// ```
/// Calls throw `RPCError`; the connection is made by the first call and made again after it drops.
public struct SwitchboardClient: Sendable {
    /// The connection every service client shares.
    public let connection: RPCConnection

    /// Creates a client of the server at `host:port`; with `token` (an API key), every call carries
    /// `authorization: Bearer <token>`.
    public init(
        host: String = "127.0.0.1", port: Int = 7420, token: String? = nil,
        configuration: RPCConnection.Configuration = .init()
    ) {
        var configuration = configuration
        if let token {
            configuration.metadata.addBearerToken(token)
        }
        self.connection = RPCConnection(host: host, port: port, configuration: configuration)
    }

    /// Creates a client of the server at `target`; with `token` (an API key), every call carries
    /// `authorization: Bearer <token>`.
    public init(target: HostAndPort, token: String? = nil, configuration: RPCConnection.Configuration = .init()) {
        self.init(host: target.host, port: target.port, token: token, configuration: configuration)
    }

    /// Creates a client over an existing connection.
    public init(connection: RPCConnection) {
        self.connection = connection
    }

    /// `switchboard.v1.Health`.
    public var health: Health.Client { Health.Client(connection: connection) }

    /// `switchboard.v1.SettingsService`.
    public var settings: SettingsService.Client { SettingsService.Client(connection: connection) }

    /// `switchboard.v1.AgentService`.
    public var agents: AgentService.Client { AgentService.Client(connection: connection) }

    /// `switchboard.v1.SessionService`.
    public var sessions: SessionService.Client { SessionService.Client(connection: connection) }

    /// Closes the connection.
    public func close() async {
        await connection.close()
    }
}
