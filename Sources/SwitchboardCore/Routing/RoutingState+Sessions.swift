/// The commands of a session's life: the user gateway's, and the assigned agent's.
extension RoutingState {
    /// `RESOURCE_EXHAUSTED` when the tenant's open sessions are at their quota: checked before
    /// ``createSession(id:userID:channel:attributes:now:)``.
    public func checkRoomForSession() throws(SwitchboardError) {
        try TenantQuotas.check("max_open_sessions", limit: quotas.maxOpenSessions, current: sessions.count, tenant: tenantID)
    }

    /// Creates a session with the bot and sends the welcome message.
    public mutating func createSession(
        id: String, userID: String, channel: String, attributes: [String: String], now: Timestamp
    ) -> RoutingDecision<SessionRecord> {
        decide(now: now) { state in
            var session = SessionRecord(id: id, userID: userID, channel: channel, attributes: attributes, createdAt: now)
            state.sendPrompt(.welcome, to: &session, now: now)
            state.store(session)
            return session
        }
    }

    /// Stores a user message; clears the user response timeout.
    public mutating func userMessage(sessionID: String, text: String, now: Timestamp) throws(SwitchboardError)
        -> RoutingDecision<TranscriptMessage>
    {
        try decide(now: now) { state throws(SwitchboardError) in
            var session = try state.openSession(sessionID)
            let message = state.append(.user, text, to: &session, now: now)
            session.userTimeoutAt = nil
            state.store(session)
            return message
        }
    }

    /// Asks for an agent: after-hours reply, or the start of routing by the allocation policy.
    /// Under the business-server policy the session is allocating until the hook's answer is
    /// applied: a second request meanwhile is refused (`FAILED_PRECONDITION`), never a second
    /// hook call or prompt.
    public mutating func requestAgent(sessionID: String, groupID: String?, now: Timestamp) throws(SwitchboardError)
        -> RoutingDecision<(outcome: RequestOutcome, session: SessionRecord)>
    {
        try decide(now: now) { state throws(SwitchboardError) in
            var session = try state.openSession(sessionID)
            guard session.state == .bot else {
                throw SwitchboardError(
                    .failedPrecondition, "session '\(sessionID)' is \(session.state), not BOT: it already has or awaits an agent"
                )
            }
            guard !session.allocating else {
                throw SwitchboardError(
                    .failedPrecondition,
                    "session '\(sessionID)' is being routed: the business server is choosing its agent; watch the session for the outcome"
                )
            }
            if let schedule = state.schedule, !schedule.isOpen(at: now) {
                state.sendPrompt(.afterHours, to: &session, now: now)
                state.store(session)
                return (.afterHours, session)
            }
            let target: RoutingTarget
            switch state.settings.allocation.policy {
            case .userSelectsGroup:
                guard let groupID, !groupID.isEmpty else {
                    throw .invalid("group_id", "must name the group the user chose (the policy is USER_SELECTS_GROUP)")
                }
                guard state.groups[groupID] != nil else { throw SwitchboardError(.notFound, "group '\(groupID)' not found") }
                target = .group(groupID)
            case .businessServer:
                if let groupID, !groupID.isEmpty, state.groups[groupID] == nil {
                    throw SwitchboardError(.notFound, "group '\(groupID)' not found")
                }
                state.sendPrompt(.manualAccessInProgress, to: &session, now: now)
                session.allocating = true
                state.store(session)
                state.actions.hookCall = HookCall(
                    sessionID: sessionID, userID: session.userID, groupID: groupID.flatMap { $0.isEmpty ? nil : $0 },
                    attributes: session.attributes, eventTime: now, idempotencyKey: "\(sessionID)/\(session.lastSequence)"
                )
                return (.needsHook, session)
            case .automatic, .unspecified:
                target = .anyAgent
            }
            state.sendPrompt(.manualAccessInProgress, to: &session, now: now)
            state.route(&session, to: target, now: now)
            state.store(session)
            return (.routed, state.sessions[sessionID] ?? session)
        }
    }

    /// Applies the business server's answer (or failure) to a session allocating. The answer is
    /// held to the rules of any input first (``HookAnswer/checked()``): one out of bounds is a
    /// failure, and the fallback applies. Answers `nil` when the session is no longer allocating
    /// (closed meanwhile, or reloaded after a failed commit).
    public mutating func applyHookAnswer(sessionID: String, answer: HookAnswer, now: Timestamp) -> RoutingDecision<SessionRecord?> {
        decide(now: now) { state -> SessionRecord? in
            guard var session = state.sessions[sessionID], session.state == .bot, session.allocating else { return nil }
            session.allocating = false
            switch answer.checked() {
            case .group(let groupID):
                if state.groups[groupID] != nil {
                    state.route(&session, to: .group(groupID), now: now)
                } else {
                    state.fallback(&session, now: now)
                }
            case .agents(let ids):
                let known = Set(ids).filter { state.agents[$0]?.status == .online }.sorted()
                if known.isEmpty {
                    state.fallback(&session, now: now)
                } else {
                    state.route(&session, to: .agents(known), now: now)
                }
            case .reject(let message):
                state.backToBot(&session, message: message.isEmpty ? nil : message, now: now)
            case .automatic:
                state.route(&session, to: .anyAgent, now: now)
            case .failed:
                state.fallback(&session, now: now)
            }
            state.store(session)
            return state.sessions[sessionID] ?? session
        }
    }

