import SwitchboardCore
public import SwitchboardProto
public import SwitchboardRPC
public import SwitchboardServices
import SwitchboardStore

/// Serves `switchboard.v1.AgentService`: agents, their status and groups (changes go through the
/// engine, lists are read from the store), and the calls agent desks make on an agent's behalf.
public struct AgentServiceImplementation: AgentService.ServiceProtocol {
    private let tenants: TenantRegistry

    /// Creates the service.
    public init(tenants: TenantRegistry) {
        self.tenants = tenants
    }

    // MARK: Agents

    public func createAgent(request: CreateAgentRequest, context: ServerContext) async throws -> Agent {
        let tenant = try await tenants.enter(context)
        defer { tenants.leave(tenant) }
        let engine = tenant.engine
        try AgentRules.validateID(request.id, field: "id")
        try AgentRules.validateName(request.displayName, field: "display_name")
        if let limit = request.maxSessions {
            try AgentRules.validateSessionLimit(Int(limit), field: "max_sessions")
        }
        return Agent(try await engine.createAgent(id: request.id, displayName: request.displayName, maxSessions: request.maxSessions.map(Int.init)))
    }

    public func updateAgent(request: UpdateAgentRequest, context: ServerContext) async throws -> Agent {
        let tenant = try await tenants.enter(context)
        defer { tenants.leave(tenant) }
        let engine = tenant.engine
        try AgentRules.validateID(request.id, field: "id")
        var maxSessions: Int?? = nil
        if let name = request.displayName {
            try AgentRules.validateName(name, field: "display_name")
        }
        if let limit = request.maxSessions {
            if limit == 0 {
                maxSessions = .some(nil)
            } else {
                try AgentRules.validateSessionLimit(Int(limit), field: "max_sessions")
                maxSessions = .some(Int(limit))
            }
        }
        guard request.displayName != nil || maxSessions != nil else {
            throw SwitchboardError.invalid("display_name", "or 'max_sessions' must be set: there is nothing to change")
        }
        return Agent(try await engine.updateAgent(id: request.id, displayName: request.displayName, maxSessions: maxSessions))
    }

    public func getAgent(request: GetAgentRequest, context: ServerContext) async throws -> Agent {
        let tenant = try await tenants.enter(context)
        defer { tenants.leave(tenant) }
        let engine = tenant.engine
        let id = try context.actingAgent(request.id, field: "id")
        try AgentRules.validateID(id, field: "id")
        return Agent(try await engine.agent(id: id))
    }

    public func listAgents(request: ListAgentsRequest, context: ServerContext) async throws -> ListAgentsResponse {
        let tenant = try await tenants.enter(context)
        defer { tenants.leave(tenant) }
        let store = tenant.store
        let page = try await store.agents(try PageRequest(size: request.pageSize, token: request.pageToken))
        return ListAgentsResponse(page.map(Agent.init))
    }

    public func deleteAgent(request: DeleteAgentRequest, context: ServerContext) async throws -> DeleteAgentResponse {
        let tenant = try await tenants.enter(context)
        defer { tenants.leave(tenant) }
        let engine = tenant.engine
        try AgentRules.validateID(request.id, field: "id")
        try await engine.deleteAgent(id: request.id)
        return DeleteAgentResponse()
    }

    public func setAgentStatus(request: SetAgentStatusRequest, context: ServerContext) async throws -> Agent {
        let tenant = try await tenants.enter(context)
        defer { tenants.leave(tenant) }
        let engine = tenant.engine
        let id = try context.actingAgent(request.id, field: "id")
        try AgentRules.validateID(id, field: "id")
        let status: AgentProfile.Status
        switch request.status {
        case .offline: status = .offline
        case .online: status = .online
        case .break: status = .onBreak
        case .unspecified, .unrecognized:
            throw SwitchboardError.invalid("status", "must be OFFLINE, ONLINE or BREAK")
        }
        return Agent(try await engine.setAgentStatus(id: id, status))
    }

    // MARK: Groups

    public func createGroup(request: CreateGroupRequest, context: ServerContext) async throws -> Group {
        let tenant = try await tenants.enter(context)
        defer { tenants.leave(tenant) }
        let engine = tenant.engine
        try AgentRules.validateID(request.id, field: "id")
        try AgentRules.validateName(request.name, field: "name")
        return Group(try await engine.createGroup(id: request.id, name: request.name))
    }

