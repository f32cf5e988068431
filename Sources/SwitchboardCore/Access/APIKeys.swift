/// What an API key lets its holder do.
public enum APIRole: String, Sendable, Hashable, CaseIterable, Codable {
    /// A tenant's administrators: every method of the tenant (settings, agents, groups, and the
    /// calls of the other roles).
    case admin
    /// The user gateway: `SessionService`, for any session.
    case gateway
    /// An agent desk acting for one agent: that agent's `AgentService` calls only.
    case agent
    /// The server's operators: `TenantService`, and an admin's every call in any tenant (named in
    /// metadata `switchboard-tenant`). An operator key belongs to no tenant.
    case `operator`
}

/// A stored API key: its public id, role, binding and the hash of its secret (never the secret).
public struct APIKeyRecord: Sendable, Hashable {
    /// The public part of the key (12 lowercase hex digits), shown in listings and logs.
    public var id: String
    /// The role the key grants.
    public var role: APIRole
    /// For an `agent` key, the agent it acts for.
    public var agentID: String?
    /// SHA-256 of the secret part.
    public var secretHash: [UInt8]
    /// A note for operators ("gateway eu-1").
    public var description: String
    /// When it was created.
    public var createdAt: Timestamp
    /// When it was revoked; a revoked key authenticates no one.
    public var revokedAt: Timestamp?
    /// The tenant whose calls the key makes; `nil` for an `operator` key (any tenant).
    public var tenantID: String?

    /// Creates a record.
    public init(
        id: String, role: APIRole, agentID: String?, secretHash: [UInt8], description: String,
        createdAt: Timestamp, revokedAt: Timestamp? = nil, tenantID: String? = TenantRules.defaultID
    ) {
        self.tenantID = role == .operator ? nil : tenantID
        self.id = id
        self.role = role
        self.agentID = agentID
        self.secretHash = secretHash
        self.description = description
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// The text form of an API key: `sbk_<id>_<secret>`, with a 12-hex-digit id and a 64-hex-digit
/// (256-bit) secret. The id finds the stored record; only the secret's hash is stored.
public struct APIKeyToken: Sendable, Hashable {
    /// The prefix every key starts with (so that leaked keys are easy to scan for).
    public static let prefix = "sbk_"
    static let idLength = 12
    static let secretLength = 64

    /// The public id.
    public var id: String
    /// The secret, in hex.
    public var secret: String

    /// Creates a token from its parts.
    public init(id: String, secret: String) {
        self.id = id
        self.secret = secret
    }

    /// Parses `sbk_<id>_<secret>`; `nil` when the text is not of that form.
    public init?(_ text: some StringProtocol) {
        let utf8 = Array(text.utf8)
        let prefix = Array(Self.prefix.utf8)
        guard utf8.count == prefix.count + Self.idLength + 1 + Self.secretLength,
              utf8.starts(with: prefix),
              utf8[prefix.count + Self.idLength] == UInt8(ascii: "_")
        else { return nil }
        let id = utf8[prefix.count..<(prefix.count + Self.idLength)]
        let secret = utf8[(prefix.count + Self.idLength + 1)...]
        guard id.allSatisfy(Self.isLowerHex), secret.allSatisfy(Self.isLowerHex) else { return nil }
        self.id = String(decoding: id, as: UTF8.self)
        self.secret = String(decoding: secret, as: UTF8.self)
    }

    /// `sbk_<id>_<secret>`.
    public var text: String { Self.prefix + id + "_" + secret }

    static func isLowerHex(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }
}

/// Which roles may call which method, and which agent an `agent` key may act for.
///
/// `Health` is open to everyone (load balancers probe it without keys). Unknown services are
/// `admin`-only.
public enum AccessPolicy {
    /// What a role may do with a method.
    public enum Decision: Sendable, Hashable {
        /// Anyone, even without a key.
        case open
        /// Callers with one of these roles.
        case roles(Set<APIRole>)
    }

    /// The `AgentService` methods an agent desk calls for its own agent: the request names the
    /// agent (`agent_id`, or `id` for `GetAgent` and `SetAgentStatus`), which must be the key's.
    public static let agentMethods: Set<String> = [
        "GetAgent", "SetAgentStatus", "AcceptSession", "SendAgentMessage", "CloseSession",
        "TransferSession", "InviteRating", "ListAgentSessions", "WatchAgent",
    ]

    /// The `AgentService` methods any agent may call: reading groups (to pick a transfer target).
    public static let agentReadMethods: Set<String> = ["ListGroups", "GetGroup"]

    /// Who may call `service`/`method`. An `operator` may call everything an `admin` may (in any
    /// tenant), and alone `TenantService`.
    public static func decision(service: String, method: String) -> Decision {
        switch service {
        case "switchboard.v1.Health":
            return .open
        case "switchboard.v1.TenantService":
            return .roles([.operator])
        case "switchboard.v1.SessionService":
            return .roles([.admin, .operator, .gateway])
        case "switchboard.v1.AgentService" where agentMethods.contains(method) || agentReadMethods.contains(method):
            return .roles([.admin, .operator, .agent])
        default:
            return .roles([.admin, .operator])
        }
    }

    /// The agent a call acts for: the request's `agentID` checked against the caller's key.
    ///
    /// An `agent` key acts for its own agent: an empty `agentID` means that agent, any other is
    /// `PERMISSION_DENIED`. Other callers (and servers without keys) must name the agent.
    public static func actingAgent(
        requested agentID: String, role: APIRole?, boundAgent: String?, field: String
    ) throws(SwitchboardError) -> String {
        guard role == .agent else { return agentID }
        guard let boundAgent else {
            throw SwitchboardError(.permissionDenied, "this agent key is bound to no agent")
        }
        if agentID.isEmpty || agentID == boundAgent { return boundAgent }
        throw SwitchboardError(
            .permissionDenied, "field '\(field)': this key acts for agent '\(boundAgent)', not '\(agentID)'"
        )
    }
}
