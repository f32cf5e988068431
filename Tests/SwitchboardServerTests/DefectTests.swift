import SwitchboardClient
import SwitchboardCore
import SwitchboardServer
import SwitchboardTestSupport
import Synchronization
import Testing

/// The defects found from outside, each tried as a user of the RPC API would.
@Suite("Defects found from outside")
struct DefectTests {
    @Test("a caller's deadline during the hook call costs only that caller: the routing completes as the hook said, and the hook is not charged")
    func deadlineDuringHookCall() async throws {
        let hook = NetworkAllocationHook(failureThreshold: 3, coolDown: .seconds(30))
        let gate = ProbeService()
        try await withHookServer(decide: { request in
            _ = try await gate.echo(request: .init(text: "block-" + request.sessionID), context: .testing)
            return .agents(["bob"])
        }) { port in
            try await withScenario(hook: hook) { scenario in
                try await scenario.useHook(port: port, deadlineMs: 10_000)
                try await scenario.agentsOnline("ann", "bob", limit: 10)
                var events = gate.events.makeAsyncIterator()
                for index in 0..<4 {
                    let session = try await scenario.sessions.createSession(CreateSessionRequest(userID: "u\(index)"))
                    let error = await #expect(throws: RPCError.self) {
                        _ = try await scenario.sessions.requestAgent(
                            RequestAgentRequest(sessionID: session.id), options: CallOptions(timeout: .milliseconds(50))
                        )
                    }
                    #expect(error?.code == .deadlineExceeded)
                    #expect(await events.next() == .started("block-" + session.id))
                    gate.release("block-" + session.id)
                    #expect(await events.next() == .released("block-" + session.id))
                    // The hook answered in time for itself: its answer stands, not the fallback (ann).
                    #expect(try await eventually { try await scenario.session(session.id).state == .active })
                    #expect(try await scenario.session(session.id).agentID == "bob")
                }
            }
        }
        #expect(hook.statistics.failures == 0 && hook.statistics.skipped == 0 && hook.statistics.answers == 4)
    }

    @Test("two RequestAgent calls at once under the business-server policy: one hook call, one prompt, a clear answer to the second")
    func concurrentRequestAgent() async throws {
        let hook = NetworkAllocationHook()
        let gate = ProbeService()
        let calls = Mutex(0)
        try await withHookServer(decide: { request in
            calls.withLock { $0 += 1 }
            _ = try await gate.echo(request: .init(text: "block-" + request.sessionID), context: .testing)
            return .automatic
        }) { port in
            try await withScenario(hook: hook) { scenario in
                try await scenario.useHook(port: port, deadlineMs: 10_000)
                try await scenario.agentsOnline("ann")
                let session = try await scenario.sessions.createSession(CreateSessionRequest(userID: "u1"))
                async let first = scenario.sessions.requestAgent(RequestAgentRequest(sessionID: session.id))
                var events = gate.events.makeAsyncIterator()
                #expect(await events.next() == .started("block-" + session.id))
                let error = await #expect(throws: RPCError.self) {
                    _ = try await scenario.sessions.requestAgent(RequestAgentRequest(sessionID: session.id))
                }
                #expect(error?.code == .failedPrecondition && error?.message.contains("being routed") == true)
                gate.release("block-" + session.id)
                #expect(try await first.state == .active)
                let prompts = try await scenario.texts(session.id).filter { $0 == SwitchboardSettings().prompts.manualAccessInProgress }
                #expect(prompts.count == 1)
            }
        }
        #expect(calls.withLock { $0 } == 1)
    }

    @Test("a close racing a RequestAgent never crashes the server; each call answers from what was decided", arguments: [false, true])
    func closeRacingRequestAgent(throughHook: Bool) async throws {
        let hook = NetworkAllocationHook()
        try await withHookServer(decide: { _ in .automatic }) { port in
            try await withScenario(hook: hook) { scenario in
                if throughHook { try await scenario.useHook(port: port, deadlineMs: 10_000) }
                try await scenario.agentsOnline("ann", limit: 1000)
                for index in 0..<60 {
                    let session = try await scenario.sessions.createSession(CreateSessionRequest(userID: "u\(index)"))
                    let request = Task { try await scenario.sessions.requestAgent(RequestAgentRequest(sessionID: session.id)) }
                    let close = Task { try await scenario.sessions.closeSession(CloseSessionRequest(sessionID: session.id)) }
                    switch await request.result {
                    case .success(let routed): #expect(routed.state == .active || routed.state == .closed)
                    case .failure(let error): #expect((error as? RPCError)?.code == .failedPrecondition, "\(error)")
                    }
                    switch await close.result {
                    case .success(let closed): #expect(closed.state == .closed)
                    case .failure(let error): #expect((error as? RPCError)?.code == .failedPrecondition, "\(error)")
                    }
                    let final = try await scenario.session(session.id)
                    // Closed by the close, unless the close came first and was refused: never on an agent.
                    #expect(final.state == .closed || final.state == .active)
                }
                let sessions = try await scenario.agents.listAgentSessions(ListAgentSessionsRequest(agentID: "ann")).sessions
                #expect(sessions.allSatisfy { $0.state == .active })
                _ = try await scenario.client.health.check(HealthCheckRequest())
            }
        }
    }

    @Test("a close while the hook decides: the routing is dropped, its caller told why, and no agent is taken")
    func closeWhileAllocating() async throws {
        let hook = NetworkAllocationHook()
        let gate = ProbeService()
        try await withHookServer(decide: { request in
            _ = try await gate.echo(request: .init(text: "block-" + request.sessionID), context: .testing)
            return .automatic
        }) { port in
            try await withScenario(hook: hook) { scenario in
                try await scenario.useHook(port: port, deadlineMs: 10_000)
                try await scenario.agentsOnline("ann")
                var events = gate.events.makeAsyncIterator()
                for index in 0..<10 {
                    let session = try await scenario.sessions.createSession(CreateSessionRequest(userID: "u\(index)"))
                    let routed = Task { try await scenario.sessions.requestAgent(RequestAgentRequest(sessionID: session.id)) }
                    #expect(await events.next() == .started("block-" + session.id))
                    #expect(try await scenario.sessions.closeSession(CloseSessionRequest(sessionID: session.id)).state == .closed)
                    gate.release("block-" + session.id)
                    #expect(await events.next() == .released("block-" + session.id))
                    let error = await #expect(throws: RPCError.self) { _ = try await routed.value }
                    #expect(error?.code == .failedPrecondition && error?.message.contains("closed while it was being routed") == true)
                }
                #expect(try await scenario.agents.listAgentSessions(ListAgentSessionsRequest(agentID: "ann")).sessions.isEmpty)
            }
        }
    }

    @Test("an agent going OFFLINE gives up its offer at once, and cannot accept it")
    func offlineAgentOffer() async throws {
        try await withScenario { scenario in
            try await scenario.update { $0.serviceMode = Settings.ServiceMode(mode: .manual, connectTimeoutSeconds: 3600) }
            try await scenario.agentsOnline("ann")
            await scenario.advance(seconds: 1)
            try await scenario.agentsOnline("bob")
            let offered = try await scenario.userAsks("u1")
            #expect(offered.state == .offered && offered.agentID == "ann")
            _ = try await scenario.agents.setAgentStatus(SetAgentStatusRequest(id: "ann", status: .offline))
            let moved = try await scenario.session(offered.id)
            #expect(moved.state == .offered && moved.agentID == "bob")
            let error = await #expect(throws: RPCError.self) {
                _ = try await scenario.agents.acceptSession(AgentSessionRequest(agentID: "ann", sessionID: offered.id))
            }
            #expect(error?.code == .permissionDenied)
        }
    }

    @Test("after a transfer to a busy group the queued session names no agent")
    func agentIDAfterTransfer() async throws {
        try await withScenario { scenario in
            try await scenario.agentsOnline("ann", "bob", limit: 1)
            _ = try await scenario.agents.createGroup(CreateGroupRequest(id: "tech", name: "Tech"))
            _ = try await scenario.agents.addGroupMember(GroupMemberRequest(groupID: "tech", agentID: "bob"))
            let first = try await scenario.userAsks("u1")
            let second = try await scenario.userAsks("u2")
            #expect(first.agentID == "ann" && second.agentID == "bob")
            let moved = try await scenario.agents.transferSession(
                TransferSessionRequest(agentID: "ann", sessionID: first.id, target: .toGroupID("tech"))
            )
            #expect(moved.state == .queued && moved.agentID == "")
            #expect(try await scenario.session(first.id).agentID == "")
            _ = try await scenario.agents.deleteGroup(DeleteGroupRequest(id: "tech"))
            let back = try await scenario.session(first.id)
            #expect(back.state == .bot && back.agentID == "")
        }
    }

    @Test("a finished session's stream ends with its last event: at close without a rating, after the rating, or when the window is over")
    func finishedStreamsEnd() async throws {
        let clock = ManualClock()
        try await withScenario(clock: clock) { scenario in
            try await scenario.agentsOnline("ann", limit: 10)
            // Never with an agent: no rating can come.
            let botOnly = try await scenario.sessions.createSession(CreateSessionRequest(userID: "u0"))
            let botWatch = Task { try await Self.collect(scenario.sessions.watchSession(WatchSessionRequest(sessionID: botOnly.id))) }
            _ = try await scenario.sessions.closeSession(CloseSessionRequest(sessionID: botOnly.id))
            let botEvents = try await botWatch.value  // it ended
            #expect(!botEvents.isEmpty && botEvents == Array(1...botEvents.last!))
            // Rated: the stream ends after the rating's events.
            let rated = try await scenario.userAsks("u1")
            let ratedWatch = Task { try await Self.collect(scenario.sessions.watchSession(WatchSessionRequest(sessionID: rated.id))) }
            _ = try await scenario.agents.closeSession(AgentSessionRequest(agentID: "ann", sessionID: rated.id))
            _ = try await scenario.sessions.submitRating(SubmitRatingRequest(sessionID: rated.id, score: 5))
            let ratedEvents = try await ratedWatch.value
            #expect(ratedEvents == Array(1...ratedEvents.last!))
            // Not rated: the stream ends when the window is over.
            let unrated = try await scenario.userAsks("u2")
            _ = try await scenario.agents.closeSession(AgentSessionRequest(agentID: "ann", sessionID: unrated.id))
            let unratedWatch = Task { try await Self.collect(scenario.sessions.watchSession(WatchSessionRequest(sessionID: unrated.id))) }
            await scenario.advance(seconds: SwitchboardSettings().rating.validitySeconds + 1)
            let unratedEvents = try await unratedWatch.value
            #expect(!unratedEvents.isEmpty)
            // Watching a finished session replays its events and ends.
            #expect(try await Self.collect(scenario.sessions.watchSession(WatchSessionRequest(sessionID: rated.id))) == ratedEvents)
            #expect(scenario.server.engine.hub.watcherCount == 0)
        }
    }

    /// The sequence numbers of a stream, to its end.
    static func collect(_ stream: RPCResponseStream<SessionEvent>) async throws -> [Int64] {
        var sequences: [Int64] = []
        for try await event in stream { sequences.append(event.sequence) }
        return sequences
    }

    @Test("a rating after the closed session left memory (a restart): stored once, a second is ALREADY_EXISTS, two at once store one")
    func ratingAfterRestart() async throws {
        let database = temporaryDatabasePath()
        var sessionIDs: [String] = []
        try await withScenario(database: database) { scenario in
            try await scenario.agentsOnline("ann", limit: 10)
            for index in 0..<2 {
                let session = try await scenario.userAsks("u\(index)")
                _ = try await scenario.agents.closeSession(AgentSessionRequest(agentID: "ann", sessionID: session.id))
                sessionIDs.append(session.id)
            }
        }
        let ids = sessionIDs
        try await withScenario(database: database) { scenario in
            let rated = try await scenario.sessions.submitRating(SubmitRatingRequest(sessionID: ids[0], score: 4, comment: "ok"))
            #expect(rated.rating?.score == 4 && rated.state == .closed)
            let again = await #expect(throws: RPCError.self) {
                _ = try await scenario.sessions.submitRating(SubmitRatingRequest(sessionID: ids[0], score: 1))
            }
            #expect(again?.code == .alreadyExists)
            async let one = Result { try await scenario.sessions.submitRating(SubmitRatingRequest(sessionID: ids[1], score: 2)) }
            async let two = Result { try await scenario.sessions.submitRating(SubmitRatingRequest(sessionID: ids[1], score: 3)) }
            let results = await [one, two]
            #expect(results.filter { (try? $0.get()) != nil }.count == 1)
            #expect(try await scenario.session(ids[1]).rating != nil)
        }
    }

    @Test("a session left with the bot closes by itself after the idle time (CLOSE_REASON_BOT_IDLE)")
    func botIdleExpiry() async throws {
        let clock = ManualClock()
        try await withScenario(clock: clock) { scenario in
            let idle = try await scenario.sessions.createSession(CreateSessionRequest(userID: "u1"))
            let talking = try await scenario.sessions.createSession(CreateSessionRequest(userID: "u2"))
            await scenario.advance(seconds: 3000)
            _ = try await scenario.sessions.sendUserMessage(SendUserMessageRequest(sessionID: talking.id, text: "hello?"))
            await scenario.advance(seconds: 600)
            let closed = try await scenario.session(idle.id)
            #expect(closed.state == .closed && closed.closeReason == .botIdle)
            #expect(try await scenario.session(talking.id).state == .bot)
            let settings = try await scenario.client.settings.getSettings(GetSettingsRequest())
            #expect(settings.settings?.closure?.botIdleTimeoutSeconds == 3600)
        }
    }

    @Test("a business server's answer out of bounds (a 2 MB rejection) is not sent to the user: the fallback applies")
    func hookAnswerOutOfBounds() async throws {
        let hook = NetworkAllocationHook()
        try await withHookServer(decide: { _ in .reject(String(repeating: "x", count: 2_000_000)) }) { port in
            try await withScenario(hook: hook) { scenario in
                try await scenario.useHook(port: port)
                try await scenario.agentsOnline("ann")
                let session = try await scenario.ask("u1", [:])
                #expect(session.state == .active && session.agentID == "ann", "automatic fallback")
                #expect(try await scenario.texts(session.id).allSatisfy { $0.utf8.count < 10_000 })
            }
        }
    }
}
