import DequeModule
import HeapModule

/// The routing state machine: agents' load, the queues, open sessions and their timers, and every
/// decision of the product's session rules. Plain and synchronous: each command takes the current
/// time and returns a ``RoutingDecision``: its answer and the ``RoutingActions`` its owner must
/// carry out (persist, publish, end watches, call the hook). Tests drive it directly with any clock.
///
/// Only open sessions live here: a session leaves memory as soon as it closes (the store keeps
/// it; a rating is applied to the stored record, see ``submitRating(sessionID:score:comment:stored:now:)``).
///
/// The commands are grouped by concern in files of their own: `RoutingState+Sessions.swift`
/// (the user gateway's commands), `RoutingState+Agents.swift` (agents, groups, settings),
/// `RoutingState+Routing.swift` (choosing an agent, offers, serving the queue),
/// `RoutingState+Timers.swift` (what happens as time passes), `RoutingQueues.swift` (FIFO queues
/// per target), `IdlePool.swift` (longest-idle agents) and `TimerQueue.swift` (deadlines).
public struct RoutingState: Sendable {
    /// Where a transfer goes.
    public enum TransferTarget: Sendable, Hashable {
        case agent(String)
        case group(String)
    }

    /// What `requestAgent` did.
    public enum RequestOutcome: Sendable, Hashable {
        /// Outside working hours: the after-hours reply was sent; the session stays with the bot.
        case afterHours
        /// The business server must choose: the actions carry the ``HookCall``; its answer goes to
        /// ``applyHookAnswer(sessionID:answer:now:)``. The session is allocating meanwhile.
        case needsHook
        /// Routed: assigned, offered, queued, or transfer failed (see the session's state).
        case routed
    }

    /// A business server's answer, or its failure.
    public enum HookAnswer: Sendable, Hashable {
        case group(String)
        case agents([String])
        case reject(String)
        /// Allocate automatically, among all agents.
        case automatic
        /// The hook failed (deadline, error, unreachable, malformed answer): the fallback applies.
        case failed(String)
    }

    public internal(set) var settings: SwitchboardSettings {
        didSet { prompts = PromptTemplates(settings) }
    }
    /// The settings' prompts, parsed once whenever the settings are set.
    private(set) var prompts: PromptTemplates
    var schedule: WorkingSchedule?
    public internal(set) var agents: [String: AgentRuntime] = [:]
    /// Group id to member agent ids.
    public internal(set) var groups: [String: Set<String>] = [:]
    /// The agents' directory entries (names, creation); see ``profile(of:)``.
    var profiles: [String: AgentProfile] = [:]
    /// The groups' directory entries; see ``group(_:)``.
    var groupInfo: [String: AgentGroup] = [:]
    /// The open sessions.
    public internal(set) var sessions: [String: SessionRecord] = [:]
    var queues = RoutingQueues()
    public internal(set) var nextTicket: Int64 = 1
    var idle = IdlePool()
    var timers = TimerQueue()
    /// Counts idle-time restarts, to order those of one millisecond.
    var idleEvents: UInt64 = 0
    /// What the command under way decided so far.
    var actions = RoutingActions()
    /// The sessions the command under way changed (``store(_:)``), each once: the epilogue of
    /// ``decide(now:_:)`` lists their final versions in the actions.
    var changedSessions: [String] = []
    /// The tenant's quotas of agents and open sessions (the others are the server's to count).
    public var quotas = TenantQuotas.unlimited
    /// The tenant this state is of, named in quota errors.
    public var tenantID: String?

