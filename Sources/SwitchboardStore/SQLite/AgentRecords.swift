import Foundation
import GRDB
public import SwitchboardCore

/// A row of `agents`: an ``AgentProfile`` without its groups (``GroupMemberRow``), and its last assignment.
struct AgentRow: StoreRecord {
    static let databaseTableName = "agents"

    enum Columns: String, ColumnExpression, CaseIterable {
        case id
        case displayName = "display_name"
        /// `NULL`: the settings' default.
        case maxSessions = "max_sessions"
        /// `AgentProfile.Status.storedCode`.
        case status
        case statusChangedAt = "status_changed_at"
        case createdAt = "created_at"
        /// 0: never assigned.
        case lastAssignedAt = "last_assigned_at"
    }

    static let insert = insertSQL()
    static let selectByID = selectSQL() + " WHERE \(Columns.id.name) = ?"
    static let selectPage = selectSQL() + " WHERE \(Columns.id.name) > ? ORDER BY \(Columns.id.name) LIMIT ?"
    static let selectAll = selectSQL() + " ORDER BY \(Columns.id.name)"
    static let update = "UPDATE \(databaseTableName) SET \(Columns.displayName.name) = ?, \(Columns.maxSessions.name) = ? WHERE \(Columns.id.name) = ?"
    static let updateState = """
        UPDATE \(databaseTableName) SET \(Columns.status.name) = ?, \(Columns.statusChangedAt.name) = ?, \
        \(Columns.lastAssignedAt.name) = ? WHERE \(Columns.id.name) = ?
        """
    static let delete = "DELETE FROM \(databaseTableName) WHERE \(Columns.id.name) = ?"

    /// The profile, its `groupIDs` empty.
    var profile: AgentProfile
    var lastAssignedAt: Timestamp

    /// A new agent: never assigned.
    init(_ profile: AgentProfile, lastAssignedAt: Timestamp = Timestamp(milliseconds: 0)) {
        self.profile = profile
        self.lastAssignedAt = lastAssignedAt
    }

    init(row: Row) throws {
        try self.init(stored: row)
    }

    init(stored row: some StoredRow) throws {
        profile = AgentProfile(
            id: try row.value(Columns.id), displayName: try row.value(Columns.displayName), maxSessions: try row.value(Columns.maxSessions),
            status: try AgentProfile.Status(storedCode: try row.value(Columns.status)), groupIDs: [],
            statusChangedAt: Timestamp(milliseconds: try row.value(Columns.statusChangedAt)), createdAt: Timestamp(milliseconds: try row.value(Columns.createdAt))
        )
        lastAssignedAt = Timestamp(milliseconds: try row.value(Columns.lastAssignedAt))
    }

    func bind<Sink: ColumnSink>(_ row: inout Sink) {
        row.add(profile.id)
        row.add(profile.displayName)
        row.add(profile.maxSessions)
        row.add(profile.status.storedCode)
        row.add(profile.statusChangedAt.milliseconds)
        row.add(profile.createdAt.milliseconds)
        row.add(lastAssignedAt.milliseconds)
    }
}

/// A row of `agent_events`: one event of an agent, encoded by the caller.
struct AgentEventRow: StoreRecord {
    static let databaseTableName = "agent_events"

    enum Columns: String, ColumnExpression, CaseIterable {
        case agentID = "agent_id"
        case sequence
        case createdAt = "created_at"
        case payload
    }

    static let insert = insertSQL()
    static let selectPage = selectSQL()
        + " WHERE \(Columns.agentID.name) = ? AND \(Columns.sequence.name) > ? ORDER BY \(Columns.sequence.name) LIMIT ?"
    static let deleteOfAgent = "DELETE FROM \(databaseTableName) WHERE \(Columns.agentID.name) = ?"
    /// Each agent's latest event number: `agent_id`, `last_sequence`.
    static let lastSequence = Column("last_sequence")
    static let selectLastSequences = """
        SELECT \(Columns.agentID.name), MAX(\(Columns.sequence.name)) AS \(lastSequence.name) FROM \(databaseTableName) \
        GROUP BY \(Columns.agentID.name)
        """

    var agentID: String
    var event: StoredEvent

    init(agentID: String, event: StoredEvent) {
        self.agentID = agentID
        self.event = event
    }

    init(row: Row) throws {
        try self.init(stored: row)
    }

    init(stored row: some StoredRow) throws {
        agentID = try row.value(Columns.agentID)
        event = StoredEvent(
            sequence: try row.value(Columns.sequence), createdAt: Timestamp(milliseconds: try row.value(Columns.createdAt)),
            payload: [UInt8](try row.value(Columns.payload) as Data)
        )
    }

    func bind<Sink: ColumnSink>(_ row: inout Sink) {
        row.add(agentID)
        row.add(event.sequence)
        row.add(event.createdAt.milliseconds)
        row.add(blob: event.payload)
    }
}

extension SQLiteStore {
    /// An agent row with its groups.
    static func agent(_ row: AgentRow, db: Database) throws -> AgentProfile {
        var profile = row.profile
        profile.groupIDs = try String.fetchAll(db.cachedStatement(sql: GroupMemberRow.selectGroupsOfAgent), arguments: [profile.id])
        return profile
    }

    static func fetchAgent(_ db: Database, id: String) throws -> AgentProfile {
        guard let row = try AgentRow.fetchOne(db.cachedStatement(sql: AgentRow.selectByID), arguments: [id]) else {
            throw SwitchboardError(.notFound, "agent '\(id)' not found")
        }
        return try agent(row, db: db)
    }

    /// An agent.
    public func agent(id: String) async throws(SwitchboardError) -> AgentProfile {
        try await read { db in try Self.fetchAgent(db, id: id) }
    }

    /// A page of agents, by id.
    public func agents(_ page: PageRequest) async throws(SwitchboardError) -> Page<AgentProfile> {
        try await read { db in
            let rows = try AgentRow.fetchAll(db.cachedStatement(sql: AgentRow.selectPage), arguments: [page.after ?? "", page.size + 1])
            return try makePage(rows, size: page.size, key: \.profile.id) { row in try Self.agent(row, db: db) }
        }
    }
}
