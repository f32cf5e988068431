import SwitchboardCore
import Testing


@Suite("Routing decisions")
struct RoutingStateTests {
    @Test("three agents with different idle times get sessions in longest-idle order, ties by id")
    func longestIdle() throws {
        var world = try World(agents: ["ann", "bob", "cat", "dan"])
        try world.online("ann", "bob", "cat", "dan")
        // Give ann, then bob a session, and close both: cat and dan never had one (tie: by id).
        let first = try world.newSession()
        let second = try world.newSession()
        #expect(world.session(first).agentID == "ann")
        #expect(world.session(second).agentID == "bob")
        world.advance(seconds: 1)
        _ = try world.close(sessionID: first, byAgent: "ann", now: world.now)
        _ = try world.close(sessionID: second, byAgent: "bob", now: world.now)
        var order: [String] = []
        for _ in 0..<4 {
            world.advance(seconds: 1)
            let id = try world.newSession()
            order.append(world.session(id).agentID!)
        }
        #expect(order == ["cat", "dan", "ann", "bob"])
    }

    @Test("capacity is never exceeded; the rest queue in FIFO order and freed capacity takes the oldest")
    func capacityAndQueue() throws {
        var settings = SwitchboardSettings()
        settings.queue.maxSessionsPerAgent = 2
        var world = try World(settings: settings, agents: ["ann"])
        try world.online("ann")
        let ids = try (0..<5).map { _ in try world.newSession() }
        #expect(ids.map { world.session($0).state } == [.active, .active, .queued, .queued, .queued])
        #expect(world.state.agents["ann"]!.sessions.count == 2)
        #expect(world.state.queuePosition(of: ids[2])! == (1, 0))
        #expect(world.state.queuePosition(of: ids[4])! == (3, 2))
        _ = try world.close(sessionID: ids[0], byAgent: "ann", now: world.now)
        #expect(world.session(ids[2]).state == .active)
        #expect(world.session(ids[3]).state == .queued)
        #expect(world.state.agents["ann"]!.sessions.count == 2)
        // A personal limit raised takes more at once.
        try world.updateAgent(id: "ann", maxSessions: 4, now: world.now)
        #expect(world.session(ids[3]).state == .active && world.session(ids[4]).state == .active)
        #expect(world.state.queuedSessionCount == 0)
    }

    @Test("queue messages carry the right position and wait count as users ahead leave")
    func queueMessages() throws {
        var settings = SwitchboardSettings()
        settings.queue.maxSessionsPerAgent = 1
        settings.queue.queueMessageIntervalSeconds = 60
        settings.prompts.queueMessage = "#${QueuePosition}, $WaitNo ahead"
        var world = try World(settings: settings, agents: ["ann"])
        try world.online("ann")
        _ = try world.newSession()
        let waiting = try (0..<3).map { _ in try world.newSession() }
        var changes = world.takeChanges()
        #expect(world.transcript(waiting[0], in: changes).last == "#1, 0 ahead")
        #expect(world.transcript(waiting[2], in: changes).last == "#3, 2 ahead")
        // Nobody moved: no repeat at the interval.
        world.advance(seconds: 60)
        changes = world.takeChanges()
        #expect(changes.messages.isEmpty)
        // The first waiting user leaves: the others hear their new place at the next interval.
        _ = try world.close(sessionID: waiting[0], byAgent: nil, now: world.now)
        _ = world.takeChanges()
        world.advance(seconds: 60)
        changes = world.takeChanges()
        #expect(world.transcript(waiting[1], in: changes) == ["#1, 0 ahead"])
        #expect(world.transcript(waiting[2], in: changes) == ["#2, 1 ahead"])
        #expect(world.state.queuePosition(of: waiting[2])! == (2, 1))
    }

