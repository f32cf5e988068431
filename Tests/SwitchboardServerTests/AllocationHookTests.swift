import SwitchboardClient
import SwitchboardCore
import SwitchboardServer
import SwitchboardTestSupport
import Synchronization
import Testing

/// Runs an AllocationHookServer on a free port for `body`.
func withHookServer<T: Sendable>(
    decide: @escaping @Sendable (HookAllocateRequest) async throws -> AllocationHookServer.Decision,
    _ body: (Int) async throws -> T
) async throws -> T {
    let hook = AllocationHookServer(port: 0, decide: decide)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await hook.run() }
        let port = try await hook.server.listeningAddress.port!
        do {
            let result = try await body(port)
            hook.server.beginGracefulShutdown()
            try await group.waitForAll()
            return result
        } catch {
            group.cancelAll()
            throw error
        }
    }
}

extension Scenario {
    func useHook(port: Int, deadlineMs: UInt32 = 2000) async throws {
        try await update {
            $0.allocation = Settings.Allocation(
                policy: .businessServer, hookAddress: "127.0.0.1:\(port)", hookDeadlineMs: deadlineMs, fallback: .automatic
            )
        }
    }

    func ask(_ user: String, _ attributes: [String: String]) async throws -> Session {
        let session = try await sessions.createSession(CreateSessionRequest(userID: user, attributes: attributes))
        return try await sessions.requestAgent(RequestAgentRequest(sessionID: session.id))
    }
}

@Suite("Business-server hook over ttrpc")
struct AllocationHookTests {
    @Test("each answer kind: group, agents, reject, automatic")
    func answers() async throws {
        let hook = NetworkAllocationHook()
        try await withHookServer(decide: { request in
            switch request.attributes["kind"] {
            case "group": .group("vip")
            case "agents": .agents(["cat"])
            case "reject": .reject("Please call us.")
            default: .automatic
            }
        }) { port in
            try await withScenario(hook: hook) { scenario in
                try await scenario.useHook(port: port)
                try await scenario.agentsOnline("ann", "bob", "cat")
                _ = try await scenario.agents.createGroup(CreateGroupRequest(id: "vip", name: "VIP"))
                _ = try await scenario.agents.addGroupMember(GroupMemberRequest(groupID: "vip", agentID: "bob"))
                #expect(try await scenario.ask("u1", ["kind": "group"]).agentID == "bob")
                #expect(try await scenario.ask("u2", ["kind": "agents"]).agentID == "cat")
                let rejected = try await scenario.ask("u3", ["kind": "reject"])
                #expect(rejected.state == .bot)
                #expect(try await scenario.texts(rejected.id).last == "Please call us.")
                #expect(try await scenario.ask("u4", [:]).agentID == "ann")
            }
        }
        #expect(hook.statistics.answers == 4 && hook.statistics.failures == 0)
    }

    @Test("a hook past its deadline: the fallback applies")
    func deadline() async throws {
        let hook = NetworkAllocationHook()
        let gate = ProbeService()
        try await withHookServer(decide: { request in
            // Never answers in time: waits for a release that never comes (cancelled at the deadline).
            _ = try await gate.echo(request: .init(text: "block-\(request.sessionID)"), context: .testing)
            return .group("vip")
        }) { port in
            try await withScenario(hook: hook) { scenario in
                try await scenario.useHook(port: port, deadlineMs: 100)
                try await scenario.agentsOnline("ann")
                let session = try await scenario.ask("u1", [:])
                #expect(session.state == .active && session.agentID == "ann", "automatic fallback")
            }
        }
        #expect(hook.statistics.failures == 1)
    }

    @Test("a hook that is down: fallback at once, and after three failures a cool-down skips it")
    func downAndCoolDown() async throws {
        let clock = ManualClock()
        let hook = NetworkAllocationHook(failureThreshold: 3, coolDown: .seconds(30), clock: clock)
        try await withScenario(clock: clock, hook: hook) { scenario in
            try await scenario.useHook(port: 1)  // nothing listens there
            try await scenario.agentsOnline("ann")
            _ = try await scenario.agents.updateAgent(UpdateAgentRequest(id: "ann", maxSessions: 100))
            for index in 0..<5 {
                #expect(try await scenario.ask("u\(index)", [:]).state == .active)
            }
            #expect(hook.statistics.failures == 3)
            #expect(hook.statistics.skipped == 2)
            let calls = hook.statistics.calls
            // After the cool-down, one trial call (it fails again: a new cool-down).
            clock.advance(.seconds(31))
            #expect(try await scenario.ask("later", [:]).state == .active)
            #expect(hook.statistics.calls > calls && hook.statistics.failures == 4)
            #expect(try await scenario.ask("again", [:]).state == .active)
            #expect(hook.statistics.skipped == 3)
        }
    }

    @Test("a malformed answer falls back")
    func malformed() async throws {
        let hook = NetworkAllocationHook()
        try await withHookServer(decide: { _ in .agents([]) }) { port in
            try await withScenario(hook: hook) { scenario in
                try await scenario.useHook(port: port)
                try await scenario.agentsOnline("ann")
                #expect(try await scenario.ask("u1", [:]).agentID == "ann", "no agents named: fallback")
            }
        }
        #expect(HookAllocateResponse().decision == nil)
    }

    @Test("UNAVAILABLE from the hook is retried once while time remains")
    func retry() async throws {
        let hook = NetworkAllocationHook()
        let attempts = Mutex(0)
        try await withHookServer(decide: { _ in
            let attempt = attempts.withLock { count in
                count += 1
                return count
            }
            if attempt == 1 { throw RPCError(code: .unavailable, message: "restarting") }
            return .agents(["bob"])
        }) { port in
            try await withScenario(hook: hook) { scenario in
                try await scenario.useHook(port: port)
                try await scenario.agentsOnline("ann", "bob")
                #expect(try await scenario.ask("u1", [:]).agentID == "bob")
            }
        }
        #expect(attempts.withLock { $0 } == 2)
        #expect(hook.statistics.calls == 2 && hook.statistics.answers == 1)
    }

    @Test("a slow hook never blocks the routing of other sessions")
    func slowHook() async throws {
        let hook = NetworkAllocationHook()
        let gate = ProbeService()
        try await withHookServer(decide: { request in
            if request.attributes["slow"] == "yes" {
                _ = try await gate.echo(request: .init(text: "block-slow"), context: .testing)
            }
            return .automatic
        }) { port in
            try await withScenario(hook: hook) { scenario in
                try await scenario.useHook(port: port, deadlineMs: 30_000)
                try await scenario.agentsOnline("ann", "bob")
                async let slow = scenario.ask("slow", ["slow": "yes"])
                var events = gate.events.makeAsyncIterator()
                #expect(await events.next() == .started("block-slow"))
                // While the slow hook call waits, other users are routed.
                for index in 0..<3 {
                    #expect(try await scenario.ask("fast-\(index)", [:]).state == .active)
                }
                gate.release("block-slow")
                #expect(try await slow.state == .active)
            }
        }
    }
}

extension ServerContext {
    /// A context for calling a service directly in a test.
    static var testing: ServerContext {
        ServerContext(
            method: MethodDescriptor(service: "test", method: "test"), metadata: [:], deadline: nil,
            remotePeer: "test", connectionID: "test", callNumber: 0, logger: Logger(label: "test")
        )
    }
}

import Logging
