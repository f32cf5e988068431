import Foundation
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
        profile = AgentProfile(
            id: row[Columns.id], displayName: row[Columns.displayName], maxSessions: row[Columns.maxSessions],
            status: try AgentProfile.Status(storedCode: row[Columns.status]), groupIDs: [],
            statusChangedAt: Timestamp(milliseconds: row[Columns.statusChangedAt]), createdAt: Timestamp(milliseconds: row[Columns.createdAt])
        )
        lastAssignedAt = Timestamp(milliseconds: row[Columns.lastAssignedAt])
    }

    func bind(_ row: inout RowBinder) {
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

    init(row: Row) {
        agentID = row[Columns.agentID]
        event = StoredEvent(
            sequence: row[Columns.sequence], createdAt: Timestamp(milliseconds: row[Columns.createdAt]),
            payload: [UInt8](row[Columns.payload] as Data)
        )
    }

    func bind(_ row: inout RowBinder) {
        row.add(agentID)
        row.add(event.sequence)
        row.add(event.createdAt.milliseconds)
        row.add(blob: event.payload)
    }
}

extension SwitchboardStore {
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
            return try Self.page(rows, size: page.size, key: \.profile.id) { row in try Self.agent(row, db: db) }
        }
    }

    /// The first `size` of `rows` (fetched with one more, to tell whether more follow), and the
    /// token after the last of them.
    static func page<R, T>(_ rows: [R], size: Int, key: (R) -> String, _ make: (R) throws -> T) throws -> Page<T> {
        let items = try rows.prefix(size).map(make)
        let more = rows.count > size
        let last = rows.prefix(size).last.map(key)
        return Page(items: items, nextToken: more ? PageToken.encode(after: last ?? "") : "")
    }
}
