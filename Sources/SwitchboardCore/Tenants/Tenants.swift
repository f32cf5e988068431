/// What a tenant may use at most; 0 is no limit.
public struct TenantQuotas: Sendable, Hashable {
    /// Agents defined at once.
    public var maxAgents: Int
    /// Sessions not yet CLOSED at once.
    public var maxOpenSessions: Int
    /// Calls per second over all of the tenant's callers (bursts of up to one second's worth).
    public var maxCallsPerSecond: Int
    /// Event streams open at once.
    public var maxWatchers: Int

    /// No limits.
    public static let unlimited = TenantQuotas()

    /// Creates quotas; 0 is no limit.
    public init(maxAgents: Int = 0, maxOpenSessions: Int = 0, maxCallsPerSecond: Int = 0, maxWatchers: Int = 0) {
        self.maxAgents = maxAgents
        self.maxOpenSessions = maxOpenSessions
        self.maxCallsPerSecond = maxCallsPerSecond
        self.maxWatchers = maxWatchers
    }

    /// The largest value a quota may take.
    public static let maximum = 100_000_000

    /// Checks every quota is between 0 and ``maximum``.
    public func validate(field: String = "quotas") throws(SwitchboardError) {
        for (name, value) in [
            ("max_agents", maxAgents), ("max_open_sessions", maxOpenSessions), ("max_calls_per_second", maxCallsPerSecond),
            ("max_watchers", maxWatchers),
        ] where !(0...Self.maximum).contains(value) {
            throw SwitchboardError.invalid("\(field).\(name)", "must be between 0 (no limit) and \(Self.maximum), got \(value)")
        }
    }

    /// `RESOURCE_EXHAUSTED` when `current` is already at quota `name`'s `limit` (0: none), so one
    /// more would pass it.
    static func check(_ name: String, limit: Int, current: Int, tenant: String?) throws(SwitchboardError) {
        guard limit > 0, current >= limit else { return }
        let whose = tenant.map { "tenant '\($0)'" } ?? "this tenant"
        throw SwitchboardError(.resourceExhausted, "quota \(name) of \(whose) reached: \(limit) at most, \(current) in use")
    }
}

/// A tenant: a customer of the server, owning its settings, agents, groups, sessions, events and
/// API keys. Nothing is shared between tenants.
public struct TenantRecord: Sendable, Hashable {
    public var id: String
    public var displayName: String
    public var quotas: TenantQuotas
    public var createdAt: Timestamp

    public init(id: String, displayName: String, quotas: TenantQuotas = .unlimited, createdAt: Timestamp) {
        self.id = id
        self.displayName = displayName
        self.quotas = quotas
        self.createdAt = createdAt
    }
}

/// The rules of tenant ids and names, and which tenant a call acts in.
public enum TenantRules {
    /// The tenant every server has: databases made before tenants, and calls that name none.
    public static let defaultID = "default"

    /// The metadata key a caller names its tenant with.
    public static let metadataKey = "switchboard-tenant"

    /// An id: 1 to 63 bytes of lowercase ASCII letters, digits and `-`, starting with a letter or
    /// a digit (it names the tenant's database file).
    public static func validateID(_ id: String, field: String = "id") throws(SwitchboardError) {
        guard !id.isEmpty else { throw .invalid(field, "must not be empty") }
        let bytes = Array(id.utf8)
        guard bytes.count <= 63 else { throw .invalid(field, "must be at most 63 bytes, got \(bytes.count)") }
        func isAlphanumeric(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        guard isAlphanumeric(bytes[0]), bytes.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "-") }) else {
            throw .invalid(field, "must be lowercase letters, digits and '-', starting with a letter or a digit, got '\(id)'")
        }
    }

    /// A display name: 1 to 200 characters, not blank, no control characters.
    public static func validateName(_ name: String, field: String = "display_name") throws(SwitchboardError) {
        try AgentRules.validateName(name, field: field)
    }

    /// The tenant a call acts in.
    ///
    /// - Parameters:
    ///   - requested: the `switchboard-tenant` metadata, if sent.
    ///   - role: the caller's key's role; `nil` on a server without keys.
    ///   - keyTenant: the tenant the caller's key belongs to (`nil` for `operator` keys).
    /// - Returns: a key's own tenant (the metadata may only repeat it); for an `operator` key or
    ///   without keys, the requested tenant or `default`.
    /// - Throws: `PERMISSION_DENIED` when a tenant's key names another tenant; `INVALID_ARGUMENT`
    ///   when the metadata is not a tenant id.
    public static func tenant(requested: String?, role: APIRole?, keyTenant: String?) throws(SwitchboardError) -> String {
        let requested = requested.flatMap { $0.isEmpty ? nil : $0 }
        if let requested { try validateID(requested, field: "metadata '\(metadataKey)'") }
        if let role, role != .operator {
            guard let keyTenant else {
                throw SwitchboardError(.permissionDenied, "this \(role.rawValue) key belongs to no tenant")
            }
            if let requested, requested != keyTenant {
                throw SwitchboardError(
                    .permissionDenied, "metadata '\(metadataKey)': this key belongs to tenant '\(keyTenant)', not '\(requested)'"
                )
            }
            return keyTenant
        }
        return requested ?? defaultID
    }
}

/// A tenant's calls-per-second quota: a token bucket holding up to one second's worth of calls,
/// refilled continuously, with the count of calls of the last whole second for the usage report.
/// Time is passed in (monotonic nanoseconds), so it is tested without waiting.
public struct CallRateLimiter: Sendable {
    /// Calls per second allowed; 0 is no limit.
    public private(set) var rate: Int
    private var tokens: Double
    private var refilledAt: UInt64
    private var windowStart: UInt64 = 0
    private var inWindow = 0
    private var lastWindow = 0

    /// Creates a limiter of `rate` calls per second (0: no limit), full.
    public init(rate: Int, now: UInt64) {
        self.rate = rate
        self.tokens = Double(rate)
        self.refilledAt = now
        self.windowStart = now
    }

    /// Changes the rate; the bucket keeps what it holds, up to the new size (full, when there was
    /// no limit before).
    public mutating func setRate(_ rate: Int, now: UInt64) {
        refill(now: now)
        tokens = self.rate == 0 ? Double(rate) : min(tokens, Double(rate))
        self.rate = rate
    }

    /// Counts a call; false when the quota is used up (the call must be refused).
    public mutating func admit(now: UInt64) -> Bool {
        roll(now: now)
        if rate > 0 {
            refill(now: now)
            guard tokens >= 1 else { return false }
            tokens -= 1
        }
        inWindow += 1
        return true
    }

    /// Calls admitted in the last whole second.
    public mutating func callsLastSecond(now: UInt64) -> Int {
        roll(now: now)
        return lastWindow
    }

    private mutating func refill(now: UInt64) {
        guard now > refilledAt else { return }
        tokens = min(Double(rate), tokens + Double(now - refilledAt) * Double(rate) / 1e9)
        refilledAt = now
    }

    private mutating func roll(now: UInt64) {
        guard now >= windowStart + 1_000_000_000 else { return }
        let windows = (now - windowStart) / 1_000_000_000
        lastWindow = windows == 1 ? inWindow : 0
        inWindow = 0
        windowStart += windows * 1_000_000_000
    }
}
