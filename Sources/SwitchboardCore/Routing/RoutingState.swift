import DequeModule
import HeapModule

/// The routing state machine: agents' load, the queue, open sessions and their timers, and every
/// decision of the product's session rules. Plain and synchronous: each command takes the current
/// time, changes the state, and records what changed (``Changes``) for the owner to persist.
/// Tests drive it directly with any clock.
public struct RoutingState: Sendable {
    /// What commands changed since the last ``takeChanges()``: to persist, in order.
    public struct Changes: Sendable {
        /// Sessions to store whole.
        public var sessions: Set<String> = []
        /// Agents whose status or last assignment changed.
        public var agents: Set<String> = []
        /// New transcript messages, in order.
        public var messages: [TranscriptMessage] = []
        /// New session events, in order.
        public var sessionEvents: [SessionEventRecord] = []
        /// New agent events, in order.
        public var agentEvents: [AgentEventRecord] = []

        /// Whether nothing changed.
        public var isEmpty: Bool {
            sessions.isEmpty && agents.isEmpty && messages.isEmpty && sessionEvents.isEmpty && agentEvents.isEmpty
        }
    }

    /// Where a transfer goes.
    public enum TransferTarget: Sendable, Hashable {
        case agent(String)
        case group(String)
    }

    /// What `requestAgent` did.
    public enum RequestOutcome: Sendable, Hashable {
        /// Outside working hours: the after-hours reply was sent; the session stays with the bot.
        case afterHours
        /// The business server must choose: call the hook, then ``applyHookAnswer(sessionID:answer:now:)``.
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

    private struct QueueEntry: Sendable {
        let ticket: Int64
        let sessionID: String
    }

    private enum IdleKey: Hashable, Sendable {
        case all
        case group(String)

        func contains(_ agent: AgentRuntime) -> Bool {
            switch self {
            case .all: true
            case .group(let id): agent.groupIDs.contains(id)
            }
        }
    }

    /// An agent's place in a longest-idle heap; stale entries are skipped when met.
    private struct IdleEntry: Comparable, Sendable {
        let lastAssignedAt: Int64
        let agentID: String

        static func < (lhs: IdleEntry, rhs: IdleEntry) -> Bool {
            (lhs.lastAssignedAt, lhs.agentID) < (rhs.lastAssignedAt, rhs.agentID)
        }
    }

    private enum TimerKind: Int, Sendable {
        case offer, userTimeout, queueMessage
    }

    private struct TimerEntry: Comparable, Sendable {
        let deadline: Int64
        let kind: TimerKind
        let sessionID: String

        static func < (lhs: TimerEntry, rhs: TimerEntry) -> Bool {
            (lhs.deadline, lhs.kind.rawValue, lhs.sessionID) < (rhs.deadline, rhs.kind.rawValue, rhs.sessionID)
        }
    }

    public private(set) var settings: SwitchboardSettings
    private var schedule: WorkingSchedule?
    public private(set) var agents: [String: AgentRuntime] = [:]
    /// Group id to member agent ids.
    public private(set) var groups: [String: Set<String>] = [:]
    public private(set) var sessions: [String: SessionRecord] = [:]
    private var queues: [RoutingTarget: Deque<QueueEntry>] = [:]
    private var queuedTotal = 0
    public private(set) var nextTicket: Int64 = 1
    private var idle: [IdleKey: Heap<IdleEntry>] = [:]
    private var online: [IdleKey: Int] = [:]
    private var timers = Heap<TimerEntry>()
    private var changes = Changes()

    /// Creates the state from what the store holds (at start-up: open sessions, every agent and
    /// group), rebuilding queues, loads and timers.
    public init(
        settings: SwitchboardSettings, agents: [AgentRuntime], groups: [String: Set<String>],
        sessions: [SessionRecord] = []
    ) throws(SwitchboardError) {
        self.settings = settings
        self.schedule = try WorkingSchedule(settings.workingHours)
        self.groups = groups
        for var agent in agents {
            agent.sessions = []
            agent.groupIDs = Set(groups.filter { $0.value.contains(agent.id) }.keys)
            self.agents[agent.id] = agent
            if agent.status == .online { countOnline(agent, +1) }
        }
        for session in sessions.sorted(by: { ($0.queueTicket ?? 0) < ($1.queueTicket ?? 0) }) {
            self.sessions[session.id] = session
            if let ticket = session.queueTicket { nextTicket = max(nextTicket, ticket + 1) }
            switch session.state {
            case .queued:
                insertIntoQueue(session)
            case .offered, .active:
                if let agentID = session.agentID { self.agents[agentID]?.sessions.insert(session.id) }
            case .bot, .closed:
                break
            }
            scheduleTimers(of: session)
        }
        for agent in self.agents.values { pushIdle(agent) }
    }