    @Test("manual mode: an offer times out, moves to the next agent, and the first goes to BREAK")
    func manualOfferTimeout() throws {
        var settings = SwitchboardSettings()
        settings.serviceMode.mode = .manual
        settings.serviceMode.connectTimeoutSeconds = 30
        settings.serviceMode.breakAfterConnectTimeout = true
        var world = try World(settings: settings, agents: ["ann", "bob"])
        try world.online("ann", "bob")
        let id = try world.newSession()
        #expect(world.session(id).state == .offered && world.session(id).agentID == "ann")
        world.advance(seconds: 29)
        #expect(world.session(id).agentID == "ann")
        world.advance(seconds: 1)
        #expect(world.session(id).state == .offered && world.session(id).agentID == "bob")
        #expect(world.state.agents["ann"]!.status == .onBreak)
        #expect(world.state.agents["ann"]!.sessions.isEmpty)
        let changes = world.takeChanges()
        #expect(changes.agents["ann"] != nil)
        // bob accepts: ACTIVE with the success prompt.
        let accepted = try world.accept(agentID: "bob", sessionID: id, now: world.now)
        #expect(accepted.state == .active)
        #expect(world.takeChanges().messages.map(\.text) == [SwitchboardSettings.Prompts().transferSucceeded])
        // Only the offered agent may accept.
        #expect(throws: SwitchboardError.self) { _ = try world.accept(agentID: "ann", sessionID: id, now: world.now) }
    }

    @Test("a missed offer never returns to the agent who missed it; it waits keeping its place")
    func missedOfferKeepsPlace() throws {
        var settings = SwitchboardSettings()
        settings.serviceMode.mode = .manual
        settings.serviceMode.connectTimeoutSeconds = 10
        settings.queue.maxSessionsPerAgent = 1
        var world = try World(settings: settings, agents: ["ann"])
        try world.online("ann")
        let first = try world.newSession()
        let second = try world.newSession()
        #expect(world.session(second).state == .queued)
        world.advance(seconds: 10)
        // ann missed `first`: she gets `second`; `first` waits for someone else, ahead in line.
        #expect(world.session(first).state == .queued)
        #expect(world.session(second).agentID == "ann")
        #expect(world.session(first).missedAgents == ["ann"])
        let third = try world.newSession()
        #expect(world.state.queuePosition(of: first)!.position == 1)
        #expect(world.state.queuePosition(of: third)!.position == 2)
    }

    @Test("the user timeout closes with its message, never while queued, and a user message resets it")
    func userTimeout() throws {
        var settings = SwitchboardSettings()
        settings.closure.userTimeoutSeconds = 120
        settings.queue.maxSessionsPerAgent = 1
        var world = try World(settings: settings, agents: ["ann"])
        try world.online("ann")
        let active = try world.newSession()
        let queued = try world.newSession()
        _ = try world.agentMessage(agentID: "ann", sessionID: active, text: "Hi, how can I help?", now: world.now)
        world.advance(seconds: 100)
        _ = try world.userMessage(sessionID: active, text: "My order is late", now: world.now)
        world.advance(seconds: 100)
        #expect(world.session(active).state == .active, "the user answered: no timeout")
        _ = try world.agentMessage(agentID: "ann", sessionID: active, text: "Let me check", now: world.now)
        _ = world.takeChanges()
        world.advance(seconds: 119)
        #expect(world.session(active).state == .active)
        world.advance(seconds: 1)
        #expect(world.session(active).state == .closed)
        #expect(world.session(active).closeReason == .userTimeout)
        let changes = world.takeChanges()
        #expect(world.transcript(active, in: changes).first == SwitchboardSettings.Prompts().timeoutClosure)
        // The queued user took ann's freed place; nothing timed them out while they waited.
        #expect(world.session(queued).state == .active)
        world.advance(seconds: 3600)
        #expect(world.session(queued).state == .active, "no agent message yet: no timeout")
    }

    @Test("no agent online: transfer failed, back to the bot; a full queue fails too")
    func transferFailed() throws {
        var settings = SwitchboardSettings()
        settings.queue.maxSessionsPerAgent = 1
        settings.queue.maxQueueLength = 1
        var world = try World(settings: settings, agents: ["ann"])
        let lonely = try world.newSession()
        #expect(world.session(lonely).state == .bot)
        #expect(world.takeChanges().messages.last?.text == SwitchboardSettings.Prompts().transferFailed)
        try world.online("ann")
        _ = try world.newSession()
        let waiting = try world.newSession()
        let rejected = try world.newSession()
        #expect(world.session(waiting).state == .queued)
        #expect(world.session(rejected).state == .bot)
        // A session back with the bot may ask again.
        _ = try world.requestAgent(sessionID: lonely, groupID: nil, now: world.now)
    }

