import Foundation
import Logging
import SwitchboardClient
import SwitchboardCore
import SwitchboardServer
import SwitchboardStore
import SwitchboardTestSupport
import Testing

/// A test's view of one server: its client, its clock, and helpers for the usual steps.
struct Scenario {
    let server: TestServer
    let clock: ManualClock
    let client: SwitchboardClient

    var sessions: SessionService.Client { client.sessions }
    var agents: AgentService.Client { client.agents }

    func advance(seconds: Int) async {
        clock.advance(.seconds(seconds))
        await server.engine.fireDueTimers()
    }

    func agentsOnline(_ ids: String..., limit: UInt32? = nil) async throws {
        for id in ids {
            _ = try await agents.createAgent(CreateAgentRequest(id: id, displayName: id.capitalized, maxSessions: limit))
            _ = try await agents.setAgentStatus(SetAgentStatusRequest(id: id, status: .online))
        }
    }

    func update(_ change: (inout Settings) -> Void) async throws {
        let document = try await client.settings.getSettings(GetSettingsRequest())
        var settings = try #require(document.settings)
        change(&settings)
        _ = try await client.settings.updateSettings(UpdateSettingsRequest(expectedVersion: document.version, settings: settings))
    }

    /// Creates a session for `user` and asks for an agent.
    func userAsks(_ user: String, group: String = "") async throws -> Session {
        let session = try await sessions.createSession(CreateSessionRequest(userID: user, channel: "web"))
        return try await sessions.requestAgent(RequestAgentRequest(sessionID: session.id, groupID: group))
    }

    func session(_ id: String) async throws -> Session {
        try await sessions.getSession(GetSessionRequest(sessionID: id))
    }

    func texts(_ id: String) async throws -> [String] {
        try await sessions.listMessages(ListMessagesRequest(sessionID: id, limit: 1000)).messages.map(\.text)
    }
}

func withScenario(
    database: String? = nil, clock: ManualClock = ManualClock(), hook: (any AllocationHook)? = nil,
    _ body: (Scenario) async throws -> Void
) async throws {
    try await withTestServer(database: database, clock: clock, hook: hook) { server in
        let client = server.makeClient()
        try await body(Scenario(server: server, clock: clock, client: client))
        await client.close()
    }
}