    // MARK: Reading

    /// An agent's capacity: its own limit or the settings'.
    public func capacity(of agent: AgentRuntime) -> Int {
        agent.maxSessions ?? settings.queue.maxSessionsPerAgent
    }

    /// A session's place among the sessions waiting for the same target: (position, ahead).
    public func queuePosition(of sessionID: String) -> (position: Int, ahead: Int)? {
        guard let session = sessions[sessionID], session.state == .queued, let target = session.target,
            let ticket = session.queueTicket, let queue = queues[target], let index = Self.index(in: queue, of: ticket)
        else { return nil }
        return (index + 1, index)
    }

    /// How many sessions wait, for all targets.
    public var queuedSessionCount: Int { queuedTotal }

    /// The earliest pending timer, if any (stale timers met on the way are dropped).
    public mutating func nextDeadline() -> Timestamp? {
        while let entry = timers.min {
            if isCurrent(entry) { return Timestamp(milliseconds: entry.deadline) }
            _ = timers.removeMin()
        }
        return nil
    }

    /// What changed since the last call; resets the record.
    public mutating func takeChanges() -> Changes {
        defer { changes = Changes() }
        return changes
    }

    // MARK: Sessions

    /// Creates a session with the bot and sends the welcome message.
    public mutating func createSession(
        id: String, userID: String, channel: String, attributes: [String: String], now: Timestamp
    ) -> SessionRecord {
        var session = SessionRecord(id: id, userID: userID, channel: channel, attributes: attributes, createdAt: now)
        sessions[id] = session
        sendPrompt(.welcome, to: &session, now: now)
        store(session)
        return session
    }

    /// Adds a closed or evicted session back (read from the store to rate it, for example).
    public mutating func load(_ session: SessionRecord) {
        guard sessions[session.id] == nil else { return }
        sessions[session.id] = session
        scheduleTimers(of: session)
    }

    /// Forgets a closed session whose rating window is over (memory only; the store keeps it).
    public mutating func evictClosed(before now: Timestamp) {
        let done = sessions.values.filter { session in
            session.state == .closed && (session.ratingDeadline.map { $0 < now } ?? true)
        }.map(\.id)
        for id in done { sessions[id] = nil }
    }

    /// Stores a user message; clears the user response timeout.
    public mutating func userMessage(sessionID: String, text: String, now: Timestamp) throws(SwitchboardError) -> TranscriptMessage {
        var session = try openSession(sessionID)
        let message = append(.user, text, to: &session, now: now)
        session.userTimeoutAt = nil
        store(session)
        return message
    }

    /// Asks for an agent: after-hours reply, or the start of routing by the allocation policy.
    public mutating func requestAgent(sessionID: String, groupID: String?, now: Timestamp) throws(SwitchboardError) -> RequestOutcome {
        var session = try openSession(sessionID)
        guard session.state == .bot else {
            throw SwitchboardError(.failedPrecondition, "session '\(sessionID)' is \(session.state), not BOT: it already has or awaits an agent")
        }
        if let schedule, !schedule.isOpen(at: now) {
            sendPrompt(.afterHours, to: &session, now: now)
            store(session)
            return .afterHours
        }
        let target: RoutingTarget
        switch settings.allocation.policy {
        case .userSelectsGroup:
            guard let groupID, !groupID.isEmpty else {
                throw .invalid("group_id", "must name the group the user chose (the policy is USER_SELECTS_GROUP)")
            }
            guard groups[groupID] != nil else { throw SwitchboardError(.notFound, "group '\(groupID)' not found") }
            target = .group(groupID)
        case .businessServer:
            if let groupID, !groupID.isEmpty, groups[groupID] == nil {
                throw SwitchboardError(.notFound, "group '\(groupID)' not found")
            }
            sendPrompt(.manualAccessInProgress, to: &session, now: now)
            store(session)
            return .needsHook
        case .automatic, .unspecified:
            target = .anyAgent
        }
        sendPrompt(.manualAccessInProgress, to: &session, now: now)
        route(&session, to: target, now: now)
        store(session)
        return .routed
    }