    /// Creates the state from what the store holds (at start-up: open sessions, every agent and
    /// group), rebuilding queues, loads and timers. Of a closed session given, only its open rating
    /// window is kept (as a timer, for its watchers). With `now`, sessions with the bot get their
    /// idle deadline from then.
    public init(
        settings: SwitchboardSettings, agents: [AgentRuntime], groups: [String: Set<String>],
        sessions: [SessionRecord] = [], now: Timestamp? = nil, profiles: [AgentProfile] = [], groupInfo: [AgentGroup] = []
    ) throws(SwitchboardError) {
        self.settings = settings
        self.prompts = PromptTemplates(settings)
        self.schedule = try WorkingSchedule(settings.workingHours)
        self.groups = groups
        let epoch = Timestamp(milliseconds: 0)
        self.profiles = Dictionary(profiles.map { ($0.id, $0) }) { $1 }
        self.groupInfo = Dictionary(groupInfo.map { ($0.id, $0) }) { $1 }
        for id in groups.keys where self.groupInfo[id] == nil {
            self.groupInfo[id] = AgentGroup(id: id, name: id, memberCount: 0, createdAt: epoch)
        }
        for agent in agents where self.profiles[agent.id] == nil {
            self.profiles[agent.id] = AgentProfile(
                id: agent.id, displayName: agent.id, maxSessions: agent.maxSessions, status: agent.status, groupIDs: [],
                statusChangedAt: agent.statusChangedAt, createdAt: epoch
            )
        }
        for var agent in agents {
            agent.sessions = []
            agent.groupIDs = Set(groups.filter { $0.value.contains(agent.id) }.keys)
            self.agents[agent.id] = agent
            if agent.status == .online { idle.countOnline(agent, +1) }
        }
        for var session in sessions.sorted(by: { ($0.queueTicket ?? 0) < ($1.queueTicket ?? 0) }) {
            guard session.state != .closed else {
                if session.rating == nil { timers.pushRatingWindow(of: session) }
                continue
            }
            if let ticket = session.queueTicket { nextTicket = max(nextTicket, ticket + 1) }
            session.allocating = false  // the hook's answer was lost with the previous process
            if session.state == .bot, session.botIdleDeadline == nil, let now {
                // Not stored: a restart gives a session with the bot a whole idle period again.
                session.botIdleDeadline = now.adding(.seconds(settings.closure.botIdleTimeoutSeconds))
            }
            switch session.state {
            case .queued:
                queues.insert(session)
            case .offered, .active:
                if let agentID = session.agentID { self.agents[agentID]?.sessions.insert(session.id) }
            case .bot, .closed:
                break
            }
            self.sessions[session.id] = session
            timers.schedule(session)
        }
        for agent in self.agents.values { pushIdle(agent) }
    }

    // MARK: Reading

    /// An agent's capacity: its own limit or the settings'.
    public func capacity(of agent: AgentRuntime) -> Int {
        agent.maxSessions ?? settings.queue.maxSessionsPerAgent
    }

    /// Whether an agent may be given a session now.
    func isAvailable(_ agent: AgentRuntime) -> Bool {
        agent.status == .online && agent.sessions.count < capacity(of: agent)
    }

    /// A session's place among the sessions waiting for the same target: (position, ahead).
    public func queuePosition(of sessionID: String) -> (position: Int, ahead: Int)? {
        guard let session = sessions[sessionID], session.state == .queued else { return nil }
        return queues.position(of: session)
    }

    /// How many sessions wait, for all targets.
    public var queuedSessionCount: Int { queues.count }

    /// The earliest pending timer, if any (stale timers met on the way are dropped).
    public mutating func nextDeadline() -> Timestamp? {
        var queue = TimerQueue()
        swap(&queue, &timers)  // checked against the sessions while changed, without a copy
        defer { swap(&queue, &timers) }
        return queue.nextDeadline { entry in isCurrent(entry) }
    }

    // MARK: Deciding

