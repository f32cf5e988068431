import SwitchboardCore

/// A routing state with a clock the test moves; timers fire as time passes. Every command goes
/// through it: it keeps the latest version of each session it saw (closed ones leave the routing
/// core, but tests still read them) and gathers the actions decided since the last ``takeChanges()``.
struct World {
    var state: RoutingState
    /// Monday 2026-11-30 10:00:00 UTC.
    var now = Timestamp(milliseconds: 1_796_032_800_000)
    var sessionCounter = 0
    /// The latest version of every session seen in a decision.
    private(set) var seen: [String: SessionRecord] = [:]
    private var gathered = RoutingActions()

    init(settings: SwitchboardSettings = SwitchboardSettings(), agents: [String] = [], groups: [String: [String]] = [:]) throws {
        let runtimes = agents.map { AgentRuntime(id: $0, status: .offline, maxSessions: nil, groupIDs: []) }
        state = try RoutingState(settings: settings, agents: runtimes, groups: groups.mapValues(Set.init))
    }

    /// Takes a decision's actions into the record; returns its answer.
    @discardableResult
    mutating func record<T>(_ decision: RoutingDecision<T>) -> T {
        let actions = decision.actions
        for (id, session) in actions.sessions {
            seen[id] = session
            gathered.sessions[id] = session
        }
        for (id, agent) in actions.agents { gathered.agents[id] = agent }
        gathered.messages += actions.messages
        gathered.sessionEvents += actions.sessionEvents
        gathered.agentEvents += actions.agentEvents
        gathered.finishedSessions.merge(actions.finishedSessions) { $1 }
        gathered.hookCall = actions.hookCall ?? gathered.hookCall
        return decision.answer
    }

    /// What was decided since the last call.
    mutating func takeChanges() -> RoutingActions {
        defer { gathered = RoutingActions() }
        return gathered
    }

    mutating func advance(seconds: Int) {
        now = now.adding(.seconds(seconds))
        record(state.fireDueTimers(now: now))
    }

    mutating func online(_ ids: String...) throws {
        for id in ids { try setStatus(agentID: id, .online, now: now) }
    }

    /// Creates a session and asks for an agent; returns its id.
    @discardableResult
    mutating func newSession(group: String? = nil) throws -> String {
        sessionCounter += 1
        let id = "s\(sessionCounter)"
        createSession(id: id, userID: "u\(sessionCounter)", channel: "web", attributes: [:], now: now)
        _ = try requestAgent(sessionID: id, groupID: group, now: now)
        return id
    }

    /// A session: open (in the routing core) or closed (as last decided).
    func session(_ id: String) -> SessionRecord { state.sessions[id] ?? seen[id]! }

    /// The texts of a session's messages, in order.
    func transcript(_ id: String, in changes: RoutingActions) -> [String] {
        changes.messages.filter { $0.sessionID == id }.map(\.text)
    }

    // MARK: The commands, recorded

    @discardableResult
    mutating func createSession(id: String, userID: String, channel: String, attributes: [String: String], now: Timestamp) -> SessionRecord {
        record(state.createSession(id: id, userID: userID, channel: channel, attributes: attributes, now: now))
    }

    @discardableResult
    mutating func userMessage(sessionID: String, text: String, now: Timestamp) throws(SwitchboardError) -> TranscriptMessage {
        record(try state.userMessage(sessionID: sessionID, text: text, now: now))
    }

    mutating func requestAgent(sessionID: String, groupID: String?, now: Timestamp) throws(SwitchboardError) -> RoutingState.RequestOutcome {
        record(try state.requestAgent(sessionID: sessionID, groupID: groupID, now: now)).outcome
    }

    @discardableResult
    mutating func applyHookAnswer(sessionID: String, answer: RoutingState.HookAnswer, now: Timestamp) -> SessionRecord? {
        record(state.applyHookAnswer(sessionID: sessionID, answer: answer, now: now))
    }

    @discardableResult
    mutating func accept(agentID: String, sessionID: String, now: Timestamp) throws(SwitchboardError) -> SessionRecord {
        record(try state.accept(agentID: agentID, sessionID: sessionID, now: now))
    }

    @discardableResult
    mutating func agentMessage(agentID: String, sessionID: String, text: String, now: Timestamp) throws(SwitchboardError) -> TranscriptMessage {
        record(try state.agentMessage(agentID: agentID, sessionID: sessionID, text: text, now: now))
    }

    @discardableResult
    mutating func close(sessionID: String, byAgent agentID: String?, now: Timestamp) throws(SwitchboardError) -> SessionRecord {
        record(try state.close(sessionID: sessionID, byAgent: agentID, now: now))
    }

    @discardableResult
    mutating func transfer(agentID: String, sessionID: String, to target: RoutingState.TransferTarget, now: Timestamp)
        throws(SwitchboardError) -> SessionRecord
    {
        record(try state.transfer(agentID: agentID, sessionID: sessionID, to: target, now: now))
    }

    @discardableResult
    mutating func inviteRating(agentID: String, sessionID: String, now: Timestamp) throws(SwitchboardError) -> SessionRecord {
        record(try state.inviteRating(agentID: agentID, sessionID: sessionID, now: now))
    }

    /// Rates a session; a closed one is passed as the store would (its last decided version).
    @discardableResult
    mutating func submitRating(sessionID: String, score: Int, comment: String, now: Timestamp) throws(SwitchboardError) -> SessionRecord {
        record(try state.submitRating(sessionID: sessionID, score: score, comment: comment, stored: seen[sessionID], now: now))
    }

    mutating func setStatus(agentID: String, _ status: AgentProfile.Status, now: Timestamp) throws(SwitchboardError) {
        record(try state.setStatus(agentID: agentID, status, now: now))
    }

    mutating func updateAgent(id: String, maxSessions: Int?, now: Timestamp) throws(SwitchboardError) {
        record(try state.updateAgent(id: id, displayName: nil, maxSessions: .some(maxSessions), now: now))
    }

    mutating func removeAgent(id: String, now: Timestamp) throws(SwitchboardError) {
        record(try state.removeAgent(id: id, now: now))
    }

    mutating func removeGroup(id: String, now: Timestamp) throws(SwitchboardError) {
        record(try state.removeGroup(id: id, now: now))
    }

    mutating func updateSettings(_ settings: SwitchboardSettings, now: Timestamp) throws(SwitchboardError) {
        record(try state.updateSettings(settings, now: now))
    }
}