    /// Applies the business server's answer (or failure) to a session waiting for it.
    public mutating func applyHookAnswer(sessionID: String, answer: HookAnswer, now: Timestamp) throws(SwitchboardError) {
        var session = try openSession(sessionID)
        guard session.state == .bot else { return }  // closed or routed meanwhile
        let fallback = {
            (session: inout SessionRecord, state: inout RoutingState) in
            switch state.settings.allocation.fallback {
            case .transferFailed:
                state.sendPrompt(.transferFailed, to: &session, now: now)
            case .automatic, .unspecified:
                state.route(&session, to: .anyAgent, now: now)
            }
        }
        switch answer {
        case .group(let groupID):
            if groups[groupID] != nil {
                route(&session, to: .group(groupID), now: now)
            } else {
                fallback(&session, &self)
            }
        case .agents(let ids):
            let known = Set(ids).filter { agents[$0]?.status == .online }.sorted()
            if known.isEmpty {
                fallback(&session, &self)
            } else {
                route(&session, to: .agents(known), now: now)
            }
        case .reject(let message):
            if message.isEmpty {
                sendPrompt(.transferFailed, to: &session, now: now)
            } else {
                append(.system(.transferFailed), message, to: &session, now: now)
            }
        case .automatic:
            route(&session, to: .anyAgent, now: now)
        case .failed:
            fallback(&session, &self)
        }
        store(session)
    }

    /// The agent accepts an offered session ("Connect").
    public mutating func accept(agentID: String, sessionID: String, now: Timestamp) throws(SwitchboardError) -> SessionRecord {
        var session = try openSession(sessionID)
        guard session.agentID == agentID, session.state == .offered || session.state == .active else {
            throw SwitchboardError(.permissionDenied, "session '\(sessionID)' is not offered to agent '\(agentID)'")
        }
        guard session.state == .offered else {
            throw SwitchboardError(.failedPrecondition, "session '\(sessionID)' is already ACTIVE")
        }
        session.state = .active
        session.offerDeadline = nil
        emitState(&session, now: now)
        emit(.assigned(sessionID: session.id), toAgent: agentID, now: now)
        sendPrompt(.transferSucceeded, to: &session, now: now)
        store(session)
        return session
    }

    /// Stores an agent message; starts the user response timeout if not running.
    public mutating func agentMessage(agentID: String, sessionID: String, text: String, now: Timestamp)
        throws(SwitchboardError) -> TranscriptMessage
    {
        var session = try assignedSession(sessionID, agentID: agentID)
        guard session.state == .active else {
            throw SwitchboardError(.failedPrecondition, "session '\(sessionID)' is \(session.state); accept it first")
        }
        let message = append(.agent(agentID), text, to: &session, now: now)
        let timeout = settings.closure.userTimeoutSeconds
        if timeout > 0 && session.userTimeoutAt == nil {
            session.userTimeoutAt = now.adding(.seconds(timeout))
            pushTimer(.userTimeout, session.userTimeoutAt!, session.id)
        }
        store(session)
        return message
    }

    /// Closes a session: by its user (`agentID` nil) or its assigned agent.
    public mutating func close(sessionID: String, byAgent agentID: String?, now: Timestamp) throws(SwitchboardError) -> SessionRecord {
        var session: SessionRecord
        if let agentID {
            session = try assignedSession(sessionID, agentID: agentID)
        } else {
            session = try openSession(sessionID)
        }
        finish(&session, reason: agentID == nil ? .userEnded : .agentEnded, now: now)
        store(session)
        return session
    }

    /// Moves an agent's session to another agent or a group.
    public mutating func transfer(agentID: String, sessionID: String, to destination: TransferTarget, now: Timestamp)
        throws(SwitchboardError) -> SessionRecord
    {
        var session = try assignedSession(sessionID, agentID: agentID)
        let target: RoutingTarget
        switch destination {
        case .agent(let other):
            guard let receiver = agents[other] else { throw SwitchboardError(.notFound, "agent '\(other)' not found") }
            guard other != agentID else { throw .invalid("agent_id", "names the session's own agent") }
            guard receiver.status == .online, receiver.sessions.count < capacity(of: receiver) else {
                throw SwitchboardError(.failedPrecondition, "agent '\(other)' is not online with free capacity")
            }
            target = .agents([other])
        case .group(let groupID):
            guard let members = groups[groupID] else { throw SwitchboardError(.notFound, "group '\(groupID)' not found") }
            guard members.contains(where: { $0 != agentID && agents[$0]?.status == .online }) else {
                throw SwitchboardError(.failedPrecondition, "no other agent of group '\(groupID)' is online")
            }
            target = .group(groupID)
        }
        release(&session, from: agentID)
        emit(.transferredAway(sessionID: sessionID), toAgent: agentID, now: now)
        session.state = .bot
        session.missedAgents.append(agentID)  // not back to the agent who passed it on
        session.queueTicket = nil
        route(&session, to: target, now: now, failIfNobodyOnline: false)
        store(session)
        serveQueue(agentID: agentID, now: now)
        return sessions[sessionID] ?? session
    }

    /// The assigned agent invites the user to rate.
    public mutating func inviteRating(agentID: String, sessionID: String, now: Timestamp) throws(SwitchboardError) -> SessionRecord {
        var session = try assignedSession(sessionID, agentID: agentID)
        guard settings.rating.enabled, settings.rating.agentMayInvite else {
            throw SwitchboardError(.failedPrecondition, "agents may not invite ratings (settings.rating)")
        }
        guard session.rating == nil else {
            throw SwitchboardError(.alreadyExists, "session '\(sessionID)' is already rated")
        }
        invite(&session, now: now)
        store(session)
        return session
    }

