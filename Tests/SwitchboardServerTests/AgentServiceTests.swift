import SwitchboardClient
import SwitchboardTestSupport
import Testing

@Suite("AgentService end to end")
struct AgentServiceTests {
    @Test("agent lifecycle: create, read, update, status, delete")
    func agentLifecycle() async throws {
        try await withTestServer { server in
            let agents = server.makeClient().agents
            let created = try await agents.createAgent(CreateAgentRequest(id: "alice", displayName: "Alice", maxSessions: 3))
            #expect(created.status == .offline && created.maxSessions == 3 && created.createdAtMs > 0)
            await expectRPCError(.alreadyExists, containing: "'alice'") {
                _ = try await agents.createAgent(CreateAgentRequest(id: "alice", displayName: "Again"))
            }
            let value1 = try await agents.getAgent(GetAgentRequest(id: "alice"))
            #expect(value1 == created)
            let updated = try await agents.updateAgent(UpdateAgentRequest(id: "alice", displayName: "Alice B.", maxSessions: 0))
            #expect(updated.displayName == "Alice B." && updated.maxSessions == nil)
            let online = try await agents.setAgentStatus(SetAgentStatusRequest(id: "alice", status: .online))
            #expect(online.status == .online)
            let onBreak = try await agents.setAgentStatus(SetAgentStatusRequest(id: "alice", status: .break))
            #expect(onBreak.status == .break)
            _ = try await agents.deleteAgent(DeleteAgentRequest(id: "alice"))
            await expectRPCError(.notFound, containing: "'alice'") {
                _ = try await agents.getAgent(GetAgentRequest(id: "alice"))
            }
            await expectRPCError(.notFound, containing: "'alice'") {
                _ = try await agents.deleteAgent(DeleteAgentRequest(id: "alice"))
            }
        }
    }

    @Test("bad agent input is INVALID_ARGUMENT naming the field")
    func invalidInput() async throws {
        try await withTestServer { server in
            let agents = server.makeClient().agents
            await expectRPCError(.invalidArgument, containing: "'id'") {
                _ = try await agents.createAgent(CreateAgentRequest(id: "with space", displayName: "x"))
            }
            await expectRPCError(.invalidArgument, containing: "'display_name'") {
                _ = try await agents.createAgent(CreateAgentRequest(id: "bob", displayName: ""))
            }
            await expectRPCError(.invalidArgument, containing: "'max_sessions'") {
                _ = try await agents.createAgent(CreateAgentRequest(id: "bob", displayName: "Bob", maxSessions: 0))
            }
            _ = try await agents.createAgent(CreateAgentRequest(id: "bob", displayName: "Bob"))
            await expectRPCError(.invalidArgument, containing: "'status'") {
                _ = try await agents.setAgentStatus(SetAgentStatusRequest(id: "bob", status: .unspecified))
            }
            await expectRPCError(.invalidArgument, containing: "nothing to change") {
                _ = try await agents.updateAgent(UpdateAgentRequest(id: "bob"))
            }
            await expectRPCError(.invalidArgument, containing: "'page_token'") {
                _ = try await agents.listAgents(ListAgentsRequest(pageToken: "not-a-token"))
            }
            await expectRPCError(.invalidArgument, containing: "'page_size'") {
                _ = try await agents.listAgents(ListAgentsRequest(pageSize: 5000))
            }
        }
    }

