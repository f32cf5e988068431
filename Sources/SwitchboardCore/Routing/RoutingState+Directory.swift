/// The directory of agents and groups: who exists, their names, and who belongs where. Every
/// rule of it lives here (ids taken, members known), next to the routing that depends on it.
extension RoutingState {
    /// An agent as callers see it: its directory entry with its live status, limit and groups.
    public func profile(of id: String) -> AgentProfile? {
        guard var profile = profiles[id], let agent = agents[id] else { return nil }
        profile.status = agent.status
        profile.statusChangedAt = agent.statusChangedAt
        profile.maxSessions = agent.maxSessions
        profile.groupIDs = agent.groupIDs.sorted()
        return profile
    }

    /// A group as callers see it, with its member count.
    public func group(_ id: String) -> AgentGroup? {
        guard var group = groupInfo[id] else { return nil }
        group.memberCount = groups[id]?.count ?? 0
        return group
    }

    /// The groups of the user's menu, by id, with whether an agent of each is online.
    public func groupMenu() -> [(group: AgentGroup, available: Bool)] {
        groupInfo.keys.sorted().compactMap { id in
            group(id).map { group in (group, groups[id]?.contains { agents[$0]?.status == .online } ?? false) }
        }
    }

    public func requireProfile(_ id: String) throws(SwitchboardError) -> AgentProfile {
        guard let profile = profile(of: id) else { throw SwitchboardError(.notFound, "agent '\(id)' not found") }
        return profile
    }

    public func requireGroup(_ id: String) throws(SwitchboardError) -> AgentGroup {
        guard let group = group(id) else { throw SwitchboardError(.notFound, "group '\(id)' not found") }
        return group
    }

    /// Creates an agent, `OFFLINE`.
    public mutating func createAgent(id: String, displayName: String, maxSessions: Int?, now: Timestamp) throws(SwitchboardError)
        -> RoutingDecision<AgentProfile>
    {
        guard agents[id] == nil else { throw SwitchboardError(.alreadyExists, "agent '\(id)' already exists") }
        try TenantQuotas.check("max_agents", limit: quotas.maxAgents, current: agents.count, tenant: tenantID)
        return decide(now: now) { state in
            let profile = AgentProfile(
                id: id, displayName: displayName, maxSessions: maxSessions, status: .offline, groupIDs: [],
                statusChangedAt: now, createdAt: now
            )
            state.profiles[id] = profile
            var agent = AgentRuntime(id: id, status: .offline, maxSessions: maxSessions, groupIDs: [])
            agent.statusChangedAt = now
            state.markIdle(&agent, now: now)
            state.agents[id] = agent
            state.actions.directory.append(.insertAgent(profile))
            return profile
        }
    }

    /// Changes an agent's name and/or limit; a raised limit takes queued sessions at once.
    public mutating func updateAgent(id: String, displayName: String?, maxSessions: Int??, now: Timestamp) throws(SwitchboardError)
        -> RoutingDecision<AgentProfile>
    {
        var profile = try requireProfile(id)
        return decide(now: now) { state in
            if let displayName { profile.displayName = displayName }
            if let maxSessions { profile.maxSessions = maxSessions }
            state.profiles[id] = profile
            if var agent = state.agents[id] {
                let raised = (profile.maxSessions ?? state.settings.queue.maxSessionsPerAgent) > state.capacity(of: agent)
                agent.maxSessions = profile.maxSessions
                state.agents[id] = agent
                if raised {
                    state.pushIdle(agent)
                    state.serveQueue(agentID: id, now: now)
                }
            }
            state.actions.directory.append(.updateAgent(id: id, displayName: profile.displayName, maxSessions: profile.maxSessions))
            return state.profile(of: id) ?? profile
        }
    }

    /// Deletes an agent that serves no `ACTIVE` session; the sessions offered to it move on.
    public mutating func removeAgent(id: String, now: Timestamp) throws(SwitchboardError) -> RoutingDecision<Void> {
        guard let agent = agents[id] else { throw SwitchboardError(.notFound, "agent '\(id)' not found") }
        let active = agent.sessions.filter { sessions[$0]?.state == .active }
        guard active.isEmpty else {
            throw SwitchboardError(.failedPrecondition, "agent '\(id)' still serves \(active.count) session(s); close or transfer them first")
        }
        return decide(now: now) { state in
            state.changeStatus(agentID: id, .offline, now: now)  // its offers move on
            for group in agent.groupIDs { state.groups[group]?.remove(id) }
            state.agents[id] = nil
            state.profiles[id] = nil
            state.actions.agents[id] = nil
            state.actions.agentEvents.removeAll { $0.agentID == id }  // deleted with the agent
            state.actions.directory.append(.deleteAgent(id))
        }
    }