    /// The user rates the session inside the invitation's window.
    public mutating func submitRating(sessionID: String, score: Int, comment: String, now: Timestamp)
        throws(SwitchboardError) -> SessionRecord
    {
        guard var session = sessions[sessionID] else { throw SwitchboardError(.notFound, "session '\(sessionID)' not found") }
        guard (1...5).contains(score) else { throw .invalid("score", "must be from 1 to 5, got \(score)") }
        guard session.rating == nil else { throw SwitchboardError(.alreadyExists, "session '\(sessionID)' is already rated") }
        guard let deadline = session.ratingDeadline else {
            throw SwitchboardError(.failedPrecondition, "session '\(sessionID)' has no rating invitation")
        }
        guard now <= deadline else {
            throw SwitchboardError(.failedPrecondition, "the rating window of session '\(sessionID)' closed")
        }
        session.rating = SessionRatingRecord(score: score, comment: comment, submittedAt: now)
        emit(.rated(session.rating!), for: &session, now: now)
        sendPrompt(.ratingSubmitted, to: &session, now: now)
        store(session)
        return session
    }

    // MARK: Agents, groups, settings

    /// Adds or updates an agent's routing view (created, renamed, limit changed).
    public mutating func upsertAgent(id: String, maxSessions: Int?, status: AgentProfile.Status, now: Timestamp) {
        if var agent = agents[id] {
            let raised = (maxSessions ?? settings.queue.maxSessionsPerAgent) > capacity(of: agent)
            agent.maxSessions = maxSessions
            agents[id] = agent
            if raised { pushIdle(agent); serveQueue(agentID: id, now: now) }
        } else {
            agents[id] = AgentRuntime(id: id, status: status, maxSessions: maxSessions, groupIDs: [])
            if status == .online { countOnline(agents[id]!, +1); pushIdle(agents[id]!) }
        }
    }

    /// Removes an agent that serves no session.
    public mutating func removeAgent(id: String) throws(SwitchboardError) {
        guard let agent = agents[id] else { return }
        guard agent.sessions.isEmpty else {
            throw SwitchboardError(.failedPrecondition, "agent '\(id)' still serves \(agent.sessions.count) session(s); close or transfer them first")
        }
        if agent.status == .online { countOnline(agent, -1) }
        for group in agent.groupIDs { groups[group]?.remove(id) }
        agents[id] = nil
    }

    /// Sets an agent's status; an agent going online takes queued sessions at once.
    public mutating func setStatus(agentID: String, _ status: AgentProfile.Status, now: Timestamp) throws(SwitchboardError) {
        guard var agent = agents[agentID] else { throw SwitchboardError(.notFound, "agent '\(agentID)' not found") }
        guard agent.status != status else { return }
        if agent.status == .online { countOnline(agent, -1) }
        agent.status = status
        agents[agentID] = agent
        if status == .online {
            countOnline(agent, +1)
            pushIdle(agent)
            serveQueue(agentID: agentID, now: now)
        }
    }

    /// Adds a group (empty).
    public mutating func addGroup(id: String) {
        if groups[id] == nil { groups[id] = [] }
    }

    /// Removes a group. Sessions waiting for it can no longer be served: they go back to the bot
    /// with the transfer-failed prompt (the user may ask again).
    public mutating func removeGroup(id: String, now: Timestamp) {
        for entry in queues.removeValue(forKey: .group(id)) ?? [] {
            guard var session = sessions[entry.sessionID] else { continue }
            queuedTotal -= 1
            session.state = .bot
            session.target = nil
            session.queueTicket = nil
            session.nextQueueMessageAt = nil
            session.lastQueueMessagePosition = nil
            emitState(&session, now: now)
            sendPrompt(.transferFailed, to: &session, now: now)
            store(session)
        }
        for member in groups[id] ?? [] {
            agents[member]?.groupIDs.remove(id)
            if agents[member]?.status == .online { online[.group(id), default: 0] -= 1 }
        }
        groups[id] = nil
        idle[.group(id)] = nil
        online[.group(id)] = nil
    }

    /// Makes an agent a member of a group; it may take the group's queued sessions at once.
    public mutating func addMember(groupID: String, agentID: String, now: Timestamp) {
        guard groups[groupID] != nil, var agent = agents[agentID], !agent.groupIDs.contains(groupID) else { return }
        groups[groupID]!.insert(agentID)
        agent.groupIDs.insert(groupID)
        agents[agentID] = agent
        if agent.status == .online { online[.group(groupID), default: 0] += 1 }
        pushIdle(agent)
        serveQueue(agentID: agentID, now: now)
    }

