public import Logging
public import SwitchboardCore
import DequeModule
public import SwitchboardStore

/// What the business server's hook is asked: the routing core's question (its fields read as
/// the query's own, `query.sessionID`), and where and how long to ask, from the settings.
@dynamicMemberLookup
public struct AllocationQuery: Sendable, Hashable {
    /// The routing core's question.
    public var call: HookCall
    /// Where the hook listens (`host:port`), from the settings.
    public var address: String
    /// How long the hook may take, from the settings.
    public var deadline: Duration

    /// Creates a query.
    public init(call: HookCall, address: String, deadline: Duration) {
        self.call = call
        self.address = address
        self.deadline = deadline
    }

    /// A field of the routing core's question.
    public subscript<Value>(dynamicMember field: KeyPath<HookCall, Value>) -> Value { call[keyPath: field] }
}

/// The business server's allocation hook, as the engine calls it. Its failures are answers
/// (`.failed`), so the fallback applies; it must return within its own deadline.
public protocol AllocationHook: Sendable {
    /// Chooses a target for a session.
    func allocate(_ query: AllocationQuery) async -> RoutingState.HookAnswer
}

/// The routing core's owner: an actor holding the routing state, running commands on it and
/// carrying out the actions each decision returns, in order: persist, then publish, then end
/// finished watches, then (for a business-server routing) call the hook, then answer from the
/// decision. Decisions are the ``RoutingState``'s; the actor decides nothing, and never re-reads
/// state that an `await` may have changed.
///
/// When a commit fails, the memory may be ahead of the database: the engine reloads from the
/// database (the source of truth) and the command fails with `UNAVAILABLE`.
public actor SwitchboardEngine {
    private let store: EngineStore
    private let clock: any WallClock
    private let hook: (any AllocationHook)?
    private let logger: Logger
    /// Live watchers of sessions' and agents' events.
    public nonisolated let hub = EventHub()
    private var state: RoutingState
    private var settingsVersion: Int64 = 0
    private var settingsUpdatedAt = Timestamp(milliseconds: 0)
    private var randomGenerator = SystemRandomNumberGenerator()
    /// The latest closed sessions, newest last: they left the routing core, and a read or a
    /// rating right after the close must see them even before their commit is readable.
    private var recentlyClosed = RecentRecords(capacity: 1024)
    /// Whether memory may be ahead of the database: a commit failed and the reload after it
    /// failed too (the database is away). Commands reload first; nothing is stored until then.
    private var stale = false
    /// The reload in progress, which every failed commit and stale command waits for.
    private var reloading: Task<Void, Never>?

    /// Loads the state from `store`; timers that expired while the server was down fire at once.
    public init(
        store: any SwitchboardStore, clock: any WallClock = SystemWallClock(), hook: (any AllocationHook)? = nil,
        logger: Logger = Logger(label: "switchboard.engine"), quotas: TenantQuotas = .unlimited, tenantID: String? = nil
    ) async throws(SwitchboardError) {
        self.store = EngineStore(store: store)
        self.clock = clock
        self.hook = hook
        self.logger = logger
        self.state = try RoutingState(settings: SwitchboardSettings(), agents: [], groups: [:])
        state.quotas = quotas
        state.tenantID = tenantID
        try await load()
        // A crash between a change and the assignments it allowed (a raised limit is committed
        // before the queued sessions it lets in) leaves queued sessions next to free capacity:
        // serve the queues once at start-up.
        let now = clock.now()
        try await commit(state.serveQueues(now: now).actions)
        await fireDueTimers()
    }

    private func load() async throws(SwitchboardError) {
        let stored = try await store.load(now: clock.now())
        let loaded = stored.state
        let settings = stored.settings
        settingsVersion = stored.settingsVersion
        settingsUpdatedAt = stored.settingsUpdatedAt
        var members: [String: Set<String>] = [:]
        for group in loaded.groups { members[group.id] = [] }
        for (profile, _, _) in loaded.agents {
            for group in profile.groupIDs { members[group, default: []].insert(profile.id) }
        }
        let (quotas, tenantID) = (state.quotas, state.tenantID)
        state = try RoutingState(
            settings: settings,
            agents: loaded.agents.map {
                var agent = AgentRuntime(
                    id: $0.profile.id, status: $0.profile.status, maxSessions: $0.profile.maxSessions, groupIDs: [],
                    idleSince: $0.lastAssignedAt, lastEventSequence: $0.lastEventSequence
                )
                agent.statusChangedAt = $0.profile.statusChangedAt
                return agent
            },
            groups: members,
            sessions: loaded.sessions,
            now: clock.now(),
            profiles: loaded.agents.map(\.profile),
            groupInfo: loaded.groups
        )
        // The tenant's, not the database's: kept across reloads.
        state.quotas = quotas
        state.tenantID = tenantID
        logger.info(
            "state loaded",
            metadata: ["agents": "\(loaded.agents.count)", "groups": "\(loaded.groups.count)", "sessions": "\(loaded.sessions.count)"]
        )
    }

    /// Carries out a decision's actions: stores them in one transaction and waits for the commit,
    /// then publishes the events and ends the watches of finished sessions.
    private func commit(_ actions: RoutingActions) async throws(SwitchboardError) {
        guard !stale else {
            // Decided on a state that may not be the database's: dropped, and reloaded.
            await reload()
            throw SwitchboardError(.unavailable, "storage failed: the state is being reloaded from the database; retry")
        }
        for session in actions.sessions.values where session.state == .closed { recentlyClosed.insert(session) }
        // Queued here, on the actor, before it suspends: commits follow the decisions' order.
        let queued = store.enqueue(actions)
        do {
            try await queued.committed()
        } catch {
            logger.error("commit failed; reloading the state from the database", metadata: ["error": "\(error)"])
            stale = true
            await reload()
            throw error
        }
        // Published only once stored: a watcher that misses them live finds them in the store.
        hub.publish(queued.events)
        for (id, last) in actions.finishedSessions { hub.finish(.session(id), after: last) }
    }

    /// Reloads the state from the database (the source of truth) after a failed commit, once for
    /// every caller waiting; then lets the store take checked writes again. While the database
    /// is away the state stays ``stale``, and the next command tries again.
    private func reload() async {
        if let current = reloading {
            await current.value
            guard stale else { return }
            // That reload began before this caller came, maybe while the database was still away:
            // one more (or the one another caller began meanwhile).
            if let newer = reloading, newer != current {
                await newer.value
                return
            }
        }
        let task = Task {
            do {
                try await self.load()
                self.recovered()
            } catch {
                self.logger.critical("reloading the state failed; the next command tries again", metadata: ["error": "\(error)"])
            }
        }
        reloading = task
        await task.value
        if reloading == task { reloading = nil }
    }

    private func recovered() {
        stale = false
        // Everything committed is readable now; what was closed but not stored is open again.
        recentlyClosed = RecentRecords(capacity: recentlyClosed.capacity)
        store.store.resumeAfterReload()
        logger.notice("state reloaded from the database")
    }

    /// While the state may be ahead of the database, reads from memory fail `UNAVAILABLE` too
    /// (they would show decisions that were never stored), and start a reload.
    private func requireFresh() throws(SwitchboardError) {
        guard stale else { return }
        if reloading == nil { Task { await self.reload() } }
        throw SwitchboardError(.unavailable, "storage failed: the state is being reloaded from the database; retry")
    }

    /// Reloads first if the state may be ahead of the database; `UNAVAILABLE` if it still is.
    private func freshen() async throws(SwitchboardError) {
        if stale { await reload() }
        try requireFresh()
    }

    /// Runs one command on the routing state at the current time, carries out its actions, and
    /// answers as it decided.
    private func apply<T>(
        _ command: (inout RoutingState, Timestamp) throws(SwitchboardError) -> RoutingDecision<T>
    ) async throws(SwitchboardError) -> T {
        if stale { await reload() }
        let decision = try command(&state, clock.now())
        try await commit(decision.actions)
        return decision.answer
    }

    /// Runs a command on a session that may have left memory: a closed one is answered
    /// `FAILED_PRECONDITION`, an unknown one `NOT_FOUND`.
    private func applyToSession<T>(
        _ sessionID: String, _ command: (inout RoutingState, Timestamp) throws(SwitchboardError) -> RoutingDecision<T>
    ) async throws(SwitchboardError) -> T {
        guard state.sessions[sessionID] != nil else {
            _ = try await session(id: sessionID)  // NOT_FOUND, or closed
            throw SwitchboardError(.failedPrecondition, "session '\(sessionID)' is CLOSED")
        }
        return try await apply(command)
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
        let stored = try await store.replaceSettings(settings, expectedVersion: expectedVersion)
        settingsVersion = stored.version
        settingsUpdatedAt = stored.updatedAt
        try await commit(try state.updateSettings(settings, now: clock.now()).actions)
        return (stored.version, stored.updatedAt)
    }

    // MARK: Agents and groups

    /// Creates an agent, `OFFLINE`.
    public func createAgent(id: String, displayName: String, maxSessions: Int?) async throws(SwitchboardError) -> AgentProfile {
        try await apply { state, now throws(SwitchboardError) in try state.createAgent(id: id, displayName: displayName, maxSessions: maxSessions, now: now) }
    }

    /// Changes an agent's name and/or limit; a raised limit takes queued sessions at once.
    public func updateAgent(id: String, displayName: String?, maxSessions: Int??) async throws(SwitchboardError) -> AgentProfile {
        try await apply { state, now throws(SwitchboardError) in
            try state.updateAgent(id: id, displayName: displayName, maxSessions: maxSessions, now: now)
        }
    }

    /// Deletes an agent that serves no `ACTIVE` session; sessions offered to it move on.
    public func deleteAgent(id: String) async throws(SwitchboardError) {
        try await apply { state, now throws(SwitchboardError) in try state.removeAgent(id: id, now: now) }
    }

    /// Sets an agent's status: going online takes queued sessions at once; leaving it moves the
    /// agent's offers on.
    public func setAgentStatus(id: String, _ status: AgentProfile.Status) async throws(SwitchboardError) -> AgentProfile {
        try await apply { state, now throws(SwitchboardError) in try state.setStatus(agentID: id, status, now: now) }
    }

    /// An agent as the engine knows it.
    public func agent(id: String) throws(SwitchboardError) -> AgentProfile {
        try requireFresh()
        return try state.requireProfile(id)
    }

    /// Creates a group.
    public func createGroup(id: String, name: String) async throws(SwitchboardError) -> AgentGroup {
        try await apply { state, now throws(SwitchboardError) in try state.createGroup(id: id, name: name, now: now) }
    }

    /// Renames a group.
    public func renameGroup(id: String, name: String) async throws(SwitchboardError) -> AgentGroup {
        try await apply { state, now throws(SwitchboardError) in try state.renameGroup(id: id, name: name, now: now) }
    }

    /// Deletes a group; its agents stay.
    public func deleteGroup(id: String) async throws(SwitchboardError) {
        try await apply { state, now throws(SwitchboardError) in try state.removeGroup(id: id, now: now) }
    }

    /// Adds an agent to a group; it may take the group's queued sessions at once.
    public func addMember(groupID: String, agentID: String) async throws(SwitchboardError) -> AgentGroup {
        try await apply { state, now throws(SwitchboardError) in try state.addMember(groupID: groupID, agentID: agentID, now: now) }
    }

    /// Removes an agent from a group.
    public func removeMember(groupID: String, agentID: String) async throws(SwitchboardError) -> AgentGroup {
        try await apply { state, now throws(SwitchboardError) in try state.removeMember(groupID: groupID, agentID: agentID, now: now) }
    }

    /// The groups of the user's menu, with whether an agent of each is online.
    public func groupMenu() -> [(group: AgentGroup, available: Bool)] {
        state.groupMenu()
    }

    // MARK: Sessions

    /// Creates a session and sends the welcome message.
    public func createSession(userID: String, channel: String, attributes: [String: String]) async throws(SwitchboardError) -> SessionRecord {
        try state.checkRoomForSession()
        let id = newSessionID(now: clock.now())
        return try await apply { state, now in state.createSession(id: id, userID: userID, channel: channel, attributes: attributes, now: now) }
    }

    /// A new session id: `s-`, the creation time in fixed-width base 32, then random characters.
    /// Ids sort by creation time, so new rows (sessions and their messages) land at the end of the
    /// tables' B-trees and a commit writes few pages.
    private func newSessionID(now: Timestamp) -> String {
        let time = UInt64(max(0, now.milliseconds))
        while true {
            // One draw of the system generator (a system call) holds the 8 random characters' 40 bits.
            var random = randomGenerator.next()
            var bytes: [UInt8] = Array("s-".utf8)
            bytes.reserveCapacity(20)
            for index in stride(from: 9, through: 0, by: -1) {
                bytes.append(Self.idAlphabet[Int((time >> (5 * UInt64(index))) & 31)])
            }
            for _ in 0..<8 {
                bytes.append(Self.idAlphabet[Int(random & 31)])
                random >>= 5
            }
            let id = String(decoding: bytes, as: UTF8.self)
            if state.sessions[id] == nil { return id }
        }
    }

    /// The characters of session ids, ascending, so that ids sort by time.
    private static let idAlphabet = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)

    /// A session: from memory, the latest closed ones, or the store.
    public func session(id: String) async throws(SwitchboardError) -> SessionRecord {
        try await freshen()
        if let session = state.sessions[id] ?? recentlyClosed[id] { return session }
        return try await store.session(id: id)
    }

    /// Stores a user message.
    public func userMessage(sessionID: String, text: String) async throws(SwitchboardError) -> TranscriptMessage {
        try await applyToSession(sessionID) { state, now throws(SwitchboardError) in try state.userMessage(sessionID: sessionID, text: text, now: now) }
    }

    /// Asks for an agent: after-hours reply, routing, or the business server's hook first.
    ///
    /// The hook is asked in a task of its own, so that a caller that goes away (its deadline, a
    /// dropped connection) does not cancel it: the routing then completes as the hook said, and
    /// the hook is never charged with the caller's cancellation.
    public func requestAgent(sessionID: String, groupID: String?) async throws(SwitchboardError) -> SessionRecord {
        let requested = try await applyToSession(sessionID) { state, now throws(SwitchboardError) in
            let decision = try state.requestAgent(sessionID: sessionID, groupID: groupID, now: now)
            return RoutingDecision(answer: (decision.answer.session, decision.actions.hookCall), actions: decision.actions)
        }
        guard let call = requested.1 else { return requested.0 }
        let allocation = Task { await self.allocate(call) }
        switch await allocation.value {
        case .success(let session): return session
        case .failure(let error): throw error
        }
    }

    /// Asks the hook and applies its answer (or the fallback).
    private func allocate(_ call: HookCall) async -> Result<SessionRecord, SwitchboardError> {
        let query = AllocationQuery(
            call: call, address: state.settings.allocation.hookAddress,
            deadline: .milliseconds(state.settings.allocation.hookDeadlineMilliseconds)
        )
        // The actor is free while the hook answers: other sessions are routed meanwhile.
        // The core holds the answer to the rules of any input (`HookAnswer.checked()`).
        let answer = await hook?.allocate(query) ?? .failed("no allocation hook is configured")
        if case .failed(let reason) = answer {
            logger.warning("allocation hook failed; fallback applies", metadata: ["session": "\(call.sessionID)", "reason": "\(reason)"])
        }
        do throws(SwitchboardError) {
            let decision = state.applyHookAnswer(sessionID: call.sessionID, answer: answer, now: clock.now())
            try await commit(decision.actions)
            guard let session = decision.answer else {
                throw SwitchboardError(.failedPrecondition, "session '\(call.sessionID)' was closed while it was being routed")
            }
            return .success(session)
        } catch {
            return .failure(error)
        }
    }

    /// A session's queue position.
    public func queuePosition(sessionID: String) async throws(SwitchboardError) -> (position: Int, ahead: Int)? {
        try await freshen()
        if state.sessions[sessionID] == nil { _ = try await session(id: sessionID) }
        return state.queuePosition(of: sessionID)
    }

    /// Closes a session for its user, or for its agent.
    public func close(sessionID: String, byAgent agentID: String?) async throws(SwitchboardError) -> SessionRecord {
        try await applyToSession(sessionID) { state, now throws(SwitchboardError) in try state.close(sessionID: sessionID, byAgent: agentID, now: now) }
    }

    /// Rates a session: a closed one is read from the store (it left the routing core).
    public func submitRating(sessionID: String, score: Int, comment: String) async throws(SwitchboardError) -> SessionRecord {
        var stored: SessionRecord?
        if state.sessions[sessionID] == nil, recentlyClosed[sessionID] == nil {
            stored = try await store.session(id: sessionID)
        }
        // Read again after the await: a rating committed meanwhile is in `recentlyClosed`.
        let known = recentlyClosed[sessionID] ?? stored
        return try await apply { state, now throws(SwitchboardError) in
            try state.submitRating(sessionID: sessionID, score: score, comment: comment, stored: known, now: now)
        }
    }

    /// The agent accepts an offered session.
    public func accept(agentID: String, sessionID: String) async throws(SwitchboardError) -> SessionRecord {
        try requireAgent(agentID)
        return try await applyToSession(sessionID) { state, now throws(SwitchboardError) in try state.accept(agentID: agentID, sessionID: sessionID, now: now) }
    }

    /// Stores an agent message.
    public func agentMessage(agentID: String, sessionID: String, text: String) async throws(SwitchboardError) -> TranscriptMessage {
        try requireAgent(agentID)
        return try await applyToSession(sessionID) { state, now throws(SwitchboardError) in
            try state.agentMessage(agentID: agentID, sessionID: sessionID, text: text, now: now)
        }
    }

    /// Transfers an agent's session.
    public func transfer(agentID: String, sessionID: String, to target: RoutingState.TransferTarget) async throws(SwitchboardError)
        -> SessionRecord
    {
        try requireAgent(agentID)
        return try await applyToSession(sessionID) { state, now throws(SwitchboardError) in
            try state.transfer(agentID: agentID, sessionID: sessionID, to: target, now: now)
        }
    }

    /// The agent invites the user to rate.
    public func inviteRating(agentID: String, sessionID: String) async throws(SwitchboardError) -> SessionRecord {
        try requireAgent(agentID)
        return try await applyToSession(sessionID) { state, now throws(SwitchboardError) in
            try state.inviteRating(agentID: agentID, sessionID: sessionID, now: now)
        }
    }

    /// An agent's sessions in state OFFERED or ACTIVE, by id.
    public func agentSessions(agentID: String) throws(SwitchboardError) -> [SessionRecord] {
        try requireFresh()
        try requireAgent(agentID)
        return (state.agents[agentID]?.sessions ?? []).sorted().compactMap { state.sessions[$0] }
    }

    /// The last event of a session to which nothing more can happen (closed, and rated or past
    /// its rating window): its watch streams end there. `nil` while more may come.
    public func finalEventSequence(sessionID: String) async throws(SwitchboardError) -> Int64? {
        try await freshen()
        if state.sessions[sessionID] != nil { return nil }
        let session = try await session(id: sessionID)
        return session.isFinished(at: clock.now()) ? session.lastEventSequence : nil
    }

    private func requireAgent(_ id: String) throws(SwitchboardError) {
        _ = try state.requireProfile(id)
    }

    // MARK: Timers

    /// When the next timer is due.
    public func nextDeadline() -> Timestamp? {
        state.nextDeadline()
    }

    // MARK: Tenant

    /// Sets the tenant's quotas of agents and open sessions; lowered quotas refuse new agents
    /// and sessions beyond them and keep those that exist.
    public func setQuotas(_ quotas: TenantQuotas) {
        state.quotas = quotas
    }

    /// What the tenant uses: agents, sessions not closed, sessions queued.
    public func usage() -> (agents: Int, openSessions: Int, queuedSessions: Int) {
        (state.agents.count, state.sessions.count, state.queuedSessionCount)
    }

    /// Fires the timers due now and carries out what they decided.
    public func fireDueTimers() async {
        do {
            try await commit(state.fireDueTimers(now: clock.now()).actions)
        } catch {
            logger.error("storing timer changes failed", metadata: ["error": "\(error)"])
        }
    }
}

/// The latest records by id, at most `capacity` of them: the oldest is dropped first.
struct RecentRecords {
    private var records: [String: SessionRecord] = [:]
    private var order: Deque<String> = []
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    subscript(id: String) -> SessionRecord? { records[id] }

    mutating func insert(_ record: SessionRecord) {
        if records.updateValue(record, forKey: record.id) == nil { order.append(record.id) }
        while order.count > capacity, let oldest = order.popFirst() { records[oldest] = nil }
    }
}