    /// Creates a group (empty).
    public mutating func createGroup(id: String, name: String, now: Timestamp) throws(SwitchboardError) -> RoutingDecision<AgentGroup> {
        guard groupInfo[id] == nil else { throw SwitchboardError(.alreadyExists, "group '\(id)' already exists") }
        return decide(now: now) { state in
            let group = AgentGroup(id: id, name: name, memberCount: 0, createdAt: now)
            state.groupInfo[id] = group
            state.groups[id] = []
            state.actions.directory.append(.insertGroup(group))
            return group
        }
    }

    /// Renames a group.
    public mutating func renameGroup(id: String, name: String, now: Timestamp) throws(SwitchboardError) -> RoutingDecision<AgentGroup> {
        _ = try requireGroup(id)
        return decide(now: now) { state in
            state.groupInfo[id]?.name = name
            state.actions.directory.append(.renameGroup(id: id, name: name))
            return state.group(id)!
        }
    }

    /// Deletes a group; its agents stay. Sessions waiting for it can no longer be served: they go
    /// back to the bot with the transfer-failed prompt (the user may ask again).
    public mutating func removeGroup(id: String, now: Timestamp) throws(SwitchboardError) -> RoutingDecision<Void> {
        _ = try requireGroup(id)
        return decide(now: now) { state in
            state.actions.directory.append(.deleteGroup(id))
            for sessionID in state.queues.removeAll(of: .group(id)) {
                guard var session = state.sessions[sessionID] else { continue }
                session.queueTicket = nil  // out of the queue already
                state.backToBot(&session, now: now)
                state.store(session)
            }
            for member in state.groups[id] ?? [] {
                state.agents[member]?.groupIDs.remove(id)
            }
            state.groups[id] = nil
            state.groupInfo[id] = nil
            state.idle.removeGroup(id)
        }
    }

    /// Makes an agent a member of a group; it may take the group's queued sessions at once.
    public mutating func addMember(groupID: String, agentID: String, now: Timestamp) throws(SwitchboardError) -> RoutingDecision<AgentGroup> {
        _ = try requireGroup(groupID)
        guard var agent = agents[agentID] else { throw SwitchboardError(.notFound, "agent '\(agentID)' not found") }
        guard !agent.groupIDs.contains(groupID) else {
            throw SwitchboardError(.alreadyExists, "agent '\(agentID)' is already a member of group '\(groupID)'")
        }
        return decide(now: now) { state in
            state.actions.directory.append(.addMember(groupID: groupID, agentID: agentID))
            state.groups[groupID, default: []].insert(agentID)
            agent.groupIDs.insert(groupID)
            state.agents[agentID] = agent
            if agent.status == .online { state.idle.countOnline(group: groupID, +1) }
            state.pushIdle(agent)
            state.serveQueue(agentID: agentID, now: now)
            return state.group(groupID)!
        }
    }

    /// Removes an agent from a group.
    public mutating func removeMember(groupID: String, agentID: String, now: Timestamp) throws(SwitchboardError) -> RoutingDecision<AgentGroup> {
        _ = try requireGroup(groupID)
        guard let agent = agents[agentID] else { throw SwitchboardError(.notFound, "agent '\(agentID)' not found") }
        guard agent.groupIDs.contains(groupID) else {
            throw SwitchboardError(.notFound, "agent '\(agentID)' is not a member of group '\(groupID)'")
        }
        return decide(now: now) { state in
            state.actions.directory.append(.removeMember(groupID: groupID, agentID: agentID))
            state.groups[groupID]?.remove(agentID)
            state.agents[agentID]?.groupIDs.remove(groupID)
            if agent.status == .online { state.idle.countOnline(group: groupID, -1) }
            return state.group(groupID)!
        }
    }
}

/// A change to the directory of agents and groups, to store before the routing changes of the
/// same decision.
public enum DirectoryChange: Sendable, Hashable {
    case insertAgent(AgentProfile)
    case updateAgent(id: String, displayName: String, maxSessions: Int?)
    case deleteAgent(String)
    case insertGroup(AgentGroup)
    case renameGroup(id: String, name: String)
    case deleteGroup(String)
    case addMember(groupID: String, agentID: String)
    case removeMember(groupID: String, agentID: String)
}