    /// Removes an agent from a group.
    public mutating func removeMember(groupID: String, agentID: String) {
        guard groups[groupID]?.remove(agentID) != nil else { return }
        agents[agentID]?.groupIDs.remove(groupID)
        if agents[agentID]?.status == .online { online[.group(groupID), default: 0] -= 1 }
    }

    /// Applies new settings to every later decision; raised capacity takes queued sessions.
    public mutating func updateSettings(_ settings: SwitchboardSettings, now: Timestamp) throws(SwitchboardError) {
        let schedule = try WorkingSchedule(settings.workingHours)
        self.settings = settings
        self.schedule = schedule
        serveQueues(now: now)
    }

    /// Gives every online agent with free capacity the queued sessions it may serve, longest idle
    /// first: after a limit was raised, and at start-up (a crash may have come between a change
    /// and the assignments it allowed).
    public mutating func serveQueues(now: Timestamp) {
        let waiting = agents.values.filter { $0.status == .online }.sorted { ($0.lastAssignedAt, $0.id) < ($1.lastAssignedAt, $1.id) }
        for agent in waiting {
            pushIdle(agent)
            serveQueue(agentID: agent.id, now: now)
        }
    }

    // MARK: Timers

    /// Runs every timer due at `now`: offers that expired, user timeouts, queue messages.
    public mutating func fireDueTimers(now: Timestamp) {
        while let entry = timers.min, entry.deadline <= now.milliseconds {
            _ = timers.removeMin()
            guard isCurrent(entry), var session = sessions[entry.sessionID] else { continue }
            switch entry.kind {
            case .offer:
                expireOffer(&session, now: now)
            case .userTimeout:
                session.userTimeoutAt = nil
                finish(&session, reason: .userTimeout, now: now)
                store(session)
            case .queueMessage:
                guard session.state == .queued, let position = queuePosition(of: session.id) else { continue }
                if position.position != session.lastQueueMessagePosition {
                    sendQueueMessage(to: &session, position: position, now: now)
                }
                session.nextQueueMessageAt = now.adding(.seconds(settings.queue.queueMessageIntervalSeconds))
                pushTimer(.queueMessage, session.nextQueueMessageAt!, session.id)
                store(session)
            }
        }
    }

    private func isCurrent(_ entry: TimerEntry) -> Bool {
        guard let session = sessions[entry.sessionID] else { return false }
        let deadline: Timestamp? = switch entry.kind {
        case .offer: session.state == .offered ? session.offerDeadline : nil
        case .userTimeout: session.state == .active ? session.userTimeoutAt : nil
        case .queueMessage: session.state == .queued ? session.nextQueueMessageAt : nil
        }
        return deadline?.milliseconds == entry.deadline
    }

    private mutating func pushTimer(_ kind: TimerKind, _ deadline: Timestamp, _ sessionID: String) {
        timers.insert(TimerEntry(deadline: deadline.milliseconds, kind: kind, sessionID: sessionID))
    }

    private mutating func scheduleTimers(of session: SessionRecord) {
        if session.state == .offered, let deadline = session.offerDeadline { pushTimer(.offer, deadline, session.id) }
        if session.state == .active, let deadline = session.userTimeoutAt { pushTimer(.userTimeout, deadline, session.id) }
        if session.state == .queued, let deadline = session.nextQueueMessageAt { pushTimer(.queueMessage, deadline, session.id) }
    }

    private mutating func expireOffer(_ session: inout SessionRecord, now: Timestamp) {
        guard let agentID = session.agentID else { return }
        release(&session, from: agentID)
        emit(.offerExpired(sessionID: session.id), toAgent: agentID, now: now)
        session.missedAgents.append(agentID)
        if settings.serviceMode.breakAfterConnectTimeout, let agent = agents[agentID], agent.status == .online {
            try? setStatus(agentID: agentID, .onBreak, now: now)
            changes.agents.insert(agentID)
            emit(.statusChanged(.onBreak), toAgent: agentID, now: now)
        }
        session.state = .queued
        session.agentID = nil
        let target = session.target ?? .anyAgent
        if let agent = bestAgent(for: target, excluding: session.missedAgents) {
            assign(&session, to: agent, now: now)
        } else {
            insertIntoQueue(session)
            emitState(&session, now: now)
            enterQueueMessages(&session, now: now)
        }
        store(session)
        serveQueue(agentID: agentID, now: now)
    }

    // MARK: Routing

