import SwitchboardCore
import Testing

/// The defects found from outside, each driven by the clock in the core alone.
@Suite("Routing defects")
struct RoutingDefectTests {
    static func manual(connectTimeout: Int = 3600, limit: Int = 1) -> SwitchboardSettings {
        var settings = SwitchboardSettings()
        settings.serviceMode.mode = .manual
        settings.serviceMode.connectTimeoutSeconds = connectTimeout
        settings.queue.maxSessionsPerAgent = limit
        return settings
    }

    enum Leaving: String, CaseIterable, Sendable {
        case offline, onBreak, deleted
    }

    @Test("an offer moves on at once when its agent goes OFFLINE, BREAK or is deleted; that agent cannot accept it", arguments: Leaving.allCases)
    func offerOfAgentLeaving(_ leaving: Leaving) throws {
        var world = try World(settings: Self.manual(), agents: ["ann", "bob"])
        try world.online("ann")
        world.advance(seconds: 1)
        try world.online("bob")
        let id = try world.newSession()
        #expect(world.session(id).state == .offered && world.session(id).agentID == "ann")
        _ = world.takeChanges()
        world.advance(seconds: 5)
        switch leaving {
        case .offline: try world.setStatus(agentID: "ann", .offline, now: world.now)
        case .onBreak: try world.setStatus(agentID: "ann", .onBreak, now: world.now)
        case .deleted: try world.removeAgent(id: "ann", now: world.now)
        }
        // No waiting for the connect timeout (an hour): bob has it now.
        #expect(world.session(id).state == .offered && world.session(id).agentID == "bob")
        let changes = world.takeChanges()
        if leaving == .deleted {
            #expect(!changes.agentEvents.contains { $0.agentID == "ann" }, "no events for a deleted agent")
        } else {
            #expect(changes.agentEvents.contains { $0.agentID == "ann" && $0.kind == .offerExpired(sessionID: id) })
            #expect(world.state.agents["ann"]!.sessions.isEmpty)
            #expect(throws: SwitchboardError.self) { try world.accept(agentID: "ann", sessionID: id, now: world.now) }
        }
        #expect(try world.accept(agentID: "bob", sessionID: id, now: world.now).state == .active)
    }

    @Test("an offer of an agent leaving, with nobody else free, waits in the queue at its place")
    func offerOfAgentLeavingQueues() throws {
        var world = try World(settings: Self.manual(), agents: ["ann"])
        try world.online("ann")
        let id = try world.newSession()
        try world.setStatus(agentID: "ann", .onBreak, now: world.now)
        #expect(world.session(id).state == .queued && world.session(id).agentID == nil)
        // ann did not miss it by a timeout: back online, it is offered to her again.
        try world.setStatus(agentID: "ann", .online, now: world.now)
        #expect(world.session(id).state == .offered && world.session(id).agentID == "ann")
    }

    @Test("deleting an agent with an ACTIVE session is refused; an offered one does not block it")
    func deleteWithActive() throws {
        var world = try World(agents: ["ann"])
        try world.online("ann")
        _ = try world.newSession()
        #expect(throws: SwitchboardError.self) { try world.removeAgent(id: "ann", now: world.now) }
    }

    @Test("agent_id is set only in OFFERED, ACTIVE and CLOSED: not after a transfer to a busy group, nor after the group is deleted")
    func staleAgentID() throws {
        var settings = SwitchboardSettings()
        settings.queue.maxSessionsPerAgent = 1
        settings.allocation.policy = .userSelectsGroup
        var world = try World(settings: settings, agents: ["ann", "bob"], groups: ["tech": ["bob"], "desk": ["ann"]])
        try world.online("ann", "bob")
        let first = try world.newSession(group: "tech")
        let second = try world.newSession(group: "desk")
        #expect(world.session(first).agentID == "bob" && world.session(second).agentID == "ann")
        let moved = try world.transfer(agentID: "ann", sessionID: second, to: .group("tech"), now: world.now)
        #expect(moved.state == .queued && moved.agentID == nil)
        #expect(world.session(second).agentID == nil)
        let changes = world.takeChanges()
        let states = changes.sessionEvents.filter { $0.sessionID == second }.compactMap { event -> SessionEventRecord.Kind? in
            if case .stateChanged = event.kind { event.kind } else { nil }
        }
        #expect(states.last == .stateChanged(state: .queued, agentID: nil, groupID: "tech", closeReason: nil))
        try world.removeGroup(id: "tech", now: world.now)
        #expect(world.session(second).state == .bot && world.session(second).agentID == nil)
    }