    @Test("user-selects-group routes within the group; a missing or unknown group is refused")
    func userSelectsGroup() throws {
        var settings = SwitchboardSettings()
        settings.allocation.policy = .userSelectsGroup
        var world = try World(settings: settings, agents: ["ann", "bob"], groups: ["billing": ["bob"], "sales": ["ann"]])
        try world.online("ann", "bob")
        let id = try world.newSession(group: "billing")
        #expect(world.session(id).agentID == "bob")
        #expect(world.session(id).groupID == "billing")
        #expect(throws: SwitchboardError.invalid("group_id", "must name the group the user chose (the policy is USER_SELECTS_GROUP)")) {
            try world.newSession()
        }
        #expect(throws: SwitchboardError(.notFound, "group 'nope' not found")) { try world.newSession(group: "nope") }
    }

    @Test("deleting a group sends its waiting sessions back to the bot with the transfer-failed prompt")
    func groupRemoved() throws {
        var settings = SwitchboardSettings()
        settings.allocation.policy = .userSelectsGroup
        settings.queue.maxSessionsPerAgent = 1
        var world = try World(settings: settings, agents: ["ann"], groups: ["billing": ["ann"]])
        try world.online("ann")
        let served = try world.newSession(group: "billing")
        let waiting = try world.newSession(group: "billing")
        #expect(world.session(waiting).state == .queued)
        _ = world.takeChanges()
        try world.removeGroup(id: "billing", now: world.now)
        #expect(world.session(waiting).state == .bot)
        #expect(world.state.queuedSessionCount == 0)
        #expect(world.takeChanges().messages.map(\.text) == [SwitchboardSettings.Prompts().transferFailed])
        #expect(world.session(served).state == .active, "an assigned session keeps its agent")
    }

    @Test("business server answers: group, agents, reject, and the fallback on failure")
    func hookAnswers() throws {
        var settings = SwitchboardSettings()
        settings.allocation.policy = .businessServer
        settings.allocation.hookAddress = "127.0.0.1:9"
        var world = try World(settings: settings, agents: ["ann", "bob"], groups: ["vip": ["bob"]])
        try world.online("ann", "bob")
        func ask(_ answer: RoutingState.HookAnswer) throws -> SessionRecord {
            world.sessionCounter += 1
            let id = "h\(world.sessionCounter)"
            _ = world.createSession(id: id, userID: "u", channel: "web", attributes: ["tier": "vip"], now: world.now)
            #expect(try world.requestAgent(sessionID: id, groupID: nil, now: world.now) == .needsHook)
            try world.applyHookAnswer(sessionID: id, answer: answer, now: world.now)
            return world.session(id)
        }
        #expect(try ask(.group("vip")).agentID == "bob")
        #expect(try ask(.agents(["ann", "ghost"])).agentID == "ann")
        let rejected = try ask(.reject("Please call us instead."))
        #expect(rejected.state == .bot)
        #expect(world.takeChanges().messages.last?.text == "Please call us instead.")
        #expect(try ask(.failed("deadline exceeded")).state == .active, "fallback: automatic")
        #expect(try ask(.agents(["ghost"])).state == .active, "no known online agent: fallback")
        var changed = world.state.settings
        changed.allocation.fallback = .transferFailed
        try world.updateSettings(changed, now: world.now)
        #expect(try ask(.failed("unreachable")).state == .bot)
    }

    @Test("transfer to an agent or a group; the transferring agent's capacity serves the queue")
    func transfer() throws {
        var settings = SwitchboardSettings()
        settings.queue.maxSessionsPerAgent = 1
        var world = try World(settings: settings, agents: ["ann", "bob", "cat"], groups: ["tech": ["cat"]])
        try world.online("ann")
        let first = try world.newSession()
        let waiting = try world.newSession()
        try world.online("bob")
        #expect(world.session(waiting).agentID == "bob")
        #expect(throws: SwitchboardError.self) {
            _ = try world.transfer(agentID: "ann", sessionID: first, to: .agent("bob"), now: world.now)
        }
        try world.online("cat")
        let moved = try world.transfer(agentID: "ann", sessionID: first, to: .group("tech"), now: world.now)
        #expect(moved.agentID == "cat" && moved.state == .active && moved.groupID == "tech")
        #expect(world.state.agents["ann"]!.sessions.isEmpty)
        #expect(throws: SwitchboardError(.permissionDenied, "session 's1' is not assigned to agent 'ann'")) {
            _ = try world.agentMessage(agentID: "ann", sessionID: first, text: "still here?", now: world.now)
        }
    }

    @Test("ratings: invitation on close, inside the window once; late, second and uninvited are refused")
    func ratings() throws {
        var settings = SwitchboardSettings()
        settings.rating.validitySeconds = 3600
        var world = try World(settings: settings, agents: ["ann"])
        try world.online("ann")
        let rated = try world.newSession()
        let late = try world.newSession()
        let uninvited = try world.newSession()
        #expect(throws: SwitchboardError(.failedPrecondition, "session 's3' has no rating invitation")) {
            _ = try world.submitRating(sessionID: uninvited, score: 5, comment: "", now: world.now)
        }
        _ = try world.close(sessionID: rated, byAgent: "ann", now: world.now)
        _ = try world.close(sessionID: late, byAgent: nil, now: world.now)
        world.advance(seconds: 3599)
        #expect(try world.submitRating(sessionID: rated, score: 4, comment: "quick", now: world.now).rating?.score == 4)
        #expect(throws: SwitchboardError(.alreadyExists, "session 's1' is already rated")) {
            _ = try world.submitRating(sessionID: rated, score: 1, comment: "", now: world.now)
        }
        #expect(throws: SwitchboardError.invalid("score", "must be from 1 to 5, got 6")) {
            _ = try world.submitRating(sessionID: late, score: 6, comment: "", now: world.now)
        }
        world.advance(seconds: 2)
        #expect(throws: SwitchboardError(.failedPrecondition, "the rating window of session 's2' closed")) {
            _ = try world.submitRating(sessionID: late, score: 3, comment: "", now: world.now)
        }
        // The agent may invite during the conversation.
        let invited = try world.inviteRating(agentID: "ann", sessionID: uninvited, now: world.now)
        #expect(invited.ratingDeadline != nil)
    }

    @Test("after-hours reply across the DST change in Europe/Berlin, week boundaries and a holiday", arguments: [
        // (UTC instant, open?) for Mon-Fri 09:00-17:00 Berlin; DST began Sunday 2026-03-29.
        ("2026-03-27T15:30Z", true),  // Friday 16:30 CET
        ("2026-03-27T16:30Z", false),  // Friday 17:30 CET
        ("2026-03-28T10:00Z", false),  // Saturday
        ("2026-03-30T06:30Z", false),  // Monday 08:30 CEST
        ("2026-03-30T07:30Z", true),  // Monday 09:30 CEST
        ("2026-03-30T14:59Z", true),  // Monday 16:59 CEST
        ("2026-03-30T15:00Z", false),  // Monday 17:00 CEST: the end is exclusive
        ("2026-10-26T07:30Z", false),  // Monday 08:30 CET, after DST ended on 10-25
        ("2026-10-26T08:30Z", true),  // Monday 09:30 CET
        ("2026-12-25T10:00Z", false),  // Friday, a holiday exception
    ])
    func afterHours(instant: String, open: Bool) throws {
        var settings = SwitchboardSettings()
        settings.workingHours.enabled = true
        settings.workingHours.timeZone = "Europe/Berlin"
        settings.workingHours.days = (1...5).map { .init(weekday: $0, ranges: [.init(start: "09:00", end: "17:00")]) }
        settings.workingHours.exceptions = [.init(date: "2026-12-25", ranges: [])]
        var world = try World(settings: settings, agents: ["ann"])
        world.now = try Self.parse(instant)
        try world.online("ann")
        let id = try world.newSession()
        let outcome = world.session(id).state
        #expect((outcome == .active) == open)
        if !open {
            #expect(world.takeChanges().messages.last?.text == SwitchboardSettings.Prompts().afterHours)
        }
    }

    static func parse(_ text: String) throws -> Timestamp {
        // YYYY-MM-DDTHH:MMZ
        let digits = text.filter(\.isNumber).map { Int(String($0))! }
        func number(_ range: Swift.Range<Int>) -> Int { range.reduce(0) { $0 * 10 + digits[$1] } }
        let (year, month, day, hour, minute) = (number(0..<4), number(4..<6), number(6..<8), number(8..<10), number(10..<12))
        // Days from civil (Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        let seconds: Int = days * 86400 + hour * 3600 + minute * 60
        return Timestamp(milliseconds: Int64(seconds) * 1000)
    }

    @Test("state rebuilt from its records keeps queues, loads and pending timers")
    func restore() throws {
        var settings = SwitchboardSettings()
        settings.serviceMode.mode = .manual
        settings.serviceMode.connectTimeoutSeconds = 30
        settings.queue.maxSessionsPerAgent = 1
        var world = try World(settings: settings, agents: ["ann", "bob"])
        try world.online("ann", "bob")
        let offered = try world.newSession()
        let other = try world.newSession()
        let queued = try world.newSession()
        #expect(world.session(queued).state == .queued)
        let agents = world.state.agents.values.map {
            AgentRuntime(id: $0.id, status: $0.status, maxSessions: $0.maxSessions, groupIDs: [], idleSince: $0.idleSince)
        }
        var restored = try RoutingState(settings: settings, agents: agents, groups: [:], sessions: Array(world.state.sessions.values))
        #expect(restored.agents["ann"]!.sessions == [offered])
        #expect(restored.queuePosition(of: queued)! == (1, 0))
        #expect(restored.nextDeadline() == world.session(offered).offerDeadline)
        // Both offers still time out after the restart. s1 (missed by ann) waits ahead of s3, so
        // ann takes s3; then s2 (missed by bob) waits, and bob takes s1.
        _ = restored.fireDueTimers(now: world.now.adding(.seconds(30)))
        #expect(restored.sessions[queued]!.state == .offered && restored.sessions[queued]!.agentID == "ann")
        #expect(restored.sessions[offered]!.state == .offered && restored.sessions[offered]!.agentID == "bob")
        #expect(restored.sessions[other]!.state == .queued && restored.sessions[other]!.missedAgents == ["bob"])
        #expect(restored.queuePosition(of: other)! == (1, 0))
    }
}