    /// Sends a session to `target`: to its longest-idle agent with free capacity, else the queue;
    /// transfer failed when no agent of the target is online or the queue is full.
    private mutating func route(_ session: inout SessionRecord, to target: RoutingTarget, now: Timestamp, failIfNobodyOnline: Bool = true) {
        session.target = target
        if session.queueTicket == nil {
            session.queueTicket = nextTicket
            nextTicket += 1
        }
        if let agent = bestAgent(for: target, excluding: session.missedAgents) {
            assign(&session, to: agent, now: now)
            return
        }
        let anybodyOnline = onlineCount(for: target, excluding: session.missedAgents) > 0
        let full = settings.queue.maxQueueLength > 0 && queuedTotal >= settings.queue.maxQueueLength
        if (!anybodyOnline && failIfNobodyOnline) || full {
            session.target = nil
            session.queueTicket = nil
            session.state = .bot
            sendPrompt(.transferFailed, to: &session, now: now)
            return
        }
        session.state = .queued
        insertIntoQueue(session)
        emitState(&session, now: now)
        enterQueueMessages(&session, now: now)
    }

    private mutating func enterQueueMessages(_ session: inout SessionRecord, now: Timestamp) {
        sessions[session.id] = session
        if let position = queuePosition(of: session.id) {
            sendQueueMessage(to: &session, position: position, now: now)
        }
        session.nextQueueMessageAt = now.adding(.seconds(settings.queue.queueMessageIntervalSeconds))
        pushTimer(.queueMessage, session.nextQueueMessageAt!, session.id)
    }

    private mutating func sendQueueMessage(to session: inout SessionRecord, position: (position: Int, ahead: Int), now: Timestamp) {
        session.lastQueueMessagePosition = position.position
        emit(.queuePosition(position: position.position, ahead: position.ahead), for: &session, now: now)
        guard let template = try? Template(settings.prompts.queueMessage, field: "settings.prompts.queue_message") else { return }
        let text = template.render(["QueuePosition": "\(position.position)", "WaitNo": "\(position.ahead)"])
        if !text.isEmpty { append(.system(.queue), text, to: &session, now: now) }
    }

    private mutating func assign(_ session: inout SessionRecord, to agentID: String, now: Timestamp) {
        if session.state == .queued { removeFromQueue(session) }
        session.agentID = agentID
        session.nextQueueMessageAt = nil
        session.lastQueueMessagePosition = nil
        agents[agentID]?.sessions.insert(session.id)
        agents[agentID]?.lastAssignedAt = now
        changes.agents.insert(agentID)
        if let agent = agents[agentID] { pushIdle(agent) }
        if settings.serviceMode.mode == .manual {
            session.state = .offered
            session.offerDeadline = now.adding(.seconds(settings.serviceMode.connectTimeoutSeconds))
            pushTimer(.offer, session.offerDeadline!, session.id)
            emitState(&session, now: now)
            emit(.offered(sessionID: session.id, deadline: session.offerDeadline!), toAgent: agentID, now: now)
        } else {
            session.state = .active
            emitState(&session, now: now)
            emit(.assigned(sessionID: session.id), toAgent: agentID, now: now)
            sendPrompt(.transferSucceeded, to: &session, now: now)
        }
        sessions[session.id] = session
    }

    /// Gives freed capacity of `agentID` to the oldest queued sessions it may serve.
    private mutating func serveQueue(agentID: String, now: Timestamp) {
        while let agent = agents[agentID], agent.status == .online, agent.sessions.count < capacity(of: agent) {
            var best: (target: RoutingTarget, index: Int, ticket: Int64)?
            for target in targets(servedBy: agent) {
                guard let queue = queues[target] else { continue }
                for (index, entry) in queue.enumerated() {
                    if let best, entry.ticket >= best.ticket { break }
                    guard let session = sessions[entry.sessionID], !session.missedAgents.contains(agentID) else { continue }
                    best = (target, index, entry.ticket)
                    break
                }
            }
            guard let best, let entry = queues[best.target]?[best.index], var session = sessions[entry.sessionID] else { return }
            assign(&session, to: agentID, now: now)
            store(session)
        }
    }

    private func targets(servedBy agent: AgentRuntime) -> [RoutingTarget] {
        var targets: [RoutingTarget] = [.anyAgent]
        targets += agent.groupIDs.map { .group($0) }
        for target in queues.keys {
            if case .agents(let ids) = target, ids.contains(agent.id) { targets.append(target) }
        }
        return targets
    }

    /// The longest-idle agent of `target` that is online with free capacity, by (last assignment, id).
    private mutating func bestAgent(for target: RoutingTarget, excluding missed: [String]) -> String? {
        switch target {
        case .agents(let ids):
            return ids.compactMap { agents[$0] }
                .filter { isAvailable($0) && !missed.contains($0.id) }
                .min { ($0.lastAssignedAt, $0.id) < ($1.lastAssignedAt, $1.id) }?.id
        case .anyAgent:
            return popBest(.all, excluding: missed)
        case .group(let id):
            return popBest(.group(id), excluding: missed)
        }
    }

