/// Choosing an agent: routing a session to a target, assigning or offering it, queueing it,
/// moving an offer on, and giving freed capacity to the oldest waiting session.
extension RoutingState {
    /// Sends a session to `target`: to its longest-idle agent with free capacity, else the queue;
    /// transfer failed when no agent of the target is online or the queue is full.
    mutating func route(_ session: inout SessionRecord, to target: RoutingTarget, now: Timestamp, failIfNobodyOnline: Bool = true) {
        session.allocating = false
        session.agentID = nil
        session.target = target
        if session.queueTicket == nil {
            session.queueTicket = nextTicket
            nextTicket += 1
        }
        if let agent = bestAgent(for: target, excluding: session.missedAgents) {
            assign(&session, to: agent, now: now)
            return
        }
        let anybodyOnline = onlineCount(for: target, excluding: session.missedAgents) > 0
        let full = settings.queue.maxQueueLength > 0 && queues.count >= settings.queue.maxQueueLength
        if (!anybodyOnline && failIfNobodyOnline) || full {
            backToBot(&session, now: now)
            return
        }
        session.state = .queued
        queues.insert(session)
        emitState(&session, now: now)
        enterQueueMessages(&session, now: now)
    }

    /// Transfer failed: the session goes back to the bot with the transfer-failed prompt (or the
    /// business server's own message); the user may ask again.
    mutating func backToBot(_ session: inout SessionRecord, message: String? = nil, now: Timestamp) {
        let changed = session.state != .bot
        session.target = nil
        session.queueTicket = nil
        session.agentID = nil
        session.allocating = false
        session.nextQueueMessageAt = nil
        session.lastQueueMessagePosition = nil
        session.state = .bot
        if changed { emitState(&session, now: now) }
        if let message {
            append(.system(.transferFailed), message, to: &session, now: now)
        } else {
            sendPrompt(.transferFailed, to: &session, now: now)
        }
    }

    mutating func enterQueueMessages(_ session: inout SessionRecord, now: Timestamp) {
        if let position = queues.position(of: session) {
            sendQueueMessage(to: &session, position: position, now: now)
        }
        let next = now.adding(.seconds(settings.queue.queueMessageIntervalSeconds))
        session.nextQueueMessageAt = next
        timers.push(.queueMessage, next, session.id)
    }

    mutating func sendQueueMessage(to session: inout SessionRecord, position: (position: Int, ahead: Int), now: Timestamp) {
        session.lastQueueMessagePosition = position.position
        emit(.queuePosition(position: position.position, ahead: position.ahead), for: &session, now: now)
        guard let template = prompts.queueMessage else { return }
        let text = template.render { name in
            switch name {
            case "QueuePosition": "\(position.position)"
            case "WaitNo": "\(position.ahead)"
            default: nil
            }
        }
        if !text.isEmpty { append(.system(.queue), text, to: &session, now: now) }
    }

    /// Gives a session to an agent: offered (manual mode) or active. The caller stores the session.
    mutating func assign(_ session: inout SessionRecord, to agentID: String, now: Timestamp) {
        if session.state == .queued { queues.remove(session) }
        session.agentID = agentID
        session.nextQueueMessageAt = nil
        session.lastQueueMessagePosition = nil
        if let agent = agents.index(forKey: agentID) {
            agents.values[agent].sessions.insert(session.id)
            markIdle(agentAt: agent, now: now)
        }
        if settings.serviceMode.mode == .manual {
            let deadline = now.adding(.seconds(settings.serviceMode.connectTimeoutSeconds))
            session.state = .offered
            session.offerDeadline = deadline
            timers.push(.offer, deadline, session.id)
            emitState(&session, now: now)
            emit(.offered(sessionID: session.id, deadline: deadline), toAgent: agentID, now: now)
        } else {
            session.state = .active
            emitState(&session, now: now)
            emit(.assigned(sessionID: session.id), toAgent: agentID, now: now)
            sendPrompt(.transferSucceeded, to: &session, now: now)
        }
    }

    /// Frees an agent's place held by a session (ended, transferred, offer withdrawn): the agent
    /// is idle from now on.
    mutating func release(_ session: inout SessionRecord, from agentID: String, now: Timestamp) {
        if let agent = agents.index(forKey: agentID), agents.values[agent].sessions.remove(session.id) != nil {
            markIdle(agentAt: agent, now: now)
        }
        session.offerDeadline = nil
        session.userTimeoutAt = nil
    }

