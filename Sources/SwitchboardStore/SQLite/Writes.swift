import Foundation
import GRDB
public import SwitchboardCore

extension SQLiteStore {
    /// Queues `writes` after everything enqueued before; they commit together, all or nothing.
    ///
    /// `checked` writes were validated by the caller (the engine checks every rule in memory), so
    /// they skip their own savepoint; a failure then fails the whole batch it shares.
    public func enqueue(_ writes: [StoreWrite], checked: Bool) -> PendingWrite {
        let ticket = commits.enqueue(isolated: !checked) { db in
            for write in writes { try Self.apply(write, db) }
            return true
        }
        return PendingWrite { () async throws(SwitchboardError) in _ = try await ticket.value() }
    }

    public func resumeAfterReload() {
        commits.resumeAfterReload()
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
        case .settings(let settings):
            try SettingsRow(settings).write(db, sql: SettingsRow.upsert)
        }
    }

    /// Everything the engine keeps in memory, as stored: settings, agents with their groups and
    /// last assignment, groups, open sessions and closed ones whose rating window is open at `now`.
    public func loadState(now: Timestamp) async throws(SwitchboardError) -> LoadedStoreState {
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
            return LoadedStoreState(settings: settings, agents: agents, groups: groups, sessions: sessions)
        }
    }
}
