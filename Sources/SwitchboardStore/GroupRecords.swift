import GRDB
public import SwitchboardCore

extension SwitchboardStore {
    private static let groupSelect = """
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

    /// Creates a group.
    ///
    /// - Throws: `ALREADY_EXISTS` when the id is taken.
    public func createGroup(id: String, name: String) async throws(SwitchboardError) -> AgentGroup {
        let now = clock.now()
        return try await write { db in
            if try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM groups WHERE id = ?"), arguments: [id]) == true {
                throw SwitchboardError(.alreadyExists, "group '\(id)' already exists")
            }
            try db.cachedStatement(sql: "INSERT INTO groups (id, name, created_at) VALUES (?, ?, ?)")
                .execute(arguments: [id, name, now.milliseconds])
            return AgentGroup(id: id, name: name, memberCount: 0, createdAt: now)
        }
    }

    /// Renames a group.
    public func renameGroup(id: String, name: String) async throws(SwitchboardError) -> AgentGroup {
        try await write { db in
            try db.cachedStatement(sql: "UPDATE groups SET name = ? WHERE id = ?").execute(arguments: [name, id])
            guard db.changesCount == 1 else { throw SwitchboardError(.notFound, "group '\(id)' not found") }
            return try Self.fetchGroup(db, id: id)
        }
    }

    /// A group.
    public func group(id: String) async throws(SwitchboardError) -> AgentGroup {
        try await read { db in try Self.fetchGroup(db, id: id) }
    }

    /// Deletes a group; its agents stay.
    public func deleteGroup(id: String) async throws(SwitchboardError) {
        _ = try await write { db in
            try db.cachedStatement(sql: "DELETE FROM groups WHERE id = ?").execute(arguments: [id])
            guard db.changesCount == 1 else { throw SwitchboardError(.notFound, "group '\(id)' not found") }
            return true
        }
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

    /// Adds an agent to a group.
    ///
    /// - Throws: `NOT_FOUND` for a missing group or agent, `ALREADY_EXISTS` when it is a member.
    public func addMember(groupID: String, agentID: String) async throws(SwitchboardError) -> AgentGroup {
        try await write { db in
            _ = try Self.fetchGroup(db, id: groupID)
            _ = try Self.fetchAgent(db, id: agentID)
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO group_members (group_id, agent_id) VALUES (?, ?)")
                .execute(arguments: [groupID, agentID])
            guard db.changesCount == 1 else {
                throw SwitchboardError(.alreadyExists, "agent '\(agentID)' is already a member of group '\(groupID)'")
            }
            return try Self.fetchGroup(db, id: groupID)
        }
    }

    /// Removes an agent from a group.
    ///
    /// - Throws: `NOT_FOUND` for a missing group, agent or membership.
    public func removeMember(groupID: String, agentID: String) async throws(SwitchboardError) -> AgentGroup {
        try await write { db in
            _ = try Self.fetchGroup(db, id: groupID)
            _ = try Self.fetchAgent(db, id: agentID)
            try db.cachedStatement(sql: "DELETE FROM group_members WHERE group_id = ? AND agent_id = ?")
                .execute(arguments: [groupID, agentID])
            guard db.changesCount == 1 else {
                throw SwitchboardError(.notFound, "agent '\(agentID)' is not a member of group '\(groupID)'")
            }
            return try Self.fetchGroup(db, id: groupID)
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
