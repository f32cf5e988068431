import GRDB
public import SwitchboardCore

/// A row of `groups`: an ``AgentGroup`` without its member count (counted in ``GroupMemberRow``).
struct GroupRow: StoreRecord {
    static let databaseTableName = "groups"

    enum Columns: String, ColumnExpression, CaseIterable {
        case id
        case name
        case createdAt = "created_at"
    }

    static let insert = insertSQL()
    static let rename = "UPDATE \(databaseTableName) SET \(Columns.name.name) = ? WHERE \(Columns.id.name) = ?"
    static let delete = "DELETE FROM \(databaseTableName) WHERE \(Columns.id.name) = ?"

    /// The number of members, counted by ``selectWithCount``.
    static let memberCount = Column("member_count")
    /// Every group column and ``memberCount``, from `groups g`.
    static let selectWithCount = selectSQL(
        alias: "g",
        extra: """
            , (SELECT COUNT(*) FROM \(GroupMemberRow.databaseTableName) m \
            WHERE m.\(GroupMemberRow.Columns.groupID.name) = g.\(Columns.id.name)) AS \(memberCount.name)
            """
    )
    static let selectWithCountByID = selectWithCount + " WHERE g.\(Columns.id.name) = ?"
    static let selectWithCountPage = selectWithCount + " WHERE g.\(Columns.id.name) > ? ORDER BY g.\(Columns.id.name) LIMIT ?"
    static let selectWithCountAll = selectWithCount + " ORDER BY g.\(Columns.id.name)"

    var id: String
    var name: String
    var createdAt: Timestamp

    init(_ group: AgentGroup) {
        id = group.id
        name = group.name
        createdAt = group.createdAt
    }

    init(row: Row) throws {
        try self.init(stored: row)
    }

    init(stored row: some StoredRow) throws {
        id = try row.value(Columns.id)
        name = try row.value(Columns.name)
        createdAt = Timestamp(milliseconds: try row.value(Columns.createdAt))
    }

    func bind<Sink: ColumnSink>(_ row: inout Sink) {
        row.add(id)
        row.add(name)
        row.add(createdAt.milliseconds)
    }

    func group(memberCount: Int) -> AgentGroup {
        AgentGroup(id: id, name: name, memberCount: memberCount, createdAt: createdAt)
    }
}

/// A row of `group_members`: an agent belongs to a group.
struct GroupMemberRow: StoreRecord {
    static let databaseTableName = "group_members"

    enum Columns: String, ColumnExpression, CaseIterable {
        case groupID = "group_id"
        case agentID = "agent_id"
    }

    static let insert = insertSQL()
    static let delete = "DELETE FROM \(databaseTableName) WHERE \(Columns.groupID.name) = ? AND \(Columns.agentID.name) = ?"
    static let selectAll = selectSQL() + " ORDER BY \(Columns.groupID.name)"
    /// The group ids of one agent, sorted.
    static let selectGroupsOfAgent = """
        SELECT \(Columns.groupID.name) FROM \(databaseTableName) WHERE \(Columns.agentID.name) = ? ORDER BY \(Columns.groupID.name)
        """
    /// A page of one group's agents, as ``AgentRow``s.
    static let selectAgentsPage = AgentRow.selectSQL(alias: "a") + """
         JOIN \(databaseTableName) m ON m.\(Columns.agentID.name) = a.\(AgentRow.Columns.id.name) \
        WHERE m.\(Columns.groupID.name) = ? AND a.\(AgentRow.Columns.id.name) > ? ORDER BY a.\(AgentRow.Columns.id.name) LIMIT ?
        """

    var groupID: String
    var agentID: String

    init(groupID: String, agentID: String) {
        self.groupID = groupID
        self.agentID = agentID
    }

    init(row: Row) throws {
        try self.init(stored: row)
    }

    init(stored row: some StoredRow) throws {
        groupID = try row.value(Columns.groupID)
        agentID = try row.value(Columns.agentID)
    }

    func bind<Sink: ColumnSink>(_ row: inout Sink) {
        row.add(groupID)
        row.add(agentID)
    }
}

extension SQLiteStore {
    /// A row of ``GroupRow/selectWithCount``.
    static func group(from row: Row) throws -> AgentGroup {
        try GroupRow(row: row).group(memberCount: row[GroupRow.memberCount])
    }

    static func fetchGroup(_ db: Database, id: String) throws -> AgentGroup {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: GroupRow.selectWithCountByID), arguments: [id]) else {
            throw SwitchboardError(.notFound, "group '\(id)' not found")
        }
        return try group(from: row)
    }

    /// A group.
    public func group(id: String) async throws(SwitchboardError) -> AgentGroup {
        try await read { db in try Self.fetchGroup(db, id: id) }
    }

    /// A page of groups, by id.
    public func groups(_ page: PageRequest) async throws(SwitchboardError) -> Page<AgentGroup> {
        try await read { db in
            let rows = try Row.fetchAll(
                db.cachedStatement(sql: GroupRow.selectWithCountPage),
                arguments: [page.after ?? "", page.size + 1]
            )
            return try makePage(rows, size: page.size, key: { $0[GroupRow.Columns.id] }, Self.group(from:))
        }
    }

    /// A page of a group's agents, by id.
    public func groupAgents(groupID: String, _ page: PageRequest) async throws(SwitchboardError) -> Page<AgentProfile> {
        try await read { db in
            _ = try Self.fetchGroup(db, id: groupID)
            let rows = try AgentRow.fetchAll(
                db.cachedStatement(sql: GroupMemberRow.selectAgentsPage), arguments: [groupID, page.after ?? "", page.size + 1]
            )
            return try makePage(rows, size: page.size, key: \.profile.id) { row in try Self.agent(row, db: db) }
        }
    }
}