    private mutating func fallback(_ session: inout SessionRecord, now: Timestamp) {
        switch settings.allocation.fallback {
        case .transferFailed:
            backToBot(&session, now: now)
        case .automatic, .unspecified:
            route(&session, to: .anyAgent, now: now)
        }
    }

    /// The agent accepts an offered session ("Connect"). Only an `ONLINE` agent may.
    public mutating func accept(agentID: String, sessionID: String, now: Timestamp) throws(SwitchboardError) -> RoutingDecision<SessionRecord> {
        try decide(now: now) { state throws(SwitchboardError) in
            var session = try state.openSession(sessionID)
            guard session.agentID == agentID, session.state == .offered || session.state == .active else {
                throw SwitchboardError(.permissionDenied, "session '\(sessionID)' is not offered to agent '\(agentID)'")
            }
            guard session.state == .offered else {
                throw SwitchboardError(.failedPrecondition, "session '\(sessionID)' is already ACTIVE")
            }
            session.state = .active
            session.offerDeadline = nil
            state.emitState(&session, now: now)
            state.emit(.assigned(sessionID: session.id), toAgent: agentID, now: now)
            state.sendPrompt(.transferSucceeded, to: &session, now: now)
            state.store(session)
            return session
        }
    }

    /// Stores an agent message; starts the user response timeout if not running.
    public mutating func agentMessage(agentID: String, sessionID: String, text: String, now: Timestamp)
        throws(SwitchboardError) -> RoutingDecision<TranscriptMessage>
    {
        try decide(now: now) { state throws(SwitchboardError) in
            var session = try state.assignedSession(sessionID, agentID: agentID)
            guard session.state == .active else {
                throw SwitchboardError(.failedPrecondition, "session '\(sessionID)' is \(session.state); accept it first")
            }
            let message = state.append(.agent(agentID), text, to: &session, now: now)
            let timeout = state.settings.closure.userTimeoutSeconds
            if timeout > 0 && session.userTimeoutAt == nil {
                let deadline = now.adding(.seconds(timeout))
                session.userTimeoutAt = deadline
                state.timers.push(.userTimeout, deadline, session.id)
            }
            state.store(session)
            return message
        }
    }

    /// Closes a session: by its user (`agentID` nil) or its assigned agent.
    public mutating func close(sessionID: String, byAgent agentID: String?, now: Timestamp) throws(SwitchboardError)
        -> RoutingDecision<SessionRecord>
    {
        try decide(now: now) { state throws(SwitchboardError) in
            var session: SessionRecord
            if let agentID {
                session = try state.assignedSession(sessionID, agentID: agentID)
            } else {
                session = try state.openSession(sessionID)
            }
            state.finish(&session, reason: agentID == nil ? .userEnded : .agentEnded, now: now)
            return session
        }
    }

    /// Moves an agent's session to another agent or a group.
    public mutating func transfer(agentID: String, sessionID: String, to destination: TransferTarget, now: Timestamp)
        throws(SwitchboardError) -> RoutingDecision<SessionRecord>
    {
        try decide(now: now) { state throws(SwitchboardError) in
            var session = try state.assignedSession(sessionID, agentID: agentID)
            let target: RoutingTarget
            switch destination {
            case .agent(let other):
                guard let receiver = state.agents[other] else { throw SwitchboardError(.notFound, "agent '\(other)' not found") }
                guard other != agentID else { throw .invalid("agent_id", "names the session's own agent") }
                guard state.isAvailable(receiver) else {
                    throw SwitchboardError(.failedPrecondition, "agent '\(other)' is not online with free capacity")
                }
                target = .agents([other])
            case .group(let groupID):
                guard let members = state.groups[groupID] else { throw SwitchboardError(.notFound, "group '\(groupID)' not found") }
                guard members.contains(where: { $0 != agentID && state.agents[$0]?.status == .online }) else {
                    throw SwitchboardError(.failedPrecondition, "no other agent of group '\(groupID)' is online")
                }
                target = .group(groupID)
            }
            state.release(&session, from: agentID, now: now)
            state.emit(.transferredAway(sessionID: sessionID), toAgent: agentID, now: now)
            session.missedAgents.append(agentID)  // not back to the agent who passed it on
            session.queueTicket = nil
            state.route(&session, to: target, now: now, failIfNobodyOnline: false)
            state.store(session)
            state.serveQueue(agentID: agentID, now: now)
            return state.sessions[sessionID] ?? session
        }
    }

