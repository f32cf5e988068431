import GRDB
public import SwitchboardCore

/// `copy-data`'s side of the SQLite store: counts and a keyset-paged export of every table.
extension SQLiteStore {
    public func counts() async throws(SwitchboardError) -> StoreCounts {
        try await read { db in
            let sql = "SELECT " + StoreCounts.tables.map { "(SELECT count(*) FROM \($0))" }.joined(separator: ", ")
            guard let row = try Row.fetchOne(db, sql: sql) else { return StoreCounts() }
            return StoreCounts(inTableOrder: StoreCounts.tables.indices.map { row[$0] })
        }
    }

    public func export(pageSize: Int, _ receive: @Sendable ([StoreWrite]) async throws(SwitchboardError) -> Void) async throws(SwitchboardError) {
        if let settings = try await settings() { try await receive([.settings(settings)]) }
        // Agents (their state as the engine writes it), groups, then memberships: in that order
        // the memberships' references exist.
        try await pages(
            sql: AgentRow.selectPage, start: [""], pageSize: pageSize, receive,
            row: { db, row in try AgentRow(row: row) },
            next: { [$0.profile.id] },
            writes: { row in
                [
                    .insertAgent(row.profile),
                    .agentState(id: row.profile.id, status: row.profile.status, statusChangedAt: row.profile.statusChangedAt, lastAssignedAt: row.lastAssignedAt),
                ]
            }
        )
        try await pages(
            sql: GroupRow.selectSQL() + " WHERE id > ? ORDER BY id LIMIT ?", start: [""], pageSize: pageSize, receive,
            row: { _, row in try GroupRow(row: row) }, next: { [$0.id] },
            writes: { [.insertGroup($0.group(memberCount: 0))] }
        )
        try await pages(
            sql: GroupMemberRow.selectSQL() + " WHERE (group_id, agent_id) > (?, ?) ORDER BY group_id, agent_id LIMIT ?",
            start: ["", ""], pageSize: pageSize, receive,
            row: { _, row in try GroupMemberRow(row: row) }, next: { [$0.groupID, $0.agentID] },
            writes: { [.addMember(groupID: $0.groupID, agentID: $0.agentID)] }
        )
        try await pages(
            sql: SessionRow.selectColumns + " WHERE id > ? ORDER BY id LIMIT ?", start: [""], pageSize: pageSize, receive,
            row: { _, row in try SessionRow(row: row) }, next: { [$0.session.id] },
            writes: { [.session($0.session)] }
        )
        try await pages(
            sql: MessageRow.selectSQL() + " WHERE (session_id, sequence) > (?, ?) ORDER BY session_id, sequence LIMIT ?",
            start: ["", Int64.min], pageSize: pageSize, receive,
            row: { _, row in try MessageRow(row: row) }, next: { [$0.message.sessionID, $0.message.sequence] },
            writes: { [.message($0.message)] }
        )
        try await pages(
            sql: SessionEventRow.selectSQL() + " WHERE (session_id, sequence) > (?, ?) ORDER BY session_id, sequence LIMIT ?",
            start: ["", Int64.min], pageSize: pageSize, receive,
            row: { _, row in try SessionEventRow(row: row) }, next: { [$0.sessionID, $0.event.sequence] },
            writes: { [.event(.session($0.sessionID), $0.event)] }
        )
        try await pages(
            sql: AgentEventRow.selectSQL() + " WHERE (agent_id, sequence) > (?, ?) ORDER BY agent_id, sequence LIMIT ?",
            start: ["", Int64.min], pageSize: pageSize, receive,
            row: { _, row in try AgentEventRow(row: row) }, next: { [$0.agentID, $0.event.sequence] },
            writes: { [.event(.agent($0.agentID), $0.event)] }
        )
    }

    /// Reads the table of `sql` (its last parameter the page size, the others the key after
    /// which the page starts) page by page, handing each page's writes to `receive`.
    private func pages<R: Sendable>(
        sql: String, start: [any DatabaseValueConvertible & Sendable], pageSize: Int,
        _ receive: @Sendable ([StoreWrite]) async throws(SwitchboardError) -> Void,
        row make: @escaping @Sendable (Database, Row) throws -> R,
        next: (R) -> [any DatabaseValueConvertible & Sendable],
        writes: (R) -> [StoreWrite]
    ) async throws(SwitchboardError) {
        var after = start
        while true {
            let arguments = StatementArguments((after + [pageSize]).map { $0 as (any DatabaseValueConvertible)? })
            let rows = try await read { db in try Row.fetchAll(db, sql: sql, arguments: arguments).map { try make(db, $0) } }
            guard let last = rows.last else { return }
            try await receive(rows.flatMap(writes))
            if rows.count < pageSize { return }
            after = next(last)
        }
    }
}
