/// A human agent as the domain sees it.
public struct AgentProfile: Sendable, Hashable {
    /// An agent's availability.
    public enum Status: Sendable, Hashable, CaseIterable {
        /// Not working: receives no sessions.
        case offline
        /// Receives new sessions up to its capacity.
        case online
        /// A short break: keeps its sessions, receives no new ones.
        case onBreak
    }

    /// The caller-chosen id.
    public var id: String
    /// The name users and desks see.
    public var displayName: String
    /// The agent's own limit of sessions at once; `nil` uses the settings' default.
    public var maxSessions: Int?
    /// The current status.
    public var status: Status
    /// The groups the agent belongs to, by id, sorted.
    public var groupIDs: [String]
    /// When the status last changed.
    public var statusChangedAt: Timestamp
    /// When the agent was created.
    public var createdAt: Timestamp

    /// Creates an agent profile.
    public init(
        id: String, displayName: String, maxSessions: Int?, status: Status, groupIDs: [String],
        statusChangedAt: Timestamp, createdAt: Timestamp
    ) {
        self.id = id
        self.displayName = displayName
        self.maxSessions = maxSessions
        self.status = status
        self.groupIDs = groupIDs
        self.statusChangedAt = statusChangedAt
        self.createdAt = createdAt
    }
}

/// A skill group.
public struct AgentGroup: Sendable, Hashable {
    /// The caller-chosen id.
    public var id: String
    /// The name users see in the group menu.
    public var name: String
    /// How many agents belong to it.
    public var memberCount: Int
    /// When it was created.
    public var createdAt: Timestamp

    /// Creates a group.
    public init(id: String, name: String, memberCount: Int, createdAt: Timestamp) {
        self.id = id
        self.name = name
        self.memberCount = memberCount
        self.createdAt = createdAt
    }
}

/// The rules for ids, names and limits of agents and groups.
public enum AgentRules {
    /// The longest id, in bytes (ids are ASCII: bytes are characters).
    public static var maximumIDLength: Int { TextLimits.id.maximumBytes }
    /// The longest display or group name, in characters (see ``TextLimits/name`` for its bytes).
    public static var maximumNameLength: Int { TextLimits.name.maximumCharacters! }
    /// The range of a personal session limit.
    public static let sessionLimitRange = 1...1000

    /// Checks an agent, group or user id: 1 to 128 bytes of ASCII letters, digits and `._:@-`.
    public static func validateID(_ id: String, field: String) throws(SwitchboardError) {
        guard !id.isEmpty else { throw .invalid(field, "must not be empty") }
        try TextLimits.id.check(id, field: field)
        for byte in id.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"),
                UInt8(ascii: "@"), UInt8(ascii: "-"):
                continue
            default:
                throw .invalid(field, "may hold only letters, digits and ._:@- (got \(quoted(id)))")
            }
        }
    }

    /// Checks a display or group name: 1 to 200 characters and at most 800 bytes, not blank, no
    /// control characters.
    public static func validateName(_ name: String, field: String) throws(SwitchboardError) {
        try TextLimits.name.check(name, field: field)
        guard !name.allSatisfy(\.isWhitespace) else { throw .invalid(field, "must not be empty or blank") }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .invalid(field, "must not hold control characters")
        }
    }

    /// Checks a personal session limit.
    public static func validateSessionLimit(_ limit: Int, field: String) throws(SwitchboardError) {
        guard sessionLimitRange.contains(limit) else {
            throw .invalid(field, "must be between \(sessionLimitRange.lowerBound) and \(sessionLimitRange.upperBound), got \(limit)")
        }
    }

    static func quoted(_ text: String) -> String {
        let shown = text.count > 40 ? String(text.prefix(40)) + "…" : text
        return "'\(shown)'"
    }
}
