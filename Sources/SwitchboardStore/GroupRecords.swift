import GRDB
public import SwitchboardCore

extension SwitchboardStore {
    static let groupSelect = """
        SELECT g.id, g.name, g.created_at, (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id)
        FROM groups g
        """

    static func group(from row: Row) -> AgentGroup {
        AgentGroup(id: row[0], name: row[1], memberCount: row[3], createdAt: Timestamp(milliseconds: row[2]))
    }

    static func fetchGroup(_ db: Database, id: String) throws -> AgentGroup {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: groupSelect + " WHERE g.id = ?"), arguments: [id]) else {
            throw SwitchboardError(.notFound, "group '\(id)' not found")
        }
        return group(from: row)
    }

    /// A group.
    public func group(id: String) async throws(SwitchboardError) -> AgentGroup {
        try await read { db in try Self.fetchGroup(db, id: id) }
    }

    /// A page of groups, by id.
    public func groups(_ page: PageRequest) async throws(SwitchboardError) -> Page<AgentGroup> {
        try await read { db in
            let rows = try Row.fetchAll(
                db.cachedStatement(sql: Self.groupSelect + " WHERE g.id > ? ORDER BY g.id LIMIT ?"),
                arguments: [page.after ?? "", page.size + 1]
            )
            return try Self.page(rows, size: page.size, Self.group(from:))
        }
    }

    /// A page of a group's agents, by id.
    public func groupAgents(groupID: String, _ page: PageRequest) async throws(SwitchboardError) -> Page<AgentProfile> {
        try await read { db in
            _ = try Self.fetchGroup(db, id: groupID)
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT a.id, a.display_name, a.max_sessions, a.status, a.status_changed_at, a.created_at
                        FROM group_members m JOIN agents a ON a.id = m.agent_id
                        WHERE m.group_id = ? AND a.id > ? ORDER BY a.id LIMIT ?
                        """
                ),
                arguments: [groupID, page.after ?? "", page.size + 1]
            )
            return try Self.page(rows, size: page.size) { row in try Self.agent(from: row, db: db) }
        }
    }
}