    /// Runs one command: what it changed becomes the decision's actions. Epilogue, for every
    /// session the command touched: a session with the bot gets a new idle deadline; a closed one
    /// leaves memory (a timer remembers its rating window, so that its watchers learn when it is
    /// over), and one to which nothing more can happen is listed as finished. Then each goes to
    /// the actions, once, as it ends the command.
    mutating func decide<Answer, Failure: Error>(
        now: Timestamp, _ command: (inout RoutingState) throws(Failure) -> Answer
    ) throws(Failure) -> RoutingDecision<Answer> {
        actions = RoutingActions()
        changedSessions.removeAll(keepingCapacity: true)
        let answer: Answer
        do {
            answer = try command(&self)
        } catch {
            actions = RoutingActions()
            changedSessions.removeAll(keepingCapacity: true)
            throw error
        }
        // This runs for every session of every decision: each is read in place, by its index, and
        // copied once, into the actions; only a changed idle deadline is written again.
        actions.sessions.reserveCapacity(changedSessions.count)
        for id in changedSessions {
            guard let index = sessions.index(forKey: id) else { continue }
            let state = sessions.values[index].state
            assert(
                sessions.values[index].agentID == nil || [.offered, .active, .closed].contains(state),
                "session \(id) names an agent in state \(state)"
            )
            guard state != .closed else {
                var closed = sessions.remove(at: index).value
                if closed.isFinished(at: now) {
                    actions.finishedSessions[id] = closed.lastEventSequence
                } else {
                    timers.pushRatingWindow(of: closed)
                }
                closed.botIdleDeadline = nil
                actions.sessions[id] = closed
                continue
            }
            // Only a session with the bot, and not being routed, can idle out.
            let idleDeadline = state == .bot && !sessions.values[index].allocating
                ? now.adding(.seconds(settings.closure.botIdleTimeoutSeconds)) : nil
            if sessions.values[index].botIdleDeadline != idleDeadline {
                sessions.values[index].botIdleDeadline = idleDeadline
                if let idleDeadline { timers.push(.botIdle, idleDeadline, id) }
            }
            actions.sessions[id] = sessions.values[index]
        }
        changedSessions.removeAll(keepingCapacity: true)
        let decided = actions
        actions = RoutingActions()
        return RoutingDecision(answer: answer, actions: decided)
    }

    // MARK: Recording

    /// Records a session's new version: in memory, and to store (its version as the command ends).
    mutating func store(_ session: SessionRecord) {
        sessions[session.id] = session
        if !changedSessions.contains(session.id) { changedSessions.append(session.id) }
    }

    /// Records an agent's new status or idle time, to store.
    mutating func storeAgent(_ agentID: String) {
        if let agent = agents[agentID] { actions.agents[agentID] = agent }
    }

    func openSession(_ id: String) throws(SwitchboardError) -> SessionRecord {
        guard let session = sessions[id] else { throw SwitchboardError(.notFound, "session '\(id)' not found") }
        return session
    }

    func assignedSession(_ id: String, agentID: String) throws(SwitchboardError) -> SessionRecord {
        let session = try openSession(id)
        guard session.agentID == agentID, session.state == .active || session.state == .offered else {
            throw SwitchboardError(.permissionDenied, "session '\(id)' is not assigned to agent '\(agentID)'")
        }
        return session
    }

    mutating func sendPrompt(_ kind: PromptKind, to session: inout SessionRecord, now: Timestamp) {
        guard let text = prompts[kind] else { return }
        append(.system(kind), text, to: &session, now: now)
    }

    @discardableResult
    mutating func append(_ sender: Sender, _ text: String, to session: inout SessionRecord, now: Timestamp) -> TranscriptMessage {
        session.lastSequence += 1
        let message = TranscriptMessage(sessionID: session.id, sequence: session.lastSequence, sender: sender, text: text, createdAt: now)
        actions.messages.append(message)
        emit(.message(message), for: &session, now: now)
        if case .user = sender, session.state == .active || session.state == .offered, let agentID = session.agentID {
            emit(.userMessage(message), toAgent: agentID, now: now)
        }
        return message
    }

    mutating func emit(_ kind: SessionEventRecord.Kind, for session: inout SessionRecord, now: Timestamp) {
        session.lastEventSequence += 1
        actions.sessionEvents.append(
            SessionEventRecord(sessionID: session.id, sequence: session.lastEventSequence, createdAt: now, kind: kind)
        )
    }

    mutating func emitState(_ session: inout SessionRecord, now: Timestamp) {
        emit(
            .stateChanged(state: session.state, agentID: session.agentID, groupID: session.groupID, closeReason: session.closeReason),
            for: &session, now: now
        )
    }

    mutating func emit(_ kind: AgentEventRecord.Kind, toAgent agentID: String, now: Timestamp) {
        guard let agent = agents.index(forKey: agentID) else { return }
        agents.values[agent].lastEventSequence += 1
        let sequence = agents.values[agent].lastEventSequence
        actions.agentEvents.append(AgentEventRecord(agentID: agentID, sequence: sequence, createdAt: now, kind: kind))
    }
}
