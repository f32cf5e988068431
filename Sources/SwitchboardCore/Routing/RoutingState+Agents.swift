/// The commands that change who can serve now: agents' status, settings.
extension RoutingState {
    /// Sets an agent's status. Coming `ONLINE`, it is idle from now on and takes queued sessions
    /// at once; leaving it (`OFFLINE`, `BREAK`), its pending offers move on at once.
    public mutating func setStatus(agentID: String, _ status: AgentProfile.Status, now: Timestamp) throws(SwitchboardError)
        -> RoutingDecision<AgentProfile>
    {
        _ = try requireProfile(agentID)
        return decide(now: now) { state in
            state.changeStatus(agentID: agentID, status, now: now)
            return state.profile(of: agentID)!
        }
    }

    mutating func changeStatus(agentID: String, _ status: AgentProfile.Status, now: Timestamp) {
        guard var agent = agents[agentID], agent.status != status else { return }
        if agent.status == .online { idle.countOnline(agent, -1) }
        agent.status = status
        agent.statusChangedAt = now
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