    /// The assigned agent invites the user to rate.
    public mutating func inviteRating(agentID: String, sessionID: String, now: Timestamp) throws(SwitchboardError)
        -> RoutingDecision<SessionRecord>
    {
        try decide(now: now) { state throws(SwitchboardError) in
            var session = try state.assignedSession(sessionID, agentID: agentID)
            guard state.settings.rating.enabled, state.settings.rating.agentMayInvite else {
                throw SwitchboardError(.failedPrecondition, "agents may not invite ratings (settings.rating)")
            }
            guard session.rating == nil else {
                throw SwitchboardError(.alreadyExists, "session '\(sessionID)' is already rated")
            }
            state.invite(&session, now: now)
            state.store(session)
            return session
        }
    }

    /// The user rates the session inside the invitation's window. A closed session is not in
    /// memory: its owner reads it from the store and passes it as `stored`.
    public mutating func submitRating(sessionID: String, score: Int, comment: String, stored: SessionRecord? = nil, now: Timestamp)
        throws(SwitchboardError) -> RoutingDecision<SessionRecord>
    {
        try decide(now: now) { state throws(SwitchboardError) in
            guard var session = state.sessions[sessionID] ?? stored.flatMap({ $0.id == sessionID ? $0 : nil }) else {
                throw SwitchboardError(.notFound, "session '\(sessionID)' not found")
            }
            guard (1...5).contains(score) else { throw .invalid("score", "must be from 1 to 5, got \(score)") }
            guard session.rating == nil else { throw SwitchboardError(.alreadyExists, "session '\(sessionID)' is already rated") }
            guard let deadline = session.ratingDeadline else {
                throw SwitchboardError(.failedPrecondition, "session '\(sessionID)' has no rating invitation")
            }
            guard now <= deadline else {
                throw SwitchboardError(.failedPrecondition, "the rating window of session '\(sessionID)' closed")
            }
            let rating = SessionRatingRecord(score: score, comment: comment, submittedAt: now)
            session.rating = rating
            state.emit(.rated(rating), for: &session, now: now)
            state.sendPrompt(.ratingSubmitted, to: &session, now: now)
            state.store(session)
            return session
        }
    }

    /// Ends a session for `reason`: frees its agent (who may take a queued session at once),
    /// sends the closure message, and invites a rating when configured.
    mutating func finish(_ session: inout SessionRecord, reason: CloseReason, now: Timestamp) {
        let previous = session.state
        let agentID = (previous == .offered || previous == .active) ? session.agentID : nil
        if previous == .queued { queues.remove(session) }
        if let agentID { release(&session, from: agentID, now: now) }
        session.state = .closed
        session.closeReason = reason
        session.closedAt = now
        session.allocating = false
        session.offerDeadline = nil
        session.userTimeoutAt = nil
        session.nextQueueMessageAt = nil
        session.botIdleDeadline = nil
        if agentID == nil { session.agentID = nil }
        emitState(&session, now: now)
        if let agentID { emit(.closed(sessionID: session.id, reason: reason), toAgent: agentID, now: now) }
        switch reason {
        case .userTimeout:
            if settings.closure.timeoutMessageEnabled { sendPrompt(.timeoutClosure, to: &session, now: now) }
        case .userEnded, .agentEnded, .admin:
            if settings.closure.proactiveMessageEnabled { sendPrompt(.proactiveClosure, to: &session, now: now) }
        case .botIdle:
            break
        }
        if settings.rating.enabled, settings.rating.sendAfterClose, previous == .active, session.rating == nil,
            session.ratingDeadline == nil
        {
            invite(&session, now: now)
        }
        store(session)
        if let agentID { serveQueue(agentID: agentID, now: now) }
    }

    mutating func invite(_ session: inout SessionRecord, now: Timestamp) {
        let deadline = now.adding(.seconds(settings.rating.validitySeconds))
        session.ratingDeadline = deadline
        emit(.ratingInvited(deadline: deadline), for: &session, now: now)
        sendPrompt(.ratingInvitation, to: &session, now: now)
    }
}

extension RoutingState.HookAnswer {
    /// The most agents a business server may name.
    public static let maximumAgents = 100

    /// The answer if it keeps the rules of any input (ids as agent and group ids, at most
    /// ``maximumAgents`` agents, a rejection message no longer than a prompt), else `.failed`
    /// saying which rule it broke (the fallback applies, with a warning).
    public func checked() -> Self {
        do throws(SwitchboardError) {
            switch self {
            case .group(let id):
                try AgentRules.validateID(id, field: "group_id")
            case .agents(let ids):
                guard ids.count <= Self.maximumAgents else {
                    throw .invalid("agents.agent_ids", "names \(ids.count) agents; at most \(Self.maximumAgents)")
                }
                for id in ids { try AgentRules.validateID(id, field: "agents.agent_ids") }
            case .reject(let message):
                try TextLimits.prompt.check(message, field: "reject.message")  // it goes to the user's transcript
            case .automatic, .failed:
                break
            }
            return self
        } catch {
            return .failed("the business server's answer is out of bounds: \(error.message)")
        }
    }
}