@Suite("Routing events")
struct RoutingEventTests {
    @Test("session and agent events are numbered without gaps and follow the scenario")
    func events() throws {
        var settings = SwitchboardSettings()
        settings.serviceMode.mode = .manual
        settings.serviceMode.connectTimeoutSeconds = 10
        settings.serviceMode.breakAfterConnectTimeout = true
        var world = try World(settings: settings, agents: ["ann", "bob"])
        try world.online("ann", "bob")
        let id = try world.newSession()
        world.advance(seconds: 10)  // ann misses the offer; bob gets it
        _ = try world.accept(agentID: "bob", sessionID: id, now: world.now)
        _ = try world.userMessage(sessionID: id, text: "hello", now: world.now)
        _ = try world.close(sessionID: id, byAgent: "bob", now: world.now)
        let changes = world.takeChanges()
        let sessionEvents = changes.sessionEvents.filter { $0.sessionID == id }
        #expect(sessionEvents.map(\.sequence) == Array(1...Int64(sessionEvents.count)))
        let states = sessionEvents.compactMap { event -> SessionState? in
            if case .stateChanged(let state, _, _, _) = event.kind { return state }
            return nil
        }
        #expect(states == [.offered, .offered, .active, .closed])
        #expect(sessionEvents.contains { if case .message(let m) = $0.kind { m.text == "hello" } else { false } })
        #expect(sessionEvents.contains { if case .ratingInvited = $0.kind { true } else { false } })
        let ann = changes.agentEvents.filter { $0.agentID == "ann" }.map(\.kind)
        #expect(ann.count == 3)
        #expect(ann.first.map { if case .offered(let s, _) = $0 { s == id } else { false } } == true)
        #expect(ann.contains(.offerExpired(sessionID: id)))
        #expect(ann.contains(.statusChanged(.onBreak)))
        let bob = changes.agentEvents.filter { $0.agentID == "bob" }
        #expect(bob.map(\.sequence) == Array(1...Int64(bob.count)))
        #expect(bob.map(\.kind).contains(.assigned(sessionID: id)))
        #expect(bob.map(\.kind).contains(.closed(sessionID: id, reason: .agentEnded)))
        #expect(bob.contains { if case .userMessage(let m) = $0.kind { m.text == "hello" } else { false } })
        #expect(world.session(id).lastEventSequence == Int64(sessionEvents.count))
    }
}
