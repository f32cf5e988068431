public import Logging
public import SwitchboardCore
import SwitchboardProto
public import SwitchboardStore

/// What the business server's hook is asked.
public struct AllocationQuery: Sendable, Hashable {
    public var sessionID: String
    public var userID: String
    /// The group the user chose, if any.
    public var groupID: String?
    public var attributes: [String: String]
    public var eventTime: Timestamp
    /// The same for every attempt of one routing of one session.
    public var idempotencyKey: String
    /// Where the hook listens (`host:port`), from the settings.
    public var address: String
    /// How long the hook may take, from the settings.
    public var deadline: Duration
}

/// The business server's allocation hook, as the engine calls it. Its failures are answers
/// (`.failed`), so the fallback applies; it must return within its own deadline.
public protocol AllocationHook: Sendable {
    /// Chooses a target for a session.
    func allocate(_ query: AllocationQuery) async -> RoutingState.HookAnswer
}

/// The routing core's owner: an actor holding the routing state, applying commands to it, and
/// storing what each command changed before answering. Decisions are the ``RoutingState``'s; the
/// actor only orders commands, persists their changes in that order, and calls the hook.
///
/// When a commit fails, the memory may be ahead of the database: the engine reloads from the
/// database (the source of truth) and the command fails with `UNAVAILABLE`.
public actor SwitchboardEngine {
    private let store: SwitchboardStore
    private let clock: any WallClock
    private let hook: (any AllocationHook)?
    private let logger: Logger
    /// Live watchers of sessions' and agents' events.
    public nonisolated let hub = EventHub()
    private var state: RoutingState
    private var profiles: [String: AgentProfile] = [:]
    private var groupInfo: [String: AgentGroup] = [:]
    private var settingsVersion: Int64 = 0
    private var settingsUpdatedAt = Timestamp(milliseconds: 0)
    private var lastEviction = Timestamp(milliseconds: 0)
    private var randomGenerator = SystemRandomNumberGenerator()

    /// Loads the state from `store`; timers that expired while the server was down fire at once.
    public init(
        store: SwitchboardStore, clock: any WallClock = SystemWallClock(), hook: (any AllocationHook)? = nil,
        logger: Logger = Logger(label: "switchboard.engine")
    ) async throws(SwitchboardError) {
        self.store = store
        self.clock = clock
        self.hook = hook
        self.logger = logger
        self.state = try RoutingState(settings: SwitchboardSettings(), agents: [], groups: [:])
        try await load()
        // A crash between a change and the assignments it allowed (a raised limit is committed
        // before the queued sessions it lets in) leaves queued sessions next to free capacity:
        // serve the queues once at start-up.
        let now = clock.now()
        state.serveQueues(now: now)
        try await commit(now: now)
        await fireDueTimers()
    }

    private func load() async throws(SwitchboardError) {
        let loaded = try await store.loadState(now: clock.now())
        var settings = SwitchboardSettings()
        if let stored = loaded.settings {
            do {
                settings = SwitchboardSettings(proto: try Settings(serializedBytes: stored.document))
            } catch {
                throw SwitchboardError(.internal, "the stored settings (version \(stored.version)) cannot be decoded: \(error)")
            }
            settingsVersion = stored.version
            settingsUpdatedAt = stored.updatedAt
        }
        profiles = Dictionary(uniqueKeysWithValues: loaded.agents.map { ($0.profile.id, $0.profile) })
        groupInfo = Dictionary(uniqueKeysWithValues: loaded.groups.map { ($0.id, $0) })
        var members: [String: Set<String>] = [:]
        for group in loaded.groups { members[group.id] = [] }
        for (profile, _, _) in loaded.agents {
            for group in profile.groupIDs { members[group, default: []].insert(profile.id) }
        }
        state = try RoutingState(
            settings: settings,
            agents: loaded.agents.map {
                AgentRuntime(
                    id: $0.profile.id, status: $0.profile.status, maxSessions: $0.profile.maxSessions, groupIDs: [],
                    lastAssignedAt: $0.lastAssignedAt, lastEventSequence: $0.lastEventSequence
                )
            },
            groups: members,
            sessions: loaded.sessions
        )
        logger.info(
            "state loaded",
            metadata: ["agents": "\(profiles.count)", "groups": "\(groupInfo.count)", "sessions": "\(loaded.sessions.count)"]
        )
    }

    /// Stores what the last command changed (after `extra`), in command order, and waits for the
    /// commit.
    private func commit(_ extra: [StoreWrite] = [], now: Timestamp) async throws(SwitchboardError) {
        let changes = state.takeChanges()
        var writes = extra
        for id in changes.sessions.sorted() {
            if let session = state.sessions[id] { writes.append(.session(session)) }
        }
        writes += changes.messages.map { .message($0) }
        for id in changes.agents.sorted() {
            guard let agent = state.agents[id], var profile = profiles[id] else { continue }
            if profile.status != agent.status {
                profile.status = agent.status
                profile.statusChangedAt = now
                profiles[id] = profile
            }
            writes.append(.agentState(id: id, status: agent.status, statusChangedAt: profile.statusChangedAt, lastAssignedAt: agent.lastAssignedAt))
        }
        let events = EventEncoding.encode(changes)
        writes += events.map { .event($0.0, $0.1) }
        guard !writes.isEmpty else { return }
        do {
            try await store.enqueue(writes, checked: true).committed()
            // Published only once stored: a watcher that misses them live finds them in the store.
            hub.publish(events)
        } catch {
            logger.error("commit failed; reloading the state from the database", metadata: ["error": "\(error)"])
            do {
                try await load()
            } catch {
                logger.critical("reloading the state failed", metadata: ["error": "\(error)"])
            }
            throw error
        }
    }

    /// Runs one command on the routing state at the current time and stores what it changed.
    private func apply<T>(_ command: (inout RoutingState, Timestamp) throws(SwitchboardError) -> T) async throws(SwitchboardError) -> T {
        let now = clock.now()
        let result = try command(&state, now)
        try await commit(now: now)
        return result
    }

    // MARK: Settings

    /// The current settings, their version and update time.
    public func settings() -> (settings: SwitchboardSettings, version: Int64, updatedAt: Timestamp) {
        (state.settings, settingsVersion, settingsUpdatedAt)
    }

    /// Replaces the settings when still at `expectedVersion`; later decisions use them at once.
    public func updateSettings(_ settings: SwitchboardSettings, expectedVersion: Int64) async throws(SwitchboardError)
        -> (version: Int64, updatedAt: Timestamp)
    {
        guard expectedVersion == settingsVersion else {
            throw SwitchboardError(
                .aborted,
                "the settings changed since version \(expectedVersion) was read (now version \(settingsVersion)); read them again and retry"
            )
        }
        try settings.validate()
        let document: [UInt8]
        do {
            document = try Settings(settings).serializedBytes()
        } catch {
            throw SwitchboardError(.invalidArgument, "the settings cannot be encoded: \(error)")
        }
        let stored = try await store.replaceSettings(document, expectedVersion: expectedVersion)
        settingsVersion = stored.version
        settingsUpdatedAt = stored.updatedAt
        let now = clock.now()
        try state.updateSettings(settings, now: now)
        try await commit(now: now)
        return (stored.version, stored.updatedAt)
    }

    // MARK: Agents and groups

    /// Creates an agent, `OFFLINE`.
    public func createAgent(id: String, displayName: String, maxSessions: Int?) async throws(SwitchboardError) -> AgentProfile {
        guard profiles[id] == nil else { throw SwitchboardError(.alreadyExists, "agent '\(id)' already exists") }
        let now = clock.now()
        let profile = AgentProfile(
            id: id, displayName: displayName, maxSessions: maxSessions, status: .offline, groupIDs: [],
            statusChangedAt: now, createdAt: now
        )
        profiles[id] = profile
        state.upsertAgent(id: id, maxSessions: maxSessions, status: .offline, now: now)
        try await commit([.insertAgent(profile)], now: now)
        return profile
    }

    /// Changes an agent's name and/or limit; a raised limit takes queued sessions at once.
    public func updateAgent(id: String, displayName: String?, maxSessions: Int??) async throws(SwitchboardError) -> AgentProfile {
        guard var profile = profiles[id] else { throw SwitchboardError(.notFound, "agent '\(id)' not found") }
        let now = clock.now()
        if let displayName { profile.displayName = displayName }
        if let maxSessions { profile.maxSessions = maxSessions }
        profiles[id] = profile
        state.upsertAgent(id: id, maxSessions: profile.maxSessions, status: profile.status, now: now)
        try await commit([.updateAgent(id: id, displayName: profile.displayName, maxSessions: profile.maxSessions)], now: now)
        return profiles[id] ?? profile
    }

    /// Deletes an agent that serves no session.
    public func deleteAgent(id: String) async throws(SwitchboardError) {
        guard let profile = profiles[id] else { throw SwitchboardError(.notFound, "agent '\(id)' not found") }
        try state.removeAgent(id: id)
        profiles[id] = nil
        for group in profile.groupIDs { groupInfo[group]?.memberCount -= 1 }
        try await commit([.deleteAgent(id)], now: clock.now())
    }

    /// Sets an agent's status; going online takes queued sessions at once.
    public func setAgentStatus(id: String, _ status: AgentProfile.Status) async throws(SwitchboardError) -> AgentProfile {
        guard var profile = profiles[id] else { throw SwitchboardError(.notFound, "agent '\(id)' not found") }
        let now = clock.now()
        if profile.status != status {
            try state.setStatus(agentID: id, status, now: now)
            profile.status = status
            profile.statusChangedAt = now
            profiles[id] = profile
        }
        let lastAssigned = state.agents[id]?.lastAssignedAt ?? Timestamp(milliseconds: 0)
        try await commit([.agentState(id: id, status: status, statusChangedAt: profile.statusChangedAt, lastAssignedAt: lastAssigned)], now: now)
        return profiles[id] ?? profile
    }

    /// An agent as the engine knows it.
    public func agent(id: String) throws(SwitchboardError) -> AgentProfile {
        guard let profile = profiles[id] else { throw SwitchboardError(.notFound, "agent '\(id)' not found") }
        return profile
    }

    /// Creates a group.
    public func createGroup(id: String, name: String) async throws(SwitchboardError) -> AgentGroup {
        guard groupInfo[id] == nil else { throw SwitchboardError(.alreadyExists, "group '\(id)' already exists") }
        let group = AgentGroup(id: id, name: name, memberCount: 0, createdAt: clock.now())
        groupInfo[id] = group
        state.addGroup(id: id)
        try await commit([.insertGroup(group)], now: group.createdAt)
        return group
    }

    /// Renames a group.
    public func renameGroup(id: String, name: String) async throws(SwitchboardError) -> AgentGroup {
        guard var group = groupInfo[id] else { throw SwitchboardError(.notFound, "group '\(id)' not found") }
        group.name = name
        groupInfo[id] = group
        try await commit([.renameGroup(id: id, name: name)], now: clock.now())
        return group
    }

    /// Deletes a group; its agents stay.
    public func deleteGroup(id: String) async throws(SwitchboardError) {
        guard groupInfo[id] != nil else { throw SwitchboardError(.notFound, "group '\(id)' not found") }
        groupInfo[id] = nil
        let now = clock.now()
        state.removeGroup(id: id, now: now)
        for (agentID, var profile) in profiles where profile.groupIDs.contains(id) {
            profile.groupIDs.removeAll { $0 == id }
            profiles[agentID] = profile
        }
        try await commit([.deleteGroup(id)], now: now)
    }

    /// Adds an agent to a group; it may take the group's queued sessions at once.
    public func addMember(groupID: String, agentID: String) async throws(SwitchboardError) -> AgentGroup {
        guard var group = groupInfo[groupID] else { throw SwitchboardError(.notFound, "group '\(groupID)' not found") }
        guard var profile = profiles[agentID] else { throw SwitchboardError(.notFound, "agent '\(agentID)' not found") }
        guard !profile.groupIDs.contains(groupID) else {
            throw SwitchboardError(.alreadyExists, "agent '\(agentID)' is already a member of group '\(groupID)'")
        }
        let now = clock.now()
        profile.groupIDs = (profile.groupIDs + [groupID]).sorted()
        profiles[agentID] = profile
        group.memberCount += 1
        groupInfo[groupID] = group
        state.addMember(groupID: groupID, agentID: agentID, now: now)
        try await commit([.addMember(groupID: groupID, agentID: agentID)], now: now)
        return group
    }

    /// Removes an agent from a group.
    public func removeMember(groupID: String, agentID: String) async throws(SwitchboardError) -> AgentGroup {
        guard var group = groupInfo[groupID] else { throw SwitchboardError(.notFound, "group '\(groupID)' not found") }
        guard var profile = profiles[agentID] else { throw SwitchboardError(.notFound, "agent '\(agentID)' not found") }
        guard profile.groupIDs.contains(groupID) else {
            throw SwitchboardError(.notFound, "agent '\(agentID)' is not a member of group '\(groupID)'")
        }
        profile.groupIDs.removeAll { $0 == groupID }
        profiles[agentID] = profile
        group.memberCount -= 1
        groupInfo[groupID] = group
        state.removeMember(groupID: groupID, agentID: agentID)
        try await commit([.removeMember(groupID: groupID, agentID: agentID)], now: clock.now())
        return group
    }

    /// The groups of the user's menu, with whether an agent of each is online.
    public func groupMenu() -> [(group: AgentGroup, available: Bool)] {
        groupInfo.values.sorted { $0.id < $1.id }.map { group in
            let online = state.groups[group.id]?.contains { state.agents[$0]?.status == .online } ?? false
            return (group, online)
        }
    }

    // MARK: Sessions

    /// Creates a session and sends the welcome message.
    public func createSession(userID: String, channel: String, attributes: [String: String]) async throws(SwitchboardError) -> SessionRecord {
        let now = clock.now()
        let id = newSessionID(now: now)
        let session = state.createSession(id: id, userID: userID, channel: channel, attributes: attributes, now: now)
        try await commit(now: now)
        return state.sessions[id] ?? session
    }

    /// A new session id: `s-`, the creation time in fixed-width base 32, then random characters.
    /// Ids sort by creation time, so new rows (sessions and their messages) land at the end of the
    /// tables' B-trees and a commit writes few pages.
    private func newSessionID(now: Timestamp) -> String {
        let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)  // ascending, so ids sort by time
        while true {
            var bytes = Array("s-".utf8)
            var time = UInt64(max(0, now.milliseconds))
            var timePart = [UInt8](repeating: alphabet[0], count: 10)
            for index in stride(from: 9, through: 0, by: -1) {
                timePart[index] = alphabet[Int(time & 31)]
                time >>= 5
            }
            bytes += timePart
            for _ in 0..<8 { bytes.append(alphabet[Int(randomGenerator.next() & 31)]) }
            let id = String(decoding: bytes, as: UTF8.self)
            if state.sessions[id] == nil { return id }
        }
    }

    /// A session: from memory, or the store for one closed long ago.
    public func session(id: String) async throws(SwitchboardError) -> SessionRecord {
        if let session = state.sessions[id] { return session }
        return try await store.session(id: id)
    }

    /// Stores a user message.
    public func userMessage(sessionID: String, text: String) async throws(SwitchboardError) -> TranscriptMessage {
        try await apply { state, now throws(SwitchboardError) in try state.userMessage(sessionID: sessionID, text: text, now: now) }
    }

    /// Asks for an agent: after-hours reply, routing, or the business server's hook first.
    public func requestAgent(sessionID: String, groupID: String?) async throws(SwitchboardError) -> SessionRecord {
        var now = clock.now()
        let outcome = try state.requestAgent(sessionID: sessionID, groupID: groupID, now: now)
        try await commit(now: now)
        guard outcome == .needsHook, let session = state.sessions[sessionID] else {
            return state.sessions[sessionID]!
        }
        let query = AllocationQuery(
            sessionID: sessionID, userID: session.userID, groupID: groupID.flatMap { $0.isEmpty ? nil : $0 },
            attributes: session.attributes, eventTime: now, idempotencyKey: "\(sessionID)/\(session.lastSequence)",
            address: state.settings.allocation.hookAddress,
            deadline: .milliseconds(state.settings.allocation.hookDeadlineMilliseconds)
        )
        // The actor is free while the hook answers: other sessions are routed meanwhile.
        let answer = await hook?.allocate(query) ?? .failed("no allocation hook is configured")
        if case .failed(let reason) = answer {
            logger.warning("allocation hook failed; fallback applies", metadata: ["session": "\(sessionID)", "reason": "\(reason)"])
        }
        now = clock.now()
        try state.applyHookAnswer(sessionID: sessionID, answer: answer, now: now)
        try await commit(now: now)
        return state.sessions[sessionID] ?? session
    }

    /// A session's queue position.
    public func queuePosition(sessionID: String) async throws(SwitchboardError) -> (position: Int, ahead: Int)? {
        _ = try await session(id: sessionID)
        return state.queuePosition(of: sessionID)
    }

    /// Closes a session for its user, or for its agent.
    public func close(sessionID: String, byAgent agentID: String?) async throws(SwitchboardError) -> SessionRecord {
        if state.sessions[sessionID] == nil {
            _ = try await store.session(id: sessionID)  // NOT_FOUND, or closed long ago
            throw SwitchboardError(.failedPrecondition, "session '\(sessionID)' is CLOSED")
        }
        return try await apply { state, now throws(SwitchboardError) in try state.close(sessionID: sessionID, byAgent: agentID, now: now) }
    }

    /// Rates a session.
    public func submitRating(sessionID: String, score: Int, comment: String) async throws(SwitchboardError) -> SessionRecord {
        if state.sessions[sessionID] == nil { state.load(try await store.session(id: sessionID)) }
        return try await apply { state, now throws(SwitchboardError) in
            try state.submitRating(sessionID: sessionID, score: score, comment: comment, now: now)
        }
    }

    /// The agent accepts an offered session.
    public func accept(agentID: String, sessionID: String) async throws(SwitchboardError) -> SessionRecord {
        try requireAgent(agentID)
        return try await apply { state, now throws(SwitchboardError) in try state.accept(agentID: agentID, sessionID: sessionID, now: now) }
    }

    /// Stores an agent message.
    public func agentMessage(agentID: String, sessionID: String, text: String) async throws(SwitchboardError) -> TranscriptMessage {
        try requireAgent(agentID)
        return try await apply { state, now throws(SwitchboardError) in
            try state.agentMessage(agentID: agentID, sessionID: sessionID, text: text, now: now)
        }
    }

    /// Transfers an agent's session.
    public func transfer(agentID: String, sessionID: String, to target: RoutingState.TransferTarget) async throws(SwitchboardError)
        -> SessionRecord
    {
        try requireAgent(agentID)
        return try await apply { state, now throws(SwitchboardError) in
            try state.transfer(agentID: agentID, sessionID: sessionID, to: target, now: now)
        }
    }

    /// The agent invites the user to rate.
    public func inviteRating(agentID: String, sessionID: String) async throws(SwitchboardError) -> SessionRecord {
        try requireAgent(agentID)
        return try await apply { state, now throws(SwitchboardError) in try state.inviteRating(agentID: agentID, sessionID: sessionID, now: now) }
    }

    /// An agent's sessions in state OFFERED or ACTIVE, by id.
    public func agentSessions(agentID: String) throws(SwitchboardError) -> [SessionRecord] {
        try requireAgent(agentID)
        return (state.agents[agentID]?.sessions ?? []).sorted().compactMap { state.sessions[$0] }
    }

    private func requireAgent(_ id: String) throws(SwitchboardError) {
        guard profiles[id] != nil else { throw SwitchboardError(.notFound, "agent '\(id)' not found") }
    }

    // MARK: Timers

    /// When the next timer is due.
    public func nextDeadline() -> Timestamp? {
        state.nextDeadline()
    }

    /// Fires the timers due now and stores what they changed.
    public func fireDueTimers() async {
        let now = clock.now()
        state.fireDueTimers(now: now)
        if now.milliseconds - lastEviction.milliseconds > 60_000 {
            state.evictClosed(before: now)
            lastEviction = now
        }
        do {
            try await commit(now: now)
        } catch {
            logger.error("storing timer changes failed", metadata: ["error": "\(error)"])
        }
    }
}
