/// The commands that change who can serve: agents, their status and limits, groups, settings.
extension RoutingState {
    /// Adds or updates an agent's routing view (created, limit changed); a raised limit takes
    /// queued sessions at once.
    public mutating func upsertAgent(id: String, maxSessions: Int?, status: AgentProfile.Status, now: Timestamp) -> RoutingDecision<Void> {
        decide(now: now) { state in
            if var agent = state.agents[id] {
                let raised = (maxSessions ?? state.settings.queue.maxSessionsPerAgent) > state.capacity(of: agent)
                agent.maxSessions = maxSessions
                state.agents[id] = agent
                if raised {
                    state.pushIdle(agent)
                    state.serveQueue(agentID: id, now: now)
                }
            } else {
                var agent = AgentRuntime(id: id, status: status, maxSessions: maxSessions, groupIDs: [])
                state.markIdle(&agent, now: now)
                state.agents[id] = agent
                if status == .online {
                    state.idle.countOnline(agent, +1)
                    state.pushIdle(agent)
                }
            }
        }
    }

    /// Removes an agent that serves no `ACTIVE` session; the sessions offered to it move on.
    public mutating func removeAgent(id: String, now: Timestamp) throws(SwitchboardError) -> RoutingDecision<Void> {
        try decide(now: now) { state throws(SwitchboardError) in
            guard let agent = state.agents[id] else { return }
            let active = agent.sessions.filter { state.sessions[$0]?.state == .active }
            guard active.isEmpty else {
                throw SwitchboardError(
                    .failedPrecondition, "agent '\(id)' still serves \(active.count) session(s); close or transfer them first"
                )
            }
            if agent.status == .online { state.idle.countOnline(agent, -1) }
            state.agents[id]?.status = .offline
            state.withdrawOffers(of: id, now: now)
            for group in agent.groupIDs { state.groups[group]?.remove(id) }
            state.agents[id] = nil
            state.actions.agents[id] = nil
            state.actions.agentEvents.removeAll { $0.agentID == id }  // deleted with the agent
        }
    }

    /// Sets an agent's status. Coming `ONLINE`, it is idle from now on and takes queued sessions
    /// at once; leaving it (`OFFLINE`, `BREAK`), its pending offers move on at once.
    public mutating func setStatus(agentID: String, _ status: AgentProfile.Status, now: Timestamp) throws(SwitchboardError)
        -> RoutingDecision<AgentRuntime>
    {
        try decide(now: now) { state throws(SwitchboardError) in
            guard state.agents[agentID] != nil else { throw SwitchboardError(.notFound, "agent '\(agentID)' not found") }
            state.changeStatus(agentID: agentID, status, now: now)
            return state.agents[agentID]!
        }
    }

    mutating func changeStatus(agentID: String, _ status: AgentProfile.Status, now: Timestamp) {
        guard var agent = agents[agentID], agent.status != status else { return }
        if agent.status == .online { idle.countOnline(agent, -1) }
        agent.status = status
        if status == .online { markIdle(&agent, now: now) }
        agents[agentID] = agent
        storeAgent(agentID)
        if status == .online {
            idle.countOnline(agent, +1)
            pushIdle(agent)
            serveQueue(agentID: agentID, now: now)
        } else {
            withdrawOffers(of: agentID, now: now)
        }
    }

    /// Moves every session offered to an agent that can no longer take it to the next agent.
    private mutating func withdrawOffers(of agentID: String, now: Timestamp) {
        guard let agent = agents[agentID] else { return }
        for id in agent.sessions.sorted() {
            guard var session = sessions[id], session.state == .offered else { continue }
            withdrawOffer(&session, missed: false, now: now)
        }
    }

    /// Adds a group (empty).
    public mutating func addGroup(id: String) {
        if groups[id] == nil { groups[id] = [] }
    }

    /// Removes a group. Sessions waiting for it can no longer be served: they go back to the bot
    /// with the transfer-failed prompt (the user may ask again).
    public mutating func removeGroup(id: String, now: Timestamp) -> RoutingDecision<Void> {
        decide(now: now) { state in
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
            state.idle.removeGroup(id)
        }
    }

    /// Makes an agent a member of a group; it may take the group's queued sessions at once.
    public mutating func addMember(groupID: String, agentID: String, now: Timestamp) -> RoutingDecision<Void> {
        decide(now: now) { state in
            guard state.groups[groupID] != nil, var agent = state.agents[agentID], !agent.groupIDs.contains(groupID) else { return }
            state.groups[groupID]!.insert(agentID)
            agent.groupIDs.insert(groupID)
            state.agents[agentID] = agent
            if agent.status == .online { state.idle.countOnline(group: groupID, +1) }
            state.pushIdle(agent)
            state.serveQueue(agentID: agentID, now: now)
        }
    }

    /// Removes an agent from a group.
    public mutating func removeMember(groupID: String, agentID: String) {
        guard groups[groupID]?.remove(agentID) != nil else { return }
        agents[agentID]?.groupIDs.remove(groupID)
        if agents[agentID]?.status == .online { idle.countOnline(group: groupID, -1) }
    }

    /// Applies new settings to every later decision; raised capacity takes queued sessions.
    public mutating func updateSettings(_ settings: SwitchboardSettings, now: Timestamp) throws(SwitchboardError) -> RoutingDecision<Void> {
        let schedule = try WorkingSchedule(settings.workingHours)
        return decide(now: now) { state in
            state.settings = settings
            state.schedule = schedule
            state.serveAll(now: now)
        }
    }

    /// Gives every online agent with free capacity the queued sessions it may serve, longest idle
    /// first: after a limit was raised, and at start-up (a crash may have come between a change
    /// and the assignments it allowed).
    public mutating func serveQueues(now: Timestamp) -> RoutingDecision<Void> {
        decide(now: now) { state in state.serveAll(now: now) }
    }

    private mutating func serveAll(now: Timestamp) {
        let waiting = agents.values.filter { $0.status == .online }.sorted { $0.idleKey < $1.idleKey }
        for agent in waiting {
            pushIdle(agent)
            serveQueue(agentID: agent.id, now: now)
        }
    }
}