    private mutating func popBest(_ key: IdleKey, excluding missed: [String]) -> String? {
        guard var heap = idle.removeValue(forKey: key) else { return nil }
        defer { idle[key] = heap }
        var skipped: [IdleEntry] = []
        defer { for entry in skipped { heap.insert(entry) } }
        while let entry = heap.min {
            guard let agent = agents[entry.agentID], isAvailable(agent), agent.lastAssignedAt.milliseconds == entry.lastAssignedAt,
                key.contains(agent)
            else {
                _ = heap.removeMin()  // stale
                continue
            }
            if missed.contains(agent.id) {
                skipped.append(heap.removeMin())
                continue
            }
            return agent.id
        }
        return nil
    }

    private func isAvailable(_ agent: AgentRuntime) -> Bool {
        agent.status == .online && agent.sessions.count < capacity(of: agent)
    }

    private mutating func pushIdle(_ agent: AgentRuntime) {
        guard isAvailable(agent) else { return }
        let entry = IdleEntry(lastAssignedAt: agent.lastAssignedAt.milliseconds, agentID: agent.id)
        for key in [IdleKey.all] + agent.groupIDs.map({ .group($0) }) {
            var heap = idle.removeValue(forKey: key) ?? Heap()
            heap.insert(entry)
            idle[key] = heap
            if heap.count > 4 * max(agents.count, 16) { rebuildIdle(key) }
        }
    }

    private mutating func rebuildIdle(_ key: IdleKey) {
        let members = agents.values.filter { key.contains($0) && isAvailable($0) }
        idle[key] = Heap(members.map { IdleEntry(lastAssignedAt: $0.lastAssignedAt.milliseconds, agentID: $0.id) })
    }

    private mutating func countOnline(_ agent: AgentRuntime, _ delta: Int) {
        online[.all, default: 0] += delta
        for group in agent.groupIDs { online[.group(group), default: 0] += delta }
    }

    private func onlineCount(for target: RoutingTarget, excluding missed: [String]) -> Int {
        switch target {
        case .anyAgent:
            return (online[.all] ?? 0) - missed.filter { agents[$0]?.status == .online }.count
        case .group(let id):
            return (online[.group(id)] ?? 0) - missed.filter { agents[$0]?.status == .online && agents[$0]!.groupIDs.contains(id) }.count
        case .agents(let ids):
            return ids.filter { agents[$0]?.status == .online && !missed.contains($0) }.count
        }
    }

    // MARK: Queue

    // Queues and heaps are taken out of their dictionaries while changed, so the change happens in
    // place instead of copying a structure the dictionary still references.

    private mutating func insertIntoQueue(_ session: SessionRecord) {
        guard let target = session.target, let ticket = session.queueTicket else { return }
        var queue = queues.removeValue(forKey: target) ?? Deque()
        if let last = queue.last, last.ticket > ticket {
            queue.insert(QueueEntry(ticket: ticket, sessionID: session.id), at: Self.insertionIndex(in: queue, of: ticket))
        } else {
            queue.append(QueueEntry(ticket: ticket, sessionID: session.id))
        }
        queues[target] = queue
        queuedTotal += 1
    }

    private mutating func removeFromQueue(_ session: SessionRecord) {
        guard let target = session.target, let ticket = session.queueTicket, var queue = queues.removeValue(forKey: target) else { return }
        defer { if !queue.isEmpty { queues[target] = queue } }
        guard let index = Self.index(in: queue, of: ticket) else { return }
        queue.remove(at: index)
        queuedTotal -= 1
    }

    private static func insertionIndex(in queue: Deque<QueueEntry>, of ticket: Int64) -> Int {
        var low = 0
        var high = queue.count
        while low < high {
            let middle = (low + high) / 2
            if queue[middle].ticket < ticket { low = middle + 1 } else { high = middle }
        }
        return low
    }

    private static func index(in queue: Deque<QueueEntry>, of ticket: Int64) -> Int? {
        let index = insertionIndex(in: queue, of: ticket)
        return index < queue.count && queue[index].ticket == ticket ? index : nil
    }

    // MARK: Helpers

    private func openSession(_ id: String) throws(SwitchboardError) -> SessionRecord {
        guard let session = sessions[id] else { throw SwitchboardError(.notFound, "session '\(id)' not found") }
        guard session.state != .closed else { throw SwitchboardError(.failedPrecondition, "session '\(id)' is CLOSED") }
        return session
    }

    private func assignedSession(_ id: String, agentID: String) throws(SwitchboardError) -> SessionRecord {
        let session = try openSession(id)
        guard session.agentID == agentID, session.state == .active || session.state == .offered else {
            throw SwitchboardError(.permissionDenied, "session '\(id)' is not assigned to agent '\(agentID)'")
        }
        return session
    }

