/// Something that happened to a session, numbered per session (1, 2, 3, ... without gaps), for
/// the user gateway's watch stream.
public struct SessionEventRecord: Sendable, Hashable {
    /// What happened.
    public enum Kind: Sendable, Hashable {
        /// A message to or from the user (system prompts included).
        case message(TranscriptMessage)
        /// The session's state changed.
        case stateChanged(state: SessionState, agentID: String?, groupID: String?, closeReason: CloseReason?)
        /// The user's place in the queue, told with the queue message.
        case queuePosition(position: Int, ahead: Int)
        /// The user was invited to rate, until `deadline`.
        case ratingInvited(deadline: Timestamp)
        /// The user rated.
        case rated(SessionRatingRecord)
    }

    public var sessionID: String
    public var sequence: Int64
    public var createdAt: Timestamp
    public var kind: Kind

    /// Creates an event.
    public init(sessionID: String, sequence: Int64, createdAt: Timestamp, kind: Kind) {
        self.sessionID = sessionID
        self.sequence = sequence
        self.createdAt = createdAt
        self.kind = kind
    }
}

/// Something an agent desk must know, numbered per agent, for the agent's watch stream.
public struct AgentEventRecord: Sendable, Hashable {
    /// What happened.
    public enum Kind: Sendable, Hashable {
        /// A session is offered to the agent until `deadline` (manual mode).
        case offered(sessionID: String, deadline: Timestamp)
        /// A session is assigned to the agent (ACTIVE).
        case assigned(sessionID: String)
        /// An offer was withdrawn because it timed out.
        case offerExpired(sessionID: String)
        /// The user of one of the agent's sessions wrote.
        case userMessage(TranscriptMessage)
        /// One of the agent's sessions closed.
        case closed(sessionID: String, reason: CloseReason)
        /// One of the agent's sessions moved to another agent or group.
        case transferredAway(sessionID: String)
        /// The system changed the agent's status (e.g. BREAK after a missed offer).
        case statusChanged(AgentProfile.Status)
    }

    public var agentID: String
    public var sequence: Int64
    public var createdAt: Timestamp
    public var kind: Kind

    /// Creates an event.
    public init(agentID: String, sequence: Int64, createdAt: Timestamp, kind: Kind) {
        self.agentID = agentID
        self.sequence = sequence
        self.createdAt = createdAt
        self.kind = kind
    }
}