@Suite("Session scenarios through the client")
struct SessionScenarioTests {
    @Test("welcome, request, success prompt, messages both ways, close with the closure message and rating")
    func lifecycle() async throws {
        try await withScenario { scenario in
            try await scenario.agentsOnline("ann")
            let created = try await scenario.sessions.createSession(
                CreateSessionRequest(userID: "user-1", attributes: ["tier": "vip"], channel: "web")
            )
            #expect(created.state == .bot && created.attributes == ["tier": "vip"])
            let routed = try await scenario.sessions.requestAgent(RequestAgentRequest(sessionID: created.id))
            #expect(routed.state == .active && routed.agentID == "ann")
            _ = try await scenario.agents.sendAgentMessage(SendAgentMessageRequest(agentID: "ann", sessionID: created.id, text: "Hello!"))
            _ = try await scenario.sessions.sendUserMessage(SendUserMessageRequest(sessionID: created.id, text: "Hi"))
            let closed = try await scenario.agents.closeSession(AgentSessionRequest(agentID: "ann", sessionID: created.id))
            #expect(closed.state == .closed && closed.closeReason == .agentEnded && closed.ratingDeadlineMs > 0)
            let rated = try await scenario.sessions.submitRating(SubmitRatingRequest(sessionID: created.id, score: 5, comment: "great"))
            #expect(rated.rating?.score == 5 && rated.rating?.label == "Very satisfied")
            let defaults = SwitchboardSettings()
            let messages = try await scenario.sessions.listMessages(ListMessagesRequest(sessionID: created.id)).messages
            #expect(messages.map(\.text) == [
                defaults.prompts.welcome, defaults.prompts.manualAccessInProgress, defaults.prompts.transferSucceeded,
                "Hello!", "Hi", defaults.prompts.proactiveClosure, defaults.rating.invitationMessage, defaults.rating.submissionMessage,
            ])
            #expect(messages.map(\.sequence) == Array(1...8))
            #expect(messages[3].sender == .agent && messages[3].agentID == "ann")
            #expect(messages[0].prompt == .welcome)
            // Ids sort by creation time (new rows land at the end of the tables' B-trees).
            scenario.clock.advance(.milliseconds(1))
            let later = try await scenario.sessions.createSession(CreateSessionRequest(userID: "user-2"))
            #expect(created.id < later.id)
        }
    }

    @Test("three agents with different idle times get sessions in longest-idle order")
    func longestIdle() async throws {
        try await withScenario { scenario in
            try await scenario.agentsOnline("ann", "bob", "cat")
            // Nobody was ever assigned: ties go by id, so ann (at 10 s), then bob (at 20 s) get the
            // first two; cat has now waited longest, then ann, then bob.
            for expected in ["ann", "bob"] {
                scenario.clock.advance(.seconds(10))
                let session = try await scenario.userAsks("warmup-\(expected)")
                #expect(session.agentID == expected)
                _ = try await scenario.agents.closeSession(AgentSessionRequest(agentID: session.agentID, sessionID: session.id))
            }
            var order: [String] = []
            for user in ["u1", "u2", "u3"] {
                scenario.clock.advance(.seconds(1))
                order.append(try await scenario.userAsks(user).agentID)
            }
            #expect(order == ["cat", "ann", "bob"])
        }
    }

    @Test("manual mode: the offer times out, moves to the next agent, and the first goes to BREAK")
    func manualMode() async throws {
        try await withScenario { scenario in
            try await scenario.update {
                $0.serviceMode = Settings.ServiceMode(mode: .manual, connectTimeoutSeconds: 30, breakAfterConnectTimeout: true)
            }
            try await scenario.agentsOnline("ann", "bob")
            let offered = try await scenario.userAsks("u1")
            #expect(offered.state == .offered && offered.agentID == "ann" && offered.offerDeadlineMs > 0)
            await expectRPCError(.permissionDenied, containing: "not offered to agent 'bob'") {
                _ = try await scenario.agents.acceptSession(AgentSessionRequest(agentID: "bob", sessionID: offered.id))
            }
            await scenario.advance(seconds: 30)
            let moved = try await scenario.session(offered.id)
            #expect(moved.state == .offered && moved.agentID == "bob")
            #expect(try await scenario.agents.getAgent(GetAgentRequest(id: "ann")).status == .break)
            let accepted = try await scenario.agents.acceptSession(AgentSessionRequest(agentID: "bob", sessionID: offered.id))
            #expect(accepted.state == .active)
            let sessions = try await scenario.agents.listAgentSessions(ListAgentSessionsRequest(agentID: "bob"))
            #expect(sessions.sessions.map(\.id) == [offered.id])
        }
    }

    @Test("queue messages carry the right position and wait count as users ahead leave")
    func queueMessages() async throws {
        try await withScenario { scenario in
            try await scenario.update {
                $0.queue?.maxSessionsPerAgent = 1
                $0.queue?.queueMessageIntervalSeconds = 30
                $0.prompts?.queueMessage = "Position $QueuePosition, ${WaitNo} ahead"
            }
            try await scenario.agentsOnline("ann")
            _ = try await scenario.userAsks("busy")
            let waiting = try await [scenario.userAsks("w1"), scenario.userAsks("w2"), scenario.userAsks("w3")]
            #expect(waiting.allSatisfy { $0.state == .queued })
            #expect(try await scenario.texts(waiting[2].id).last == "Position 3, 2 ahead")
            let position = try await scenario.sessions.getQueuePosition(GetQueuePositionRequest(sessionID: waiting[1].id))
            #expect(position.queued && position.position == 2 && position.waitingAhead == 1)
            _ = try await scenario.sessions.closeSession(CloseSessionRequest(sessionID: waiting[0].id))
            await scenario.advance(seconds: 30)
            #expect(try await scenario.texts(waiting[1].id).last == "Position 1, 0 ahead")
            #expect(try await scenario.texts(waiting[2].id).last == "Position 2, 1 ahead")
            let count = try await scenario.texts(waiting[2].id).count
            await scenario.advance(seconds: 30)
            #expect(try await scenario.texts(waiting[2].id).count == count, "no change, no message")
        }
    }

    @Test("a user timeout closes with the timeout message but never fires while queued")
    func userTimeout() async throws {
        try await withScenario { scenario in
            try await scenario.update {
                $0.closure?.userTimeoutSeconds = 300
                $0.queue?.maxSessionsPerAgent = 1
            }
            try await scenario.agentsOnline("ann")
            let active = try await scenario.userAsks("u1")
            let queued = try await scenario.userAsks("u2")
            _ = try await scenario.agents.sendAgentMessage(SendAgentMessageRequest(agentID: "ann", sessionID: active.id, text: "Still there?"))
            await scenario.advance(seconds: 299)
            #expect(try await scenario.session(active.id).state == .active)
            await scenario.advance(seconds: 1)
            let closed = try await scenario.session(active.id)
            #expect(closed.state == .closed && closed.closeReason == .userTimeout)
            #expect(try await scenario.texts(active.id).contains(SwitchboardSettings().prompts.timeoutClosure))
            // u2 took ann's place and no agent has written: the clock runs on, nothing closes.
            #expect(try await scenario.session(queued.id).state == .active)
            await scenario.advance(seconds: 3600)
            #expect(try await scenario.session(queued.id).state == .active)
        }
    }

    @Test("after-hours reply across the DST change in Europe/Berlin")
    func afterHours() async throws {
        // Monday 2026-03-30 08:30 CEST (06:30 UTC), the day after clocks moved forward.
        let clock = ManualClock(start: Timestamp(milliseconds: 1_774_852_200_000))
        try await withScenario(clock: clock) { scenario in
            try await scenario.update {
                $0.workingHours = Settings.WorkingHours(
                    enabled: true, timeZone: "Europe/Berlin",
                    days: (1...5).map { .init(weekday: .init(rawValue: Int32($0)), ranges: [.init(start: "09:00", end: "17:00")]) }
                )
            }
            try await scenario.agentsOnline("ann")
            let early = try await scenario.userAsks("early")
            #expect(early.state == .bot)
            #expect(try await scenario.texts(early.id).last == SwitchboardSettings().prompts.afterHours)
            clock.advance(.seconds(3600))  // 09:30 CEST
            let routed = try await scenario.sessions.requestAgent(RequestAgentRequest(sessionID: early.id))
            #expect(routed.state == .active)
        }
    }

    @Test("a rating after the validity window is refused; a second rating too")
    func ratingWindow() async throws {
        try await withScenario { scenario in
            try await scenario.update { $0.rating?.validitySeconds = 600 }
            try await scenario.agentsOnline("ann")
            let first = try await scenario.userAsks("u1")
            let second = try await scenario.userAsks("u2")
            _ = try await scenario.agents.inviteRating(AgentSessionRequest(agentID: "ann", sessionID: first.id))
            _ = try await scenario.sessions.submitRating(SubmitRatingRequest(sessionID: first.id, score: 3))
            await expectRPCError(.alreadyExists, containing: "already rated") {
                _ = try await scenario.sessions.submitRating(SubmitRatingRequest(sessionID: first.id, score: 4))
            }
            _ = try await scenario.sessions.closeSession(CloseSessionRequest(sessionID: second.id))
            await scenario.advance(seconds: 601)
            await expectRPCError(.failedPrecondition, containing: "rating window") {
                _ = try await scenario.sessions.submitRating(SubmitRatingRequest(sessionID: second.id, score: 4))
            }
            await expectRPCError(.invalidArgument, containing: "'score'") {
                _ = try await scenario.sessions.submitRating(SubmitRatingRequest(sessionID: second.id, score: 0))
            }
        }
    }

    @Test("an agent may act only on its own sessions; closed sessions refuse changes")
    func permissions() async throws {
        try await withScenario { scenario in
            try await scenario.agentsOnline("ann", "bob")
            let session = try await scenario.userAsks("u1")
            let other = session.agentID == "ann" ? "bob" : "ann"
            await expectRPCError(.permissionDenied, containing: "not assigned to agent '\(other)'") {
                _ = try await scenario.agents.sendAgentMessage(SendAgentMessageRequest(agentID: other, sessionID: session.id, text: "hi"))
            }
            await expectRPCError(.failedPrecondition, containing: "still serves") {
                _ = try await scenario.agents.deleteAgent(DeleteAgentRequest(id: session.agentID))
            }
            _ = try await scenario.sessions.closeSession(CloseSessionRequest(sessionID: session.id))
            await expectRPCError(.failedPrecondition, containing: "CLOSED") {
                _ = try await scenario.sessions.sendUserMessage(SendUserMessageRequest(sessionID: session.id, text: "hello?"))
            }
            await expectRPCError(.notFound, containing: "'s-nope'") {
                _ = try await scenario.sessions.getSession(GetSessionRequest(sessionID: "s-nope"))
            }
        }
    }

    @Test("queued sessions next to free capacity at start-up (a crash after a raised limit was stored) are served")
    func startUpServesQueues() async throws {
        let database = temporaryDatabasePath()
        let clock = ManualClock()
        var queuedID = ""
        try await withScenario(database: database, clock: clock) { scenario in
            try await scenario.update { $0.queue?.maxSessionsPerAgent = 1 }
            try await scenario.agentsOnline("ann")
            _ = try await scenario.userAsks("u1")
            let queued = try await scenario.userAsks("u2")
            #expect(queued.state == .queued)
            queuedID = queued.id
        }
        // The limit raised in the database alone: what a crash right after the settings' commit,
        // before the assignments it allowed, leaves behind.
        do {
            let backend = try await TestStores.open(database, clock: clock, logger: Logger(label: "test"))
            let store = backend.catalog
            let current = try #require(try await store.settings())
            var settings = try Settings(serializedBytes: current.document)
            settings.queue?.maxSessionsPerAgent = 2
            _ = try await store.replaceSettings(try settings.serializedBytes(), expectedVersion: current.version)
            store.close()
            await backend.shutdown()
        }
        try await withScenario(database: database, clock: clock) { scenario in
            let session = try await scenario.session(queuedID)
            #expect(session.state == .active && session.agentID == "ann")
        }
    }

    @Test("a restart in a busy scenario keeps sessions, queue and load; a pending offer and a user timeout still fire")
    func restart() async throws {
        let database = temporaryDatabasePath()
        let clock = ManualClock()
        var ids: [String] = []
        try await withScenario(database: database, clock: clock) { scenario in
            try await scenario.update {
                $0.serviceMode = Settings.ServiceMode(mode: .manual, connectTimeoutSeconds: 60)
                $0.queue?.maxSessionsPerAgent = 1
                $0.closure?.userTimeoutSeconds = 120
            }
            try await scenario.agentsOnline("ann", "bob")
            let active = try await scenario.userAsks("u1")
            _ = try await scenario.agents.acceptSession(AgentSessionRequest(agentID: active.agentID, sessionID: active.id))
            _ = try await scenario.agents.sendAgentMessage(SendAgentMessageRequest(agentID: active.agentID, sessionID: active.id, text: "Hi"))
            let offered = try await scenario.userAsks("u2")
            let queued = try await scenario.userAsks("u3")
            #expect(offered.state == .offered && queued.state == .queued)
            ids = [active.id, offered.id, queued.id]
        }
        // Down for two minutes: both timers expired meanwhile and fire at start-up.
        clock.advance(.seconds(120))
        try await withScenario(database: database, clock: clock) { scenario in
            let active = try await scenario.session(ids[0])
            #expect(active.state == .closed && active.closeReason == .userTimeout)
            let offered = try await scenario.session(ids[1])
            let queued = try await scenario.session(ids[2])
            // The missed offer went to the freed agent; the other freed capacity took the queue.
            #expect(offered.state == .offered && queued.state == .offered)
            #expect(Set([offered.agentID, queued.agentID]) == ["ann", "bob"])
            for name in ["ann", "bob"] {
                let load = try await scenario.agents.listAgentSessions(ListAgentSessionsRequest(agentID: name)).sessions.count
                #expect(load == 1)
            }
        }
    }
}