    @Test("longest idle counts from coming ONLINE: time on BREAK is not idle time")
    func idleAfterOnline() throws {
        var world = try World(agents: ["ann", "bob"])
        try world.online("ann")  // t0
        world.advance(seconds: 10)
        try world.online("bob")  // t10
        world.advance(seconds: 10)
        try world.setStatus(agentID: "ann", .onBreak, now: world.now)  // t20
        world.advance(seconds: 10)
        try world.online("ann")  // t30: idle since now, after bob
        let id = try world.newSession()
        #expect(world.session(id).agentID == "bob")
    }

    @Test("longest idle counts from a session's end, and agents who never had one go by when they came ONLINE, not by id")
    func idleAfterSessionEnds() throws {
        var world = try World(agents: ["ann", "bob", "cat"])
        try world.online("cat")  // t0: waits longest, though last by id
        world.advance(seconds: 5)
        try world.online("ann", "bob")  // t5
        let first = try world.newSession()
        #expect(world.session(first).agentID == "cat")
        world.advance(seconds: 5)
        let second = try world.newSession()
        #expect(world.session(second).agentID == "ann")
        world.advance(seconds: 5)
        try world.close(sessionID: second, byAgent: "ann", now: world.now)  // t15: ann idle since now
        world.advance(seconds: 5)
        try world.close(sessionID: first, byAgent: "cat", now: world.now)  // t20
        let order = try (0..<3).map { _ in
            world.advance(seconds: 1)
            let id = try world.newSession()
            return world.session(id).agentID!
        }
        #expect(order == ["bob", "ann", "cat"])
    }

    @Test("business server: the session is allocating; a second request gets a clear answer, no second hook call or prompt")
    func allocatingStage() throws {
        var settings = SwitchboardSettings()
        settings.allocation.policy = .businessServer
        settings.allocation.hookAddress = "127.0.0.1:9"
        var world = try World(settings: settings, agents: ["ann"])
        try world.online("ann")
        world.createSession(id: "s1", userID: "u1", channel: "web", attributes: [:], now: world.now)
        _ = world.takeChanges()
        #expect(try world.requestAgent(sessionID: "s1", groupID: nil, now: world.now) == .needsHook)
        var changes = world.takeChanges()
        #expect(changes.hookCall?.sessionID == "s1")
        #expect(world.transcript("s1", in: changes) == [SwitchboardSettings.Prompts().manualAccessInProgress])
        #expect(world.session("s1").state == .bot && world.session("s1").allocating)
        let error = #expect(throws: SwitchboardError.self) { _ = try world.requestAgent(sessionID: "s1", groupID: nil, now: world.now) }
        #expect(error?.kind == .failedPrecondition && error?.message.contains("being routed") == true)
        changes = world.takeChanges()
        #expect(changes.hookCall == nil && changes.messages.isEmpty)
        #expect(world.applyHookAnswer(sessionID: "s1", answer: .automatic, now: world.now)?.agentID == "ann")
        #expect(!world.session("s1").allocating)
    }

    @Test("a hook answer for a session closed meanwhile is dropped, and the answer says so")
    func hookAnswerAfterClose() throws {
        var settings = SwitchboardSettings()
        settings.allocation.policy = .businessServer
        settings.allocation.hookAddress = "127.0.0.1:9"
        var world = try World(settings: settings, agents: ["ann"])
        try world.online("ann")
        world.createSession(id: "s1", userID: "u1", channel: "web", attributes: [:], now: world.now)
        _ = try world.requestAgent(sessionID: "s1", groupID: nil, now: world.now)
        try world.close(sessionID: "s1", byAgent: nil, now: world.now)
        #expect(world.applyHookAnswer(sessionID: "s1", answer: .automatic, now: world.now) == nil)
        #expect(world.state.agents["ann"]!.sessions.isEmpty)
        #expect(world.session("s1").state == .closed)
    }

