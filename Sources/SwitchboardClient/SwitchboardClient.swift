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
/// With `tenant:`, every call acts in that tenant (see ``tenantMetadataKey``).
public struct SwitchboardClient: Sendable {
    /// The connection every service client shares.
    public let connection: RPCConnection

    /// The metadata key that names the tenant a call acts in: `switchboard-tenant: <tenant id>`.
    ///
    /// Without it, a call acts in the tenant of its API key, or in `default`.
    public static let tenantMetadataKey = "switchboard-tenant"

    /// Creates a client of the server at `host:port`; with `token` (an API key), every call carries
    /// `authorization: Bearer <token>`, and with `tenant` (a tenant id), `switchboard-tenant: <tenant>`.
    public init(
        host: String = "127.0.0.1", port: Int = 7420, token: String? = nil, tenant: String? = nil,
        configuration: RPCConnection.Configuration = .init()
    ) {
        var configuration = configuration
        if let token {
            configuration.metadata.addBearerToken(token)
        }
        if let tenant {
            configuration.metadata[Self.tenantMetadataKey] = tenant
        }
        self.connection = RPCConnection(host: host, port: port, configuration: configuration)
    }

    /// Creates a client of the server at `target`; with `token` (an API key), every call carries
    /// `authorization: Bearer <token>`, and with `tenant` (a tenant id), `switchboard-tenant: <tenant>`.
    public init(
        target: HostAndPort, token: String? = nil, tenant: String? = nil, configuration: RPCConnection.Configuration = .init()
    ) {
        self.init(host: target.host, port: target.port, token: token, tenant: tenant, configuration: configuration)
    }

    /// Creates a client over an existing connection.
    public init(connection: RPCConnection) {
        self.connection = connection
    }

    /// The tenant every call names (`switchboard-tenant` metadata), or `nil` when calls name none.
    public var tenant: String? { connection.configuration.metadata.first(Self.tenantMetadataKey) }

    /// Whether `id` is a well-formed tenant id: 1 to 63 bytes of lowercase ASCII letters, digits
    /// and `-`, starting with a letter or a digit.
    ///
    /// A well-formed id may still name no tenant; the server answers `NOT_FOUND` then.
    public static func isValidTenantID(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        guard (1...63).contains(bytes.count), bytes[0] != UInt8(ascii: "-") else { return false }
        return bytes.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "-")
        }
    }

    /// `switchboard.v1.Health`.
    public var health: Health.Client { Health.Client(connection: connection) }

    /// `switchboard.v1.SettingsService`.
    public var settings: SettingsService.Client { SettingsService.Client(connection: connection) }

    /// `switchboard.v1.AgentService`.
    public var agents: AgentService.Client { AgentService.Client(connection: connection) }

    /// `switchboard.v1.SessionService`.
    public var sessions: SessionService.Client { SessionService.Client(connection: connection) }

    /// `switchboard.v1.TenantService` (for `operator` keys, or on a server without keys).
    public var tenants: TenantService.Client { TenantService.Client(connection: connection) }

    /// Closes the connection.
    public func close() async {
        await connection.close()
    }
}