    public func renameGroup(request: RenameGroupRequest, context: ServerContext) async throws -> Group {
        let tenant = try await tenants.enter(context)
        defer { tenants.leave(tenant) }
        let engine = tenant.engine
        try AgentRules.validateID(request.id, field: "id")
        try AgentRules.validateName(request.name, field: "name")
        return Group(try await engine.renameGroup(id: request.id, name: request.name))
    }

    public func getGroup(request: GetGroupRequest, context: ServerContext) async throws -> Group {
        let tenant = try await tenants.enter(context)
        defer { tenants.leave(tenant) }
        let store = tenant.store
        try AgentRules.validateID(request.id, field: "id")
        return Group(try await store.group(id: request.id))
    }

    public func deleteGroup(request: DeleteGroupRequest, context: ServerContext) async throws -> DeleteGroupResponse {
        let tenant = try await tenants.enter(context)
        defer { tenants.leave(tenant) }
        let engine = tenant.engine
        try AgentRules.validateID(request.id, field: "id")
        try await engine.deleteGroup(id: request.id)
        return DeleteGroupResponse()
    }

    public func listGroups(request: ListGroupsRequest, context: ServerContext) async throws -> ListGroupsResponse {
        let tenant = try await tenants.enter(context)
        defer { tenants.leave(tenant) }
        let store = tenant.store
        let page = try await store.groups(try PageRequest(size: request.pageSize, token: request.pageToken))
        return ListGroupsResponse(groups: page.items.map(Group.init), nextPageToken: page.nextToken)
    }

    public func addGroupMember(request: GroupMemberRequest, context: ServerContext) async throws -> Group {
        let tenant = try await tenants.enter(context)
        defer { tenants.leave(tenant) }
        let engine = tenant.engine
        try AgentRules.validateID(request.groupID, field: "group_id")
        try AgentRules.validateID(request.agentID, field: "agent_id")
        return Group(try await engine.addMember(groupID: request.groupID, agentID: request.agentID))
    }

    public func removeGroupMember(request: GroupMemberRequest, context: ServerContext) async throws -> Group {
        let tenant = try await tenants.enter(context)
        defer { tenants.leave(tenant) }
        let engine = tenant.engine
        try AgentRules.validateID(request.groupID, field: "group_id")
        try AgentRules.validateID(request.agentID, field: "agent_id")
        return Group(try await engine.removeMember(groupID: request.groupID, agentID: request.agentID))
    }

    public func listGroupAgents(request: ListGroupAgentsRequest, context: ServerContext) async throws -> ListAgentsResponse {
        let tenant = try await tenants.enter(context)
        defer { tenants.leave(tenant) }
        let store = tenant.store
        try AgentRules.validateID(request.groupID, field: "group_id")
        let page = try await store.groupAgents(
            groupID: request.groupID, try PageRequest(size: request.pageSize, token: request.pageToken)
        )
        return ListAgentsResponse(page.map(Agent.init))
    }

    // MARK: Sessions, for agent desks

    public func acceptSession(request: AgentSessionRequest, context: ServerContext) async throws -> Session {
        let tenant = try await tenants.enter(context)
        defer { tenants.leave(tenant) }
        let engine = tenant.engine
        let agentID = try validate(request.agentID, request.sessionID, context)
        return Session(try await engine.accept(agentID: agentID, sessionID: request.sessionID))
    }

    public func sendAgentMessage(request: SendAgentMessageRequest, context: ServerContext) async throws -> Message {
        let tenant = try await tenants.enter(context)
        defer { tenants.leave(tenant) }
        let engine = tenant.engine
        let agentID = try validate(request.agentID, request.sessionID, context)
        try SessionRules.validateText(request.text, field: "text")
        return Message(try await engine.agentMessage(agentID: agentID, sessionID: request.sessionID, text: request.text))
    }

    public func closeSession(request: AgentSessionRequest, context: ServerContext) async throws -> Session {
        let tenant = try await tenants.enter(context)
        defer { tenants.leave(tenant) }
        let engine = tenant.engine
        let agentID = try validate(request.agentID, request.sessionID, context)
        return Session(try await engine.close(sessionID: request.sessionID, byAgent: agentID))
    }

