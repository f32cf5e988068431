public import SwitchboardCore
import SwitchboardProto
public import SwitchboardStore

/// The store as the engine sees it: Core values in and out. This is the protobuf edge of
/// persistence: settings are kept as a `switchboard.v1.Settings` document and events as the
/// `SessionEvent`/`AgentEvent` bytes that watch streams send as they are, so each is encoded once,
/// here, and the engine speaks only Core types.
struct EngineStore: Sendable {
    /// What a start-up or a reload finds.
    struct Loaded: Sendable {
        var settings: SwitchboardSettings
        var settingsVersion: Int64
        var settingsUpdatedAt: Timestamp
        var state: LoadedStoreState
    }

    let store: any SwitchboardStore

    /// Reads everything the routing core keeps in memory; the settings are decoded.
    func load(now: Timestamp) async throws(SwitchboardError) -> Loaded {
        let loaded = try await store.loadState(now: now)
        guard let stored = loaded.settings else {
            return Loaded(settings: SwitchboardSettings(), settingsVersion: 0, settingsUpdatedAt: Timestamp(milliseconds: 0), state: loaded)
        }
        let settings: SwitchboardSettings
        do {
            settings = SwitchboardSettings(proto: try Settings(serializedBytes: stored.document))
        } catch {
            throw SwitchboardError(.internal, "the stored settings (version \(stored.version)) cannot be decoded: \(error)")
        }
        return Loaded(settings: settings, settingsVersion: stored.version, settingsUpdatedAt: stored.updatedAt, state: loaded)
    }

    /// Stores `settings` as the next version when the stored one is still `expectedVersion`.
    func replaceSettings(_ settings: SwitchboardSettings, expectedVersion: Int64) async throws(SwitchboardError) -> StoredSettings {
        let document: [UInt8]
        do {
            document = try Settings(settings).serializedBytes()
        } catch {
            throw SwitchboardError(.invalidArgument, "the settings cannot be encoded: \(error)")
        }
        return try await store.replaceSettings(document, expectedVersion: expectedVersion)
    }

    /// A decision's changes, queued for one transaction: await ``committed()``.
    struct Commit: Sendable {
        fileprivate let pending: PendingWrite?
        /// The events as stored, for the hub once committed.
        let events: [(EventOwner, StoredEvent)]

        /// Returns once the changes are committed.
        func committed() async throws(SwitchboardError) {
            try await pending?.committed()
        }
    }

    /// Queues a decision's actions for one transaction, in order (directory, sessions, messages,
    /// agents, events).
    ///
    /// Synchronous, so that the engine queues each decision's changes before it suspends, on its
    /// own isolation: the store commits them in the order they were decided. (An `async` method
    /// here ran off the actor, and a later decision could queue first; its session row, stored
    /// whole, was then overwritten by the older one.)
    func enqueue(_ actions: RoutingActions) -> Commit {
        var writes: [StoreWrite] = []
        writes.reserveCapacity(
            actions.directory.count + actions.sessions.count + actions.messages.count + actions.agents.count
                + actions.sessionEvents.count + actions.agentEvents.count
        )
        for change in actions.directory {
            let write: StoreWrite = switch change {
            case .insertAgent(let profile): .insertAgent(profile)
            case .updateAgent(let id, let displayName, let maxSessions): .updateAgent(id: id, displayName: displayName, maxSessions: maxSessions)
            case .deleteAgent(let id): .deleteAgent(id)
            case .insertGroup(let group): .insertGroup(group)
            case .renameGroup(let id, let name): .renameGroup(id: id, name: name)
            case .deleteGroup(let id): .deleteGroup(id)
            case .addMember(let groupID, let agentID): .addMember(groupID: groupID, agentID: agentID)
            case .removeMember(let groupID, let agentID): .removeMember(groupID: groupID, agentID: agentID)
            }
            writes.append(write)
        }
        for session in actions.sessionsInOrder { writes.append(.session(session)) }
        for message in actions.messages { writes.append(.message(message)) }
        for agent in actions.agentsInOrder {
            writes.append(.agentState(id: agent.id, status: agent.status, statusChangedAt: agent.statusChangedAt, lastAssignedAt: agent.idleSince))
        }
        let events = EventEncoding.encode(actions)
        for (owner, event) in events { writes.append(.event(owner, event)) }
        return Commit(pending: writes.isEmpty ? nil : store.enqueue(writes, checked: true), events: events)
    }

    /// A session as stored (closed ones live only here).
    func session(id: String) async throws(SwitchboardError) -> SessionRecord {
        try await store.session(id: id)
    }
}
