import Foundation
import GRDB
public import SwitchboardCore

/// One change to store. The engine checks every rule in memory first, then enqueues its changes
/// in the order it made them; the store applies them in that order, committing concurrent
/// batches together.
public enum StoreWrite: Sendable {
    case insertAgent(AgentProfile)
    case updateAgent(id: String, displayName: String, maxSessions: Int?)
    case deleteAgent(String)
    /// An agent's routing state: status, when it changed, last assignment.
    case agentState(id: String, status: AgentProfile.Status, statusChangedAt: Timestamp, lastAssignedAt: Timestamp)
    case insertGroup(AgentGroup)
    case renameGroup(id: String, name: String)
    case deleteGroup(String)
    case addMember(groupID: String, agentID: String)
    case removeMember(groupID: String, agentID: String)
    /// A session, stored whole.
    case session(SessionRecord)
    /// A new transcript message.
    case message(TranscriptMessage)
    /// A new event of a session or an agent, encoded by the caller.
    case event(EventOwner, StoredEvent)
}

/// Writes queued in order; await them for the commit.
public struct PendingWrite: Sendable {
    let ticket: WriteTicket<Bool>

    /// Returns once the writes are committed.
    ///
    /// - Throws: `UNAVAILABLE` when the transaction failed (nothing of it is stored).
    public func committed() async throws(SwitchboardError) {
        _ = try await ticket.value()
    }
}

extension SwitchboardStore {
    /// Queues `writes` after everything enqueued before; they commit together, all or nothing.
    ///
    /// `checked` writes were validated by the caller (the engine checks every rule in memory), so
    /// they skip their own savepoint; a failure then fails the whole batch it shares.
    public func enqueue(_ writes: [StoreWrite], checked: Bool = false) -> PendingWrite {
        PendingWrite(ticket: commits.enqueue(isolated: !checked) { db in
            for write in writes { try Self.apply(write, db) }
            return true
        })
    }

    static func apply(_ write: StoreWrite, _ db: Database) throws {
        switch write {
        case .insertAgent(let agent):
            try db.cachedStatement(
                sql: "INSERT INTO agents (id, display_name, max_sessions, status, status_changed_at, created_at) VALUES (?, ?, ?, ?, ?, ?)"
            ).execute(arguments: [
                agent.id, agent.displayName, agent.maxSessions, agent.status.storedCode, agent.statusChangedAt.milliseconds,
                agent.createdAt.milliseconds,
            ])
        case .updateAgent(let id, let displayName, let maxSessions):
            try db.cachedStatement(sql: "UPDATE agents SET display_name = ?, max_sessions = ? WHERE id = ?")
                .execute(arguments: [displayName, maxSessions, id])
        case .deleteAgent(let id):
            try db.cachedStatement(sql: "DELETE FROM agents WHERE id = ?").execute(arguments: [id])
            // Its events go with it: an agent created again under the same id numbers its events
            // from 1 (found by fuzzing: the old rows made its first event a UNIQUE violation).
            try db.cachedStatement(sql: "DELETE FROM agent_events WHERE agent_id = ?").execute(arguments: [id])
        case .agentState(let id, let status, let changedAt, let lastAssignedAt):
            try db.cachedStatement(sql: "UPDATE agents SET status = ?, status_changed_at = ?, last_assigned_at = ? WHERE id = ?")
                .execute(arguments: [status.storedCode, changedAt.milliseconds, lastAssignedAt.milliseconds, id])
        case .insertGroup(let group):
            try db.cachedStatement(sql: "INSERT INTO groups (id, name, created_at) VALUES (?, ?, ?)")
                .execute(arguments: [group.id, group.name, group.createdAt.milliseconds])
        case .renameGroup(let id, let name):
            try db.cachedStatement(sql: "UPDATE groups SET name = ? WHERE id = ?").execute(arguments: [name, id])
        case .deleteGroup(let id):
            try db.cachedStatement(sql: "DELETE FROM groups WHERE id = ?").execute(arguments: [id])
        case .addMember(let groupID, let agentID):
            try db.cachedStatement(sql: "INSERT INTO group_members (group_id, agent_id) VALUES (?, ?)")
                .execute(arguments: [groupID, agentID])
        case .removeMember(let groupID, let agentID):
            try db.cachedStatement(sql: "DELETE FROM group_members WHERE group_id = ? AND agent_id = ?")
                .execute(arguments: [groupID, agentID])
        case .session(let session):
            try saveSession(session, db)
        case .message(let message):
            try saveMessage(message, db)
        case .event(let owner, let event):
            let sql = switch owner {
            case .session: "INSERT INTO session_events (session_id, sequence, created_at, payload) VALUES (?, ?, ?, ?)"
            case .agent: "INSERT INTO agent_events (agent_id, sequence, created_at, payload) VALUES (?, ?, ?, ?)"
            }
            try db.cachedStatement(sql: sql).execute(arguments: [owner.id, event.sequence, event.createdAt.milliseconds, Data(event.payload)])
        }
    }

    /// Everything the engine keeps in memory, as stored: settings, agents with their groups and
    /// last assignment, groups, open sessions and closed ones whose rating window is open at `now`.
    public struct LoadedState: Sendable {
        public var settings: StoredSettings?
        public var agents: [(profile: AgentProfile, lastAssignedAt: Timestamp, lastEventSequence: Int64)]
        public var groups: [AgentGroup]
        public var sessions: [SessionRecord]
    }

    /// Reads what the engine keeps in memory.
    public func loadState(now: Timestamp) async throws(SwitchboardError) -> LoadedState {
        let settings = try await self.settings()
        return try await read { db in
            let agentRows = try Row.fetchAll(
                db, sql: "SELECT id, display_name, max_sessions, status, status_changed_at, created_at, last_assigned_at FROM agents ORDER BY id"
            )
            var lastEvents: [String: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT agent_id, MAX(sequence) FROM agent_events GROUP BY agent_id") {
                lastEvents[row[0]] = row[1]
            }
            var memberships: [String: [String]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT agent_id, group_id FROM group_members ORDER BY group_id") {
                memberships[row[0], default: []].append(row[1])
            }
            let agents = try agentRows.map { row -> (profile: AgentProfile, lastAssignedAt: Timestamp, lastEventSequence: Int64) in
                let profile = AgentProfile(
                    id: row[0], displayName: row[1], maxSessions: row[2], status: try AgentProfile.Status(storedCode: row[3]),
                    groupIDs: memberships[row[0] as String] ?? [], statusChangedAt: Timestamp(milliseconds: row[4]),
                    createdAt: Timestamp(milliseconds: row[5])
                )
                return (profile, Timestamp(milliseconds: row[6]), lastEvents[profile.id] ?? 0)
            }
            let groups = try Row.fetchAll(db, sql: Self.groupSelect + " ORDER BY g.id").map(Self.group(from:))
            let sessions = try Row.fetchAll(
                db, sql: "SELECT \(Self.sessionColumns) FROM sessions WHERE state <> 4 OR rating_deadline >= ?",
                arguments: [now.milliseconds]
            ).map(Self.session(from:))
            return LoadedState(settings: settings, agents: agents, groups: groups, sessions: sessions)
        }
    }
}
