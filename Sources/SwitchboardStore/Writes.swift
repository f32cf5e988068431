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
            try AgentRow(agent).write(db, sql: AgentRow.insert)
        case .updateAgent(let id, let displayName, let maxSessions):
            try db.run(AgentRow.update) { row in
                row.add(displayName)
                row.add(maxSessions)
                row.add(id)
            }
        case .deleteAgent(let id):
            try db.run(AgentRow.delete) { $0.add(id) }
            // Its events go with it: an agent created again under the same id numbers its events
            // from 1 (found by fuzzing: the old rows made its first event a UNIQUE violation).
            try db.run(AgentEventRow.deleteOfAgent) { $0.add(id) }
        case .agentState(let id, let status, let changedAt, let lastAssignedAt):
            try db.run(AgentRow.updateState) { row in
                row.add(status.storedCode)
                row.add(changedAt.milliseconds)
                row.add(lastAssignedAt.milliseconds)
                row.add(id)
            }
        case .insertGroup(let group):
            try GroupRow(group).write(db, sql: GroupRow.insert)
        case .renameGroup(let id, let name):
            try db.run(GroupRow.rename) { row in
                row.add(name)
                row.add(id)
            }
        case .deleteGroup(let id):
            try db.run(GroupRow.delete) { $0.add(id) }
        case .addMember(let groupID, let agentID):
            try GroupMemberRow(groupID: groupID, agentID: agentID).write(db, sql: GroupMemberRow.insert)
        case .removeMember(let groupID, let agentID):
            try db.run(GroupMemberRow.delete) { row in
                row.add(groupID)
                row.add(agentID)
            }
        case .session(let session):
            try SessionRow(session).write(db, sql: SessionRow.upsert)
        case .message(let message):
            try MessageRow(message).write(db, sql: MessageRow.insert)
        case .event(.session(let id), let event):
            try SessionEventRow(sessionID: id, event: event).write(db, sql: SessionEventRow.insert)
        case .event(.agent(let id), let event):
            try AgentEventRow(agentID: id, event: event).write(db, sql: AgentEventRow.insert)
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
            var lastEvents: [String: Int64] = [:]
            for row in try Row.fetchAll(db, sql: AgentEventRow.selectLastSequences) {
                lastEvents[row[AgentEventRow.Columns.agentID]] = row[AgentEventRow.lastSequence]
            }
            var memberships: [String: [String]] = [:]
            for member in try GroupMemberRow.fetchAll(db, sql: GroupMemberRow.selectAll) {
                memberships[member.agentID, default: []].append(member.groupID)
            }
            let agents = try AgentRow.fetchAll(db, sql: AgentRow.selectAll).map { row in
                var profile = row.profile
                profile.groupIDs = memberships[profile.id] ?? []
                return (profile: profile, lastAssignedAt: row.lastAssignedAt, lastEventSequence: lastEvents[profile.id] ?? 0)
            }
            let groups = try Row.fetchAll(db, sql: GroupRow.selectWithCountAll).map(Self.group(from:))
            let sessions = try SessionRow.fetchAll(db, sql: SessionRow.selectLoaded, arguments: [now.milliseconds]).map(\.session)
            return LoadedState(settings: settings, agents: agents, groups: groups, sessions: sessions)
        }
    }
}
