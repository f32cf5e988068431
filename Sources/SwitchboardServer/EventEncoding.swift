import SwitchboardCore
import SwitchboardProto
import SwitchboardStore

extension SessionEvent {
    init(_ record: SessionEventRecord) {
        var event = SessionEvent(sessionID: record.sessionID, sequence: record.sequence, createdAtMs: record.createdAt.milliseconds)
        switch record.kind {
        case .message(let message):
            event.event = .message(Message(message))
        case .stateChanged(let state, let agentID, let groupID, let reason):
            event.event = .stateChanged(
                SessionStateChange(
                    state: SwitchboardProto.SessionState(state), agentID: agentID ?? "", groupID: groupID ?? "",
                    closeReason: SwitchboardProto.CloseReason(reason)
                )
            )
        case .queuePosition(let position, let ahead):
            event.event = .queuePosition(
                QueuePosition(sessionID: record.sessionID, queued: true, position: UInt32(clamping: position), waitingAhead: UInt32(clamping: ahead))
            )
        case .ratingInvited(let deadline):
            event.event = .ratingInvitedUntilMs(deadline.milliseconds)
        case .rated(let rating):
            event.event = .rated(SessionRating(score: UInt32(clamping: rating.score), comment: rating.comment, submittedAtMs: rating.submittedAt.milliseconds))
        }
        self = event
    }
}

extension AgentEvent {
    init(_ record: AgentEventRecord) {
        var event = AgentEvent(agentID: record.agentID, sequence: record.sequence, createdAtMs: record.createdAt.milliseconds)
        switch record.kind {
        case .offered(let sessionID, let deadline):
            event.event = .offered(SessionOffer(sessionID: sessionID, deadlineMs: deadline.milliseconds))
        case .assigned(let sessionID):
            event.event = .assignedSessionID(sessionID)
        case .offerExpired(let sessionID):
            event.event = .offerExpiredSessionID(sessionID)
        case .userMessage(let message):
            event.event = .userMessage(Message(message))
        case .closed(let sessionID, let reason):
            event.event = .closed(SessionClosure(sessionID: sessionID, reason: SwitchboardProto.CloseReason(reason)))
        case .transferredAway(let sessionID):
            event.event = .transferredAwaySessionID(sessionID)
        case .statusChanged(let status):
            event.event = .statusChanged(AgentStatus(status))
        }
        self = event
    }
}

/// Encodes routing events for the store and the hub.
enum EventEncoding {
    static func encode(_ changes: RoutingActions) -> [(EventOwner, StoredEvent)] {
        var events: [(EventOwner, StoredEvent)] = []
        events.reserveCapacity(changes.sessionEvents.count + changes.agentEvents.count)
        for record in changes.sessionEvents {
            // Cannot fail: every string here was validated on the way in.
            let payload = (try? SessionEvent(record).serializedBytes()) ?? []
            events.append((.session(record.sessionID), StoredEvent(sequence: record.sequence, createdAt: record.createdAt, payload: payload)))
        }
        for record in changes.agentEvents {
            let payload = (try? AgentEvent(record).serializedBytes()) ?? []
            events.append((.agent(record.agentID), StoredEvent(sequence: record.sequence, createdAt: record.createdAt, payload: payload)))
        }
        return events
    }
}
