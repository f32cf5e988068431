import SwitchboardCore
public import SwitchboardProto
public import SwitchboardRPC
public import SwitchboardServices
public import SwitchboardStore

/// Serves `switchboard.v1.AgentService`'s management part: agents, their status, groups.
public struct AgentServiceImplementation: AgentService.ServiceProtocol {
    private let store: SwitchboardStore

    /// Creates the service over `store`.
    public init(store: SwitchboardStore) {
        self.store = store
    }

    // MARK: Agents

    public func createAgent(request: CreateAgentRequest, context: ServerContext) async throws -> Agent {
        try AgentRules.validateID(request.id, field: "id")
        try AgentRules.validateName(request.displayName, field: "display_name")
        if let limit = request.maxSessions {
            try AgentRules.validateSessionLimit(Int(limit), field: "max_sessions")
        }
        return Agent(try await store.createAgent(id: request.id, displayName: request.displayName, maxSessions: request.maxSessions.map(Int.init)))
    }

    public func updateAgent(request: UpdateAgentRequest, context: ServerContext) async throws -> Agent {
        try AgentRules.validateID(request.id, field: "id")
        var change = SwitchboardStore.AgentChange()
        if let name = request.displayName {
            try AgentRules.validateName(name, field: "display_name")
            change.displayName = name
        }
        if let limit = request.maxSessions {
            if limit == 0 {
                change.maxSessions = .some(nil)
            } else {
                try AgentRules.validateSessionLimit(Int(limit), field: "max_sessions")
                change.maxSessions = .some(Int(limit))
            }
        }
        guard change.displayName != nil || change.maxSessions != nil else {
            throw SwitchboardError.invalid("display_name", "or 'max_sessions' must be set: there is nothing to change")
        }
        return Agent(try await store.updateAgent(id: request.id, change))
    }

    public func getAgent(request: GetAgentRequest, context: ServerContext) async throws -> Agent {
        try AgentRules.validateID(request.id, field: "id")
        return Agent(try await store.agent(id: request.id))
    }

    public func listAgents(request: ListAgentsRequest, context: ServerContext) async throws -> ListAgentsResponse {
        let page = try await store.agents(try PageRequest(size: request.pageSize, token: request.pageToken))
        return ListAgentsResponse(agents: page.items.map(Agent.init), nextPageToken: page.nextToken)
    }

    public func deleteAgent(request: DeleteAgentRequest, context: ServerContext) async throws -> DeleteAgentResponse {
        try AgentRules.validateID(request.id, field: "id")
        try await store.deleteAgent(id: request.id)
        return DeleteAgentResponse()
    }

    public func setAgentStatus(request: SetAgentStatusRequest, context: ServerContext) async throws -> Agent {
        try AgentRules.validateID(request.id, field: "id")
        let status: AgentProfile.Status
        switch request.status {
        case .offline: status = .offline
        case .online: status = .online
        case .break: status = .onBreak
        case .unspecified, .unrecognized:
            throw SwitchboardError.invalid("status", "must be OFFLINE, ONLINE or BREAK")
        }
        return Agent(try await store.setAgentStatus(id: request.id, status))
    }

    // MARK: Groups

    public func createGroup(request: CreateGroupRequest, context: ServerContext) async throws -> Group {
        try AgentRules.validateID(request.id, field: "id")
        try AgentRules.validateName(request.name, field: "name")
        return Group(try await store.createGroup(id: request.id, name: request.name))
    }

    public func renameGroup(request: RenameGroupRequest, context: ServerContext) async throws -> Group {
        try AgentRules.validateID(request.id, field: "id")
        try AgentRules.validateName(request.name, field: "name")
        return Group(try await store.renameGroup(id: request.id, name: request.name))
    }

    public func getGroup(request: GetGroupRequest, context: ServerContext) async throws -> Group {
        try AgentRules.validateID(request.id, field: "id")
        return Group(try await store.group(id: request.id))
    }

    public func deleteGroup(request: DeleteGroupRequest, context: ServerContext) async throws -> DeleteGroupResponse {
        try AgentRules.validateID(request.id, field: "id")
        try await store.deleteGroup(id: request.id)
        return DeleteGroupResponse()
    }

    public func listGroups(request: ListGroupsRequest, context: ServerContext) async throws -> ListGroupsResponse {
        let page = try await store.groups(try PageRequest(size: request.pageSize, token: request.pageToken))
        return ListGroupsResponse(groups: page.items.map(Group.init), nextPageToken: page.nextToken)
    }

    public func addGroupMember(request: GroupMemberRequest, context: ServerContext) async throws -> Group {
        try AgentRules.validateID(request.groupID, field: "group_id")
        try AgentRules.validateID(request.agentID, field: "agent_id")
        return Group(try await store.addMember(groupID: request.groupID, agentID: request.agentID))
    }

    public func removeGroupMember(request: GroupMemberRequest, context: ServerContext) async throws -> Group {
        try AgentRules.validateID(request.groupID, field: "group_id")
        try AgentRules.validateID(request.agentID, field: "agent_id")
        return Group(try await store.removeMember(groupID: request.groupID, agentID: request.agentID))
    }

    public func listGroupAgents(request: ListGroupAgentsRequest, context: ServerContext) async throws -> ListAgentsResponse {
        try AgentRules.validateID(request.groupID, field: "group_id")
        let page = try await store.groupAgents(
            groupID: request.groupID, try PageRequest(size: request.pageSize, token: request.pageToken)
        )
        return ListAgentsResponse(agents: page.items.map(Agent.init), nextPageToken: page.nextToken)
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
