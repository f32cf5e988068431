import GRDB
public import SwitchboardCore

extension AgentProfile.Status {
    /// The stored code of a status; never renumbered.
    var storedCode: Int {
        switch self {
        case .offline: 0
        case .online: 1
        case .onBreak: 2
        }
    }

    init(storedCode: Int) throws {
        switch storedCode {
        case 0: self = .offline
        case 1: self = .online
        case 2: self = .onBreak
        default: throw SwitchboardError(.internal, "stored agent status \(storedCode) is unknown")
        }
    }
}

extension SwitchboardStore {
    private static let agentColumns = "id, display_name, max_sessions, status, status_changed_at, created_at"

    /// Reads one agent row and its groups.
    static func agent(from row: Row, db: Database) throws -> AgentProfile {
        let id: String = row[0]
        let groups = try String.fetchAll(
            db.cachedStatement(sql: "SELECT group_id FROM group_members WHERE agent_id = ? ORDER BY group_id"),
            arguments: [id]
        )
        return AgentProfile(
            id: id, displayName: row[1], maxSessions: row[2], status: try AgentProfile.Status(storedCode: row[3]),
            groupIDs: groups, statusChangedAt: Timestamp(milliseconds: row[4]), createdAt: Timestamp(milliseconds: row[5])
        )
    }

    static func fetchAgent(_ db: Database, id: String) throws -> AgentProfile {
        let statement = try db.cachedStatement(sql: "SELECT \(agentColumns) FROM agents WHERE id = ?")
        guard let row = try Row.fetchOne(statement, arguments: [id]) else {
            throw SwitchboardError(.notFound, "agent '\(id)' not found")
        }
        return try agent(from: row, db: db)
    }

    /// Creates an agent, `OFFLINE`.
    ///
    /// - Throws: `ALREADY_EXISTS` when the id is taken.
    public func createAgent(id: String, displayName: String, maxSessions: Int?) async throws(SwitchboardError) -> AgentProfile {
        let now = clock.now()
        return try await write { db in
            if try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM agents WHERE id = ?"), arguments: [id]) == true {
                throw SwitchboardError(.alreadyExists, "agent '\(id)' already exists")
            }
            try db.cachedStatement(sql: "INSERT INTO agents (\(Self.agentColumns)) VALUES (?, ?, ?, ?, ?, ?)")
                .execute(arguments: [id, displayName, maxSessions, AgentProfile.Status.offline.storedCode, now.milliseconds, now.milliseconds])
            return AgentProfile(
                id: id, displayName: displayName, maxSessions: maxSessions, status: .offline, groupIDs: [],
                statusChangedAt: now, createdAt: now
            )
        }
    }

    /// A change to an agent's profile: `nil` leaves a field as it is.
    public struct AgentChange: Sendable {
        /// A new display name.
        public var displayName: String?
        /// A new personal limit: `.some(nil)` drops it.
        public var maxSessions: Int??

        /// Creates a change.
        public init(displayName: String? = nil, maxSessions: Int?? = nil) {
            self.displayName = displayName
            self.maxSessions = maxSessions
        }
    }

    /// Changes an agent's display name and/or personal limit.
    public func updateAgent(id: String, _ change: AgentChange) async throws(SwitchboardError) -> AgentProfile {
        try await write { db in
            var agent = try Self.fetchAgent(db, id: id)
            if let name = change.displayName { agent.displayName = name }
            if let limit = change.maxSessions { agent.maxSessions = limit }
            try db.cachedStatement(sql: "UPDATE agents SET display_name = ?, max_sessions = ? WHERE id = ?")
                .execute(arguments: [agent.displayName, agent.maxSessions, id])
            return agent
        }
    }

    /// Sets an agent's status; the change time moves only when the status changes.
    public func setAgentStatus(id: String, _ status: AgentProfile.Status) async throws(SwitchboardError) -> AgentProfile {
        let now = clock.now()
        return try await write { db in
            var agent = try Self.fetchAgent(db, id: id)
            guard agent.status != status else { return agent }
            try db.cachedStatement(sql: "UPDATE agents SET status = ?, status_changed_at = ? WHERE id = ?")
                .execute(arguments: [status.storedCode, now.milliseconds, id])
            agent.status = status
            agent.statusChangedAt = now
            return agent
        }
    }

    /// An agent.
    public func agent(id: String) async throws(SwitchboardError) -> AgentProfile {
        try await read { db in try Self.fetchAgent(db, id: id) }
    }

    /// A page of agents, by id.
    public func agents(_ page: PageRequest) async throws(SwitchboardError) -> Page<AgentProfile> {
        try await read { db in
            let rows = try Row.fetchAll(
                db.cachedStatement(sql: "SELECT \(Self.agentColumns) FROM agents WHERE id > ? ORDER BY id LIMIT ?"),
                arguments: [page.after ?? "", page.size + 1]
            )
            return try Self.page(rows, size: page.size) { row in try Self.agent(from: row, db: db) }
        }
    }

    /// Deletes an agent and its memberships.
    public func deleteAgent(id: String) async throws(SwitchboardError) {
        _ = try await write { db in
            try db.cachedStatement(sql: "DELETE FROM agents WHERE id = ?").execute(arguments: [id])
            guard db.changesCount == 1 else { throw SwitchboardError(.notFound, "agent '\(id)' not found") }
            return true
        }
    }

    static func page<T>(_ rows: [Row], size: Int, _ make: (Row) throws -> T) throws -> Page<T> {
        let items = try rows.prefix(size).map(make)
        let more = rows.count > size
        let last: String? = rows.prefix(size).last?[0]
        return Page(items: items, nextToken: more ? PageToken.encode(after: last ?? "") : "")
    }
}