    @Test("group lifecycle and membership")
    func groups() async throws {
        try await withTestServer { server in
            let agents = server.makeClient().agents
            for id in ["ann", "ben", "cat"] {
                _ = try await agents.createAgent(CreateAgentRequest(id: id, displayName: id.capitalized))
            }
            let group = try await agents.createGroup(CreateGroupRequest(id: "billing", name: "Billing"))
            #expect(group.memberCount == 0)
            await expectRPCError(.alreadyExists, containing: "'billing'") {
                _ = try await agents.createGroup(CreateGroupRequest(id: "billing", name: "Again"))
            }
            _ = try await agents.addGroupMember(GroupMemberRequest(groupID: "billing", agentID: "ann"))
            let two = try await agents.addGroupMember(GroupMemberRequest(groupID: "billing", agentID: "cat"))
            #expect(two.memberCount == 2)
            await expectRPCError(.alreadyExists, containing: "already a member") {
                _ = try await agents.addGroupMember(GroupMemberRequest(groupID: "billing", agentID: "ann"))
            }
            await expectRPCError(.notFound, containing: "'nobody'") {
                _ = try await agents.addGroupMember(GroupMemberRequest(groupID: "billing", agentID: "nobody"))
            }
            let members = try await agents.listGroupAgents(ListGroupAgentsRequest(groupID: "billing"))
            #expect(members.agents.map(\.id) == ["ann", "cat"])
            let value2 = try await agents.getAgent(GetAgentRequest(id: "ann"))
            #expect(value2.groupIDs == ["billing"])
            let value3 = try await agents.renameGroup(RenameGroupRequest(id: "billing", name: "Payments"))
            #expect(value3.name == "Payments")
            _ = try await agents.removeGroupMember(GroupMemberRequest(groupID: "billing", agentID: "ann"))
            await expectRPCError(.notFound, containing: "not a member") {
                _ = try await agents.removeGroupMember(GroupMemberRequest(groupID: "billing", agentID: "ann"))
            }
            _ = try await agents.deleteGroup(DeleteGroupRequest(id: "billing"))
            await expectRPCError(.notFound, containing: "'billing'") {
                _ = try await agents.getGroup(GetGroupRequest(id: "billing"))
            }
            #expect(try await agents.getAgent(GetAgentRequest(id: "cat")).groupIDs.isEmpty)
        }
    }

    @Test("pagination walks every agent and group once, in order")
    func pagination() async throws {
        try await withTestServer { server in
            let agents = server.makeClient().agents
            let ids = (0..<23).map { "a\(String($0 + 100))" }
            for id in ids.shuffled() {
                _ = try await agents.createAgent(CreateAgentRequest(id: id, displayName: id))
                _ = try await agents.createGroup(CreateGroupRequest(id: "g-\(id)", name: id))
            }
            var seen: [String] = []
            var token = ""
            repeat {
                let page = try await agents.listAgents(ListAgentsRequest(pageSize: 5, pageToken: token))
                seen += page.agents.map(\.id)
                token = page.nextPageToken
            } while !token.isEmpty
            #expect(seen == ids)
            var groups: [String] = []
            repeat {
                let page = try await agents.listGroups(ListGroupsRequest(pageSize: 10, pageToken: token))
                groups += page.groups.map(\.id)
                token = page.nextPageToken
            } while !token.isEmpty
            #expect(groups == ids.map { "g-\($0)" })
        }
    }

    @Test("everything survives a restart on the same database file")
    func restart() async throws {
        let path = temporaryDatabasePath()
        try await withTestServer(database: path) { server in
            let client = server.makeClient()
            _ = try await client.agents.createAgent(CreateAgentRequest(id: "alice", displayName: "Alice", maxSessions: 4))
            _ = try await client.agents.setAgentStatus(SetAgentStatusRequest(id: "alice", status: .online))
            _ = try await client.agents.createGroup(CreateGroupRequest(id: "vip", name: "VIP"))
            _ = try await client.agents.addGroupMember(GroupMemberRequest(groupID: "vip", agentID: "alice"))
            _ = try await client.settings.updateSettings(UpdateSettingsRequest(
                expectedVersion: 0, settings: Settings(serviceMode: .init(mode: .manual, connectTimeoutSeconds: 45))
            ))
            await client.close()
        }
        try await withTestServer(database: path) { server in
            let client = server.makeClient()
            let alice = try await client.agents.getAgent(GetAgentRequest(id: "alice"))
            #expect(alice.status == .online && alice.maxSessions == 4 && alice.groupIDs == ["vip"])
            let settings = try await client.settings.getSettings(GetSettingsRequest())
            #expect(settings.version == 1)
            #expect(settings.settings?.serviceMode?.mode == .manual)
            #expect(settings.settings?.serviceMode?.connectTimeoutSeconds == 45)
            await client.close()
        }
    }
}
