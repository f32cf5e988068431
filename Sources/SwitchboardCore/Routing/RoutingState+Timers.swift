/// What happens as time passes: offers expire, users time out, queue messages repeat, sessions
/// left with the bot close, rating windows end.
extension RoutingState {
    /// Runs every timer due at `now`.
    public mutating func fireDueTimers(now: Timestamp) -> RoutingDecision<Void> {
        decide(now: now) { state in
            while let entry = state.timers.popDue(at: now) {
                guard state.isCurrent(entry) else { continue }
                if entry.kind == .ratingWindow {
                    // Over: nothing more can happen to the session (rated meanwhile, it finished then).
                    state.actions.finishedSessions[entry.sessionID] = entry.lastEventSequence
                    continue
                }
                guard var session = state.sessions[entry.sessionID] else { continue }
                switch entry.kind {
                case .offer:
                    state.expireOffer(&session, now: now)
                case .userTimeout:
                    session.userTimeoutAt = nil
                    state.finish(&session, reason: .userTimeout, now: now)
                case .botIdle:
                    state.finish(&session, reason: .botIdle, now: now)
                case .queueMessage:
                    guard let position = state.queuePosition(of: session.id) else { continue }
                    if position.position != session.lastQueueMessagePosition {
                        state.sendQueueMessage(to: &session, position: position, now: now)
                    }
                    let next = now.adding(.seconds(state.settings.queue.queueMessageIntervalSeconds))
                    session.nextQueueMessageAt = next
                    state.timers.push(.queueMessage, next, session.id)
                    state.store(session)
                case .ratingWindow:
                    break
                }
            }
        }
    }

    /// Whether a timer entry still stands: its session is in the state it was set for, with the
    /// same deadline.
    func isCurrent(_ entry: TimerQueue.Entry) -> Bool {
        if entry.kind == .ratingWindow { return true }
        guard let session = sessions[entry.sessionID] else { return false }
        let deadline: Timestamp? = switch entry.kind {
        case .offer: session.state == .offered ? session.offerDeadline : nil
        case .userTimeout: session.state == .active ? session.userTimeoutAt : nil
        case .queueMessage: session.state == .queued ? session.nextQueueMessageAt : nil
        case .botIdle: session.state == .bot && !session.allocating ? session.botIdleDeadline : nil
        case .ratingWindow: nil
        }
        return deadline?.milliseconds == entry.deadline
    }

    private mutating func expireOffer(_ session: inout SessionRecord, now: Timestamp) {
        guard let agentID = session.agentID else { return }
        withdrawOffer(&session, missed: true, now: now)
        if settings.serviceMode.breakAfterConnectTimeout, agents[agentID]?.status == .online {
            changeStatus(agentID: agentID, .onBreak, now: now)
            emit(.statusChanged(.onBreak), toAgent: agentID, now: now)
        }
        serveQueue(agentID: agentID, now: now)
    }
}
