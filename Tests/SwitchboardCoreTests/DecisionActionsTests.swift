import SwitchboardCore
import Testing

/// A decision lists each session it changed once, in the version the decision ended with: the
/// one in memory, or for a closed session the one that left memory.
@Suite("Decision actions")
struct DecisionActionsTests {
    @Test("a new session is listed once, with its idle deadline, as in memory")
    func newSession() throws {
        var state = try RoutingState(settings: SwitchboardSettings(), agents: [], groups: [:])
        let now = Timestamp(milliseconds: 1_000_000)
        let decision = state.createSession(id: "s1", userID: "u1", channel: "web", attributes: [:], now: now)
        let stored = try #require(decision.actions.sessions["s1"])
        #expect(decision.actions.sessions.count == 1)
        #expect(stored.botIdleDeadline == now.adding(.seconds(SwitchboardSettings.Closure.defaultBotIdleTimeoutSeconds)))
        #expect(stored == state.sessions["s1"])
        #expect(decision.answer.botIdleDeadline == nil, "the answer is the session as the command returned it")
    }

    @Test("freed capacity: the closed session and the one it lets in, each once, in id order, as they ended the decision")
    func closeServesQueue() throws {
        var settings = SwitchboardSettings()
        settings.queue.maxSessionsPerAgent = 1
        settings.rating.enabled = false
        let runtimes = [AgentRuntime(id: "ann", status: .offline, maxSessions: nil, groupIDs: [])]
        var state = try RoutingState(settings: settings, agents: runtimes, groups: [:])
        var now = Timestamp(milliseconds: 1_000_000)
        _ = try state.setStatus(agentID: "ann", .online, now: now)
        for id in ["s2", "s1"] {
            now = now.adding(.milliseconds(1))
            _ = state.createSession(id: id, userID: "u", channel: "web", attributes: [:], now: now)
            let requested = try state.requestAgent(sessionID: id, groupID: nil, now: now)
            #expect(requested.actions.sessions[id]?.botIdleDeadline == nil, "no longer with the bot")
        }
        #expect(state.sessions["s1"]?.state == .queued)

        let decision = try state.close(sessionID: "s2", byAgent: "ann", now: now)
        let actions = decision.actions
        #expect(actions.sessionsInOrder.map(\.id) == ["s1", "s2"])
        #expect(actions.sessions["s2"] == decision.answer)
        #expect(actions.sessions["s2"]?.state == .closed && state.sessions["s2"] == nil, "a closed session leaves memory")
        #expect(actions.finishedSessions == ["s2": decision.answer.lastEventSequence], "no rating window")
        #expect(actions.sessions["s1"] == state.sessions["s1"])
        #expect(state.sessions["s1"]?.state == .active && state.sessions["s1"]?.agentID == "ann")
        #expect(actions.agentsInOrder.map(\.id) == ["ann"])
        #expect(actions.agents["ann"]?.idleSince == now && state.agents["ann"]?.idleSince == now)
    }

    @Test("a refused command lists nothing, and the next decision lists only its own sessions")
    func refused() throws {
        var state = try RoutingState(settings: SwitchboardSettings(), agents: [], groups: [:])
        let now = Timestamp(milliseconds: 1_000_000)
        _ = state.createSession(id: "s1", userID: "u1", channel: "web", attributes: [:], now: now)
        #expect(throws: SwitchboardError.self) { _ = try state.close(sessionID: "s1", byAgent: "ann", now: now) }
        let next = try state.userMessage(sessionID: "s1", text: "hello", now: now.adding(.seconds(1)))
        #expect(Array(next.actions.sessions.keys) == ["s1"])
        #expect(next.actions.sessions["s1"]?.botIdleDeadline == now.adding(.seconds(1 + SwitchboardSettings.Closure.defaultBotIdleTimeoutSeconds)))
    }
}