    @Test(
        "a hook answer out of bounds is a failure: the fallback applies",
        arguments: [
            RoutingState.HookAnswer.reject(String(repeating: "x", count: 2_000_000)),
            .reject(String(repeating: "e\u{301}", count: 2001)),
            .group("no spaces allowed"), .group(String(repeating: "g", count: 129)),
            .agents((0..<101).map { "a\($0)" }), .agents(["ok", ""]),
        ]
    )
    func hookAnswerOutOfBounds(_ answer: RoutingState.HookAnswer) throws {
        guard case .failed(let reason) = answer.checked() else {
            Issue.record("accepted")
            return
        }
        #expect(reason.contains("out of bounds"))
        var settings = SwitchboardSettings()
        settings.allocation.policy = .businessServer
        settings.allocation.hookAddress = "127.0.0.1:9"
        var world = try World(settings: settings, agents: ["ann"])
        try world.online("ann")
        world.createSession(id: "s1", userID: "u1", channel: "web", attributes: [:], now: world.now)
        _ = try world.requestAgent(sessionID: "s1", groupID: nil, now: world.now)
        _ = world.takeChanges()
        #expect(world.applyHookAnswer(sessionID: "s1", answer: answer, now: world.now)?.agentID == "ann", "fallback: automatic")
        #expect(world.takeChanges().messages.allSatisfy { $0.text.utf8.count < 10_000 })
    }

    @Test("answers within bounds pass the check", arguments: [
        RoutingState.HookAnswer.reject("Please call us."), .group("vip"), .agents(["ann", "bob"]), .automatic,
    ])
    func hookAnswerInBounds(_ answer: RoutingState.HookAnswer) {
        #expect(answer.checked() == answer)
    }

    @Test("a session left with the bot closes after the idle time; any user message starts it again")
    func botIdle() throws {
        var settings = SwitchboardSettings()
        settings.closure.botIdleTimeoutSeconds = 600
        var world = try World(settings: settings)
        world.createSession(id: "s1", userID: "u1", channel: "web", attributes: [:], now: world.now)
        world.createSession(id: "s2", userID: "u2", channel: "web", attributes: [:], now: world.now)
        world.advance(seconds: 599)
        try world.userMessage(sessionID: "s2", text: "still there", now: world.now)
        world.advance(seconds: 1)
        #expect(world.session("s1").state == .closed && world.session("s1").closeReason == .botIdle)
        #expect(world.state.sessions["s1"] == nil, "a closed session leaves the routing core")
        #expect(world.session("s2").state == .bot)
        world.advance(seconds: 598)
        #expect(world.session("s2").state == .bot)
        world.advance(seconds: 1)  // 600 s after its message
        #expect(world.session("s2").closeReason == .botIdle)
        #expect(world.state.sessions.isEmpty)
        #expect(world.state.nextDeadline() == nil)
    }

    @Test("a session with an agent never expires as idle; back with the bot after a failed transfer, it does")
    func botIdleOnlyWithTheBot() throws {
        var settings = SwitchboardSettings()
        settings.closure.botIdleTimeoutSeconds = 600
        settings.closure.userTimeoutSeconds = 0
        var world = try World(settings: settings, agents: ["ann"])
        try world.online("ann")
        let active = try world.newSession()
        try world.setStatus(agentID: "ann", .offline, now: world.now)
        let failed = try world.newSession()  // nobody online: transfer failed, back to the bot
        #expect(world.session(failed).state == .bot)
        world.advance(seconds: 3600)
        #expect(world.session(active).state == .active)
        #expect(world.session(failed).closeReason == .botIdle)
    }

    @Test("closed sessions leave memory at once; their watchers finish when nothing more can happen")
    func finishedSessions() throws {
        var settings = SwitchboardSettings()
        settings.rating.validitySeconds = 300
        var world = try World(settings: settings, agents: ["ann"])
        try world.online("ann")
        let rated = try world.newSession()
        let unrated = try world.newSession()
        let botOnly = "bot-only"
        world.createSession(id: botOnly, userID: "u", channel: "web", attributes: [:], now: world.now)
        _ = world.takeChanges()
        try world.close(sessionID: botOnly, byAgent: nil, now: world.now)
        var changes = world.takeChanges()
        // Never ACTIVE: no rating invitation, finished at once.
        #expect(changes.finishedSessions == [botOnly: world.session(botOnly).lastEventSequence])
        try world.close(sessionID: rated, byAgent: "ann", now: world.now)
        try world.close(sessionID: unrated, byAgent: "ann", now: world.now)
        #expect(world.state.sessions.isEmpty)
        changes = world.takeChanges()
        #expect(changes.finishedSessions.isEmpty, "the rating windows are open")
        world.advance(seconds: 10)
        try world.submitRating(sessionID: rated, score: 5, comment: "", now: world.now)
        changes = world.takeChanges()
        #expect(changes.finishedSessions == [rated: world.session(rated).lastEventSequence])
        #expect(world.state.sessions.isEmpty, "a rated session does not come back into memory")
        world.advance(seconds: 291)
        changes = world.takeChanges()
        #expect(changes.finishedSessions[unrated] == world.session(unrated).lastEventSequence)
    }
}
