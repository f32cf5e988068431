import SwitchboardClient
import SwitchboardCore
import SwitchboardServer
import SwitchboardTestSupport
import Synchronization
import Testing

/// A business server's hook that answers from a table, recording the queries it got.
final class TableHook: AllocationHook {
    let answers: [String: RoutingState.HookAnswer]
    let queries = Mutex<[AllocationQuery]>([])

    init(_ answers: [String: RoutingState.HookAnswer]) {
        self.answers = answers
    }

    func allocate(_ query: AllocationQuery) async -> RoutingState.HookAnswer {
        queries.withLock { $0.append(query) }
        return answers[query.attributes["tier"] ?? ""] ?? .failed("no answer for this user")
    }
}

@Suite("Routing policies through the client")
struct RoutingPolicyTests {
    @Test("user-selects-group: the menu lists groups with availability; the chosen group's agent serves")
    func userSelectsGroup() async throws {
        try await withScenario { scenario in
            try await scenario.update {
                $0.allocation = Settings.Allocation(policy: .userSelectsGroup, hookDeadlineMs: 2000, fallback: .automatic)
            }
            try await scenario.agentsOnline("ann", "bob")
            for (group, member) in [("billing", "ann"), ("tech", "bob")] {
                _ = try await scenario.agents.createGroup(CreateGroupRequest(id: group, name: group.capitalized))
                _ = try await scenario.agents.addGroupMember(GroupMemberRequest(groupID: group, agentID: member))
            }
            _ = try await scenario.agents.createGroup(CreateGroupRequest(id: "empty", name: "Empty"))
            let menu = try await scenario.sessions.listGroups(ListSessionGroupsRequest())
            #expect(menu.groups.map(\.id) == ["billing", "empty", "tech"])
            #expect(menu.groups.map(\.available) == [true, false, true])
            let routed = try await scenario.userAsks("u1", group: "tech")
            #expect(routed.agentID == "bob" && routed.groupID == "tech")
            await expectRPCError(.invalidArgument, containing: "'group_id'") {
                _ = try await scenario.userAsks("u2")
            }
            let failed = try await scenario.userAsks("u3", group: "empty")
            #expect(failed.state == .bot)
            #expect(try await scenario.texts(failed.id).last == SwitchboardSettings().prompts.transferFailed)
        }
    }

    @Test("business server: the injected hook picks a group, agents, or rejects; failures fall back")
    func businessServer() async throws {
        let hook = TableHook([
            "vip": .group("vip"),
            "named": .agents(["cat", "ghost"]),
            "banned": .reject("Please contact us by phone."),
        ])
        try await withScenario(hook: hook) { scenario in
            try await scenario.update {
                $0.allocation = Settings.Allocation(
                    policy: .businessServer, hookAddress: "127.0.0.1:7500", hookDeadlineMs: 2000, fallback: .automatic
                )
            }
            try await scenario.agentsOnline("ann", "bob", "cat")
            _ = try await scenario.agents.createGroup(CreateGroupRequest(id: "vip", name: "VIP"))
            _ = try await scenario.agents.addGroupMember(GroupMemberRequest(groupID: "vip", agentID: "bob"))
            func ask(_ tier: String) async throws -> Session {
                let session = try await scenario.sessions.createSession(CreateSessionRequest(userID: "user-\(tier)", attributes: ["tier": tier]))
                return try await scenario.sessions.requestAgent(RequestAgentRequest(sessionID: session.id))
            }
            #expect(try await ask("vip").agentID == "bob")
            #expect(try await ask("named").agentID == "cat")
            let banned = try await ask("banned")
            #expect(banned.state == .bot)
            #expect(try await scenario.texts(banned.id).last == "Please contact us by phone.")
            #expect(try await ask("unknown").state == .active, "a failed hook falls back to automatic allocation")
            let queries = hook.queries.withLock { $0 }
            #expect(queries.count == 4)
            #expect(queries.first?.attributes == ["tier": "vip"])
            #expect(Set(queries.map(\.idempotencyKey)).count == 4)
        }
    }

    @Test("transfer to an agent and to a group through the client")
    func transfer() async throws {
        try await withScenario { scenario in
            try await scenario.agentsOnline("ann", "bob", "cat")
            _ = try await scenario.agents.createGroup(CreateGroupRequest(id: "tech", name: "Tech"))
            _ = try await scenario.agents.addGroupMember(GroupMemberRequest(groupID: "tech", agentID: "cat"))
            let session = try await scenario.userAsks("u1")
            #expect(session.agentID == "ann")
            let toBob = try await scenario.agents.transferSession(
                TransferSessionRequest(agentID: "ann", sessionID: session.id, target: .toAgentID("bob"))
            )
            #expect(toBob.agentID == "bob" && toBob.state == .active)
            let toTech = try await scenario.agents.transferSession(
                TransferSessionRequest(agentID: "bob", sessionID: session.id, target: .toGroupID("tech"))
            )
            #expect(toTech.agentID == "cat" && toTech.groupID == "tech")
            await expectRPCError(.invalidArgument, containing: "'target'") {
                _ = try await scenario.agents.transferSession(TransferSessionRequest(agentID: "cat", sessionID: session.id))
            }
            let annSessions = try await scenario.agents.listAgentSessions(ListAgentSessionsRequest(agentID: "ann"))
            #expect(annSessions.sessions.isEmpty)
        }
    }
}