    /// Takes an offer back from its agent (it timed out, or the agent left: `OFFLINE`, `BREAK`,
    /// deleted) and offers the session to the next longest-idle agent, else queues it again at
    /// its old place. An agent that let the offer time out (`missed`) is never offered it again.
    mutating func withdrawOffer(_ session: inout SessionRecord, missed: Bool, now: Timestamp) {
        guard session.state == .offered, let agentID = session.agentID else { return }
        release(&session, from: agentID, now: now)
        emit(.offerExpired(sessionID: session.id), toAgent: agentID, now: now)
        if missed { session.missedAgents.append(agentID) }
        session.state = .queued
        session.agentID = nil
        let target = session.target ?? .anyAgent
        var excluded = session.missedAgents
        if !missed { excluded.append(agentID) }
        if let agent = bestAgent(for: target, excluding: excluded) {
            assign(&session, to: agent, now: now)
        } else {
            queues.insert(session)
            emitState(&session, now: now)
            enterQueueMessages(&session, now: now)
        }
        store(session)
    }

    /// Gives freed capacity of `agentID` to the oldest queued sessions it may serve.
    mutating func serveQueue(agentID: String, now: Timestamp) {
        while let agent = agents[agentID], isAvailable(agent) {
            var best: (sessionID: String, ticket: Int64)?
            for target in targets(servedBy: agent) {
                guard let queue = queues[target] else { continue }
                for entry in queue {
                    if let best, entry.ticket >= best.ticket { break }
                    guard let session = sessions[entry.sessionID], !session.missedAgents.contains(agentID) else { continue }
                    best = (entry.sessionID, entry.ticket)
                    break
                }
            }
            guard let best, var session = sessions[best.sessionID] else { return }
            assign(&session, to: agentID, now: now)
            store(session)
        }
    }

    private func targets(servedBy agent: AgentRuntime) -> [RoutingTarget] {
        var targets: [RoutingTarget] = [.anyAgent]
        targets += agent.groupIDs.map { .group($0) }
        for target in queues.targets {
            if case .agents(let ids) = target, ids.contains(agent.id) { targets.append(target) }
        }
        return targets
    }

    /// The longest-idle agent of `target` that is online with free capacity, by (idle since, id).
    mutating func bestAgent(for target: RoutingTarget, excluding missed: [String]) -> String? {
        let key: IdlePool.Key
        switch target {
        case .agents(let ids):
            return ids.compactMap { agents[$0] }
                .filter { isAvailable($0) && !missed.contains($0.id) }
                .min { $0.idleKey < $1.idleKey }?.id
        case .anyAgent:
            key = .all
        case .group(let id):
            key = .group(id)
        }
        var pool = IdlePool()
        swap(&pool, &idle)  // checked against the agents while changed, without a copy
        defer { swap(&pool, &idle) }
        return pool.best(key, excluding: missed) { entry in
            guard let agent = agents[entry.agentID] else { return false }
            return isAvailable(agent) && agent.idleKey == entry && key.contains(agent)
        }
    }

    /// Restarts an agent's idle time: it came online, was given a session, or one ended.
    mutating func markIdle(_ agent: inout AgentRuntime, now: Timestamp) {
        agent.idleSince = now
        idleEvents += 1
        agent.idleOrder = idleEvents
    }

    /// Restarts the idle time of the agent at `index` of ``agents`` in place (it was given a
    /// session, or one ended), stores it, and offers it to the longest-idle heaps. In place: a
    /// copy taken out of the dictionary would share its session set, and the change would copy
    /// the set.
    private mutating func markIdle(agentAt index: Dictionary<String, AgentRuntime>.Index, now: Timestamp) {
        idleEvents += 1
        agents.values[index].idleSince = now
        agents.values[index].idleOrder = idleEvents
        let agent = agents.values[index]
        actions.agents[agent.id] = agent
        pushIdle(agent)
    }

    /// Offers an agent to the longest-idle heaps if it is available.
    mutating func pushIdle(_ agent: AgentRuntime) {
        guard isAvailable(agent) else { return }
        for key in idle.push(agent, bound: 4 * max(agents.count, 16)) {
            idle.rebuild(key, from: agents.values.filter { key.contains($0) && isAvailable($0) })
        }
    }

    func onlineCount(for target: RoutingTarget, excluding missed: [String]) -> Int {
        // A method, not a closure held in a variable: such a closure captures (copies) the whole state.
        switch target {
        case .anyAgent:
            return idle.onlineCount(.all) - missed.count { isOnline($0) }
        case .group(let group):
            return idle.onlineCount(.group(group)) - missed.count { isOnline($0) && agents[$0]?.groupIDs.contains(group) == true }
        case .agents(let ids):
            return ids.count { isOnline($0) && !missed.contains($0) }
        }
    }

    private func isOnline(_ agentID: String) -> Bool {
        agents[agentID]?.status == .online
    }
}