    public func transferSession(request: TransferSessionRequest, context: ServerContext) async throws -> Session {
        let tenant = try await tenants.enter(context)
        defer { tenants.leave(tenant) }
        let engine = tenant.engine
        let agentID = try validate(request.agentID, request.sessionID, context)
        let target: RoutingState.TransferTarget
        switch request.target {
        case .toAgentID(let id)?:
            try AgentRules.validateID(id, field: "to_agent_id")
            target = .agent(id)
        case .toGroupID(let id)?:
            try AgentRules.validateID(id, field: "to_group_id")
            target = .group(id)
        case nil:
            throw SwitchboardError.invalid("target", "must name 'to_agent_id' or 'to_group_id'")
        }
        return Session(try await engine.transfer(agentID: agentID, sessionID: request.sessionID, to: target))
    }

    public func inviteRating(request: AgentSessionRequest, context: ServerContext) async throws -> Session {
        let tenant = try await tenants.enter(context)
        defer { tenants.leave(tenant) }
        let engine = tenant.engine
        let agentID = try validate(request.agentID, request.sessionID, context)
        return Session(try await engine.inviteRating(agentID: agentID, sessionID: request.sessionID))
    }

    public func listAgentSessions(request: ListAgentSessionsRequest, context: ServerContext) async throws -> ListAgentSessionsResponse {
        let tenant = try await tenants.enter(context)
        defer { tenants.leave(tenant) }
        let engine = tenant.engine
        let agentID = try context.actingAgent(request.agentID)
        try AgentRules.validateID(agentID, field: "agent_id")
        let pageRequest = try PageRequest(
            size: request.pageSize, token: request.pageToken,
            defaultSize: ResponseBudget.sessionsPerPage, maximumSize: ResponseBudget.sessionsPerPage
        )
        let sessions = try await engine.agentSessions(agentID: agentID).sorted { $0.id < $1.id }
        let page = pageRequest.page(of: sessions, key: \.id)
        return ListAgentSessionsResponse(sessions: page.items.map { Session($0) }, nextPageToken: page.nextToken)
    }

    public func watchAgent(request: WatchAgentRequest, response: RPCStreamWriter<AgentEvent>, context: ServerContext) async throws {
        let tenant = try await tenants.enter(context, watching: true)
        defer { tenants.leave(tenant, watching: true) }
        let engine = tenant.engine
        let store = tenant.store
        let agentID = try context.actingAgent(request.agentID)
        try AgentRules.validateID(agentID, field: "agent_id")
        guard request.afterSequence >= 0 else { throw SwitchboardError.invalid("after_sequence", "must not be negative") }
        _ = try await engine.agent(id: agentID)
        try await EventStreaming.stream(
            .agent(agentID), after: request.afterSequence, hub: engine.hub, store: store
        ) { payload in
            try await response.write(serialized: payload)  // stored as AgentEvent bytes
        }
    }

    /// The agent the call acts for (checked against an agent key), with the ids validated.
    private func validate(_ agentID: String, _ sessionID: String, _ context: ServerContext) throws(SwitchboardError) -> String {
        let agentID = try context.actingAgent(agentID)
        try AgentRules.validateID(agentID, field: "agent_id")
        try SessionRules.validateSessionID(sessionID)
        return agentID
    }
}

extension ListAgentsResponse {
    /// A page of agents, cut at the response budget: an agent's size has no bound (it lists its
    /// groups), so a page of 1000 agents might not fit a frame otherwise.
    init(_ page: Page<Agent>) {
        let fitting = page.limited(
            toBytes: ResponseBudget.bytes,
            size: { ResponseBudget.weight(ofItemOfSize: (try? $0.serializedSize()) ?? 0) }, key: \.id
        )
        self.init(agents: fitting.items, nextPageToken: fitting.nextToken)
    }
}

extension Agent {
    init(_ agent: AgentProfile) {
        self.init(
            id: agent.id,
            displayName: agent.displayName,
            maxSessions: agent.maxSessions.map { UInt32(clamping: $0) },
            status: AgentStatus(agent.status),
            groupIDs: agent.groupIDs,
            statusChangedAtMs: agent.statusChangedAt.milliseconds,
            createdAtMs: agent.createdAt.milliseconds
        )
    }
}

extension AgentStatus {
    init(_ status: AgentProfile.Status) {
        switch status {
        case .offline: self = .offline
        case .online: self = .online
        case .onBreak: self = .break
        }
    }
}

extension Group {
    init(_ group: AgentGroup) {
        self.init(id: group.id, name: group.name, memberCount: UInt32(clamping: group.memberCount), createdAtMs: group.createdAt.milliseconds)
    }
}