    private mutating func release(_ session: inout SessionRecord, from agentID: String) {
        agents[agentID]?.sessions.remove(session.id)
        if let agent = agents[agentID] { pushIdle(agent) }
        session.offerDeadline = nil
        session.userTimeoutAt = nil
    }

    private mutating func finish(_ session: inout SessionRecord, reason: CloseReason, now: Timestamp) {
        let previous = session.state
        if previous == .queued { removeFromQueue(session) }
        if (previous == .offered || previous == .active), let agentID = session.agentID {
            release(&session, from: agentID)
        }
        session.state = .closed
        session.closeReason = reason
        session.closedAt = now
        session.offerDeadline = nil
        session.userTimeoutAt = nil
        session.nextQueueMessageAt = nil
        emitState(&session, now: now)
        if (previous == .offered || previous == .active), let agentID = session.agentID {
            emit(.closed(sessionID: session.id, reason: reason), toAgent: agentID, now: now)
        }
        switch reason {
        case .userTimeout:
            if settings.closure.timeoutMessageEnabled { sendPrompt(.timeoutClosure, to: &session, now: now) }
        case .userEnded, .agentEnded, .admin:
            if settings.closure.proactiveMessageEnabled { sendPrompt(.proactiveClosure, to: &session, now: now) }
        }
        if settings.rating.enabled, settings.rating.sendAfterClose, previous == .active, session.rating == nil,
            session.ratingDeadline == nil
        {
            invite(&session, now: now)
        }
        sessions[session.id] = session
        if (previous == .offered || previous == .active), let agentID = session.agentID {
            serveQueue(agentID: agentID, now: now)
        }
    }

    private mutating func invite(_ session: inout SessionRecord, now: Timestamp) {
        session.ratingDeadline = now.adding(.seconds(settings.rating.validitySeconds))
        emit(.ratingInvited(deadline: session.ratingDeadline!), for: &session, now: now)
        sendPrompt(.ratingInvitation, to: &session, now: now)
    }

    private mutating func sendPrompt(_ kind: PromptKind, to session: inout SessionRecord, now: Timestamp) {
        let prompts = settings.prompts
        let text: String = switch kind {
        case .welcome: prompts.welcome
        case .manualAccessInProgress: prompts.manualAccessInProgress
        case .transferSucceeded: prompts.transferSucceeded
        case .transferFailed: prompts.transferFailed
        case .afterHours: prompts.afterHours
        case .queue: prompts.queueMessage
        case .timeoutClosure: prompts.timeoutClosure
        case .proactiveClosure: prompts.proactiveClosure
        case .ratingInvitation: settings.rating.invitationMessage
        case .ratingSubmitted: settings.rating.submissionMessage
        }
        guard !text.isEmpty else { return }
        // Only the queue message takes placeholders; the others are validated to have none but `$$`.
        let rendered = (try? Template(text, field: "prompt").render([:])) ?? text
        append(.system(kind), rendered, to: &session, now: now)
    }

    @discardableResult
    private mutating func append(_ sender: Sender, _ text: String, to session: inout SessionRecord, now: Timestamp) -> TranscriptMessage {
        session.lastSequence += 1
        let message = TranscriptMessage(sessionID: session.id, sequence: session.lastSequence, sender: sender, text: text, createdAt: now)
        changes.messages.append(message)
        emit(.message(message), for: &session, now: now)
        if case .user = sender, session.state == .active || session.state == .offered, let agentID = session.agentID {
            emit(.userMessage(message), toAgent: agentID, now: now)
        }
        return message
    }

    private mutating func emit(_ kind: SessionEventRecord.Kind, for session: inout SessionRecord, now: Timestamp) {
        session.lastEventSequence += 1
        changes.sessionEvents.append(
            SessionEventRecord(sessionID: session.id, sequence: session.lastEventSequence, createdAt: now, kind: kind)
        )
    }

    private mutating func emitState(_ session: inout SessionRecord, now: Timestamp) {
        emit(
            .stateChanged(state: session.state, agentID: session.agentID, groupID: session.groupID, closeReason: session.closeReason),
            for: &session, now: now
        )
    }

    private mutating func emit(_ kind: AgentEventRecord.Kind, toAgent agentID: String, now: Timestamp) {
        guard agents[agentID] != nil else { return }
        agents[agentID]!.lastEventSequence += 1
        changes.agentEvents.append(
            AgentEventRecord(agentID: agentID, sequence: agents[agentID]!.lastEventSequence, createdAt: now, kind: kind)
        )
    }

    private mutating func store(_ session: SessionRecord) {
        sessions[session.id] = session
        changes.sessions.insert(session.id)
    }
}
