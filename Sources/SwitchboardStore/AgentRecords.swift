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

    static func page<T>(_ rows: [Row], size: Int, _ make: (Row) throws -> T) throws -> Page<T> {
        let items = try rows.prefix(size).map(make)
        let more = rows.count > size
        let last: String? = rows.prefix(size).last?[0]
        return Page(items: items, nextToken: more ? PageToken.encode(after: last ?? "") : "")
    }
}
