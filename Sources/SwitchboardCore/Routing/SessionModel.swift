/// Where a session is in its life.
public enum SessionState: Sendable, Hashable, CustomStringConvertible {
    /// With the bot: created, or back after a failed transfer or outside working hours.
    case bot
    /// Waiting for an agent with free capacity.
    case queued
    /// Offered to an agent who must accept it (manual service mode).
    case offered
    /// The user and the assigned agent are talking.
    case active
    /// Ended; final.
    case closed

    /// The wire name, for messages.
    public var description: String {
        switch self {
        case .bot: "BOT"
        case .queued: "QUEUED"
        case .offered: "OFFERED"
        case .active: "ACTIVE"
        case .closed: "CLOSED"
        }
    }
}

/// Why a session closed.
public enum CloseReason: Sendable, Hashable {
    case userEnded, agentEnded, userTimeout, admin
    /// Left with the bot, untouched, for `settings.closure.bot_idle_timeout_seconds`.
    case botIdle
}

/// Which configured prompt a system message is.
public enum PromptKind: Sendable, Hashable, CaseIterable {
    case welcome, manualAccessInProgress, transferSucceeded, transferFailed, afterHours, queue
    case timeoutClosure, proactiveClosure, ratingInvitation, ratingSubmitted
}

/// Who wrote a message.
public enum Sender: Sendable, Hashable {
    case user
    case agent(String)
    case system(PromptKind)
}

/// One message of a session's transcript.
public struct TranscriptMessage: Sendable, Hashable {
    public var sessionID: String
    /// 1, 2, 3, ... within the session.
    public var sequence: Int64
    public var sender: Sender
    public var text: String
    public var createdAt: Timestamp

    /// Creates a message.
    public init(sessionID: String, sequence: Int64, sender: Sender, text: String, createdAt: Timestamp) {
        self.sessionID = sessionID
        self.sequence = sequence
        self.sender = sender
        self.text = text
        self.createdAt = createdAt
    }
}

/// Whom a session may be assigned to.
public enum RoutingTarget: Sendable, Hashable, CustomStringConvertible {
    /// Any agent (automatic allocation).
    case anyAgent
    /// The agents of a group.
    case group(String)
    /// The listed agents (a business server's answer), sorted.
    case agents([String])

    /// For messages.
    public var description: String {
        switch self {
        case .anyAgent: "any agent"
        case .group(let id): "group '\(id)'"
        case .agents(let ids): "agents \(ids.joined(separator: ", "))"
        }
    }
}

/// A submitted rating.
public struct SessionRatingRecord: Sendable, Hashable {
    public var score: Int
    public var comment: String
    public var submittedAt: Timestamp

    /// Creates a rating.
    public init(score: Int, comment: String, submittedAt: Timestamp) {
        self.score = score
        self.comment = comment
        self.submittedAt = submittedAt
    }
}

/// Everything the core knows about a session; persisted whole after each change.
public struct SessionRecord: Sendable, Hashable {
    public var id: String
    public var userID: String
    public var channel: String
    public var attributes: [String: String]
    public var state: SessionState
    public var createdAt: Timestamp
    /// The target it was routed to (queued, offered, active).
    public var target: RoutingTarget?
    /// The agent offered to (OFFERED) or assigned (ACTIVE, and CLOSED after it was).
    public var agentID: String?
    /// The place in the queue: smaller is older; kept when an offer is lost.
    public var queueTicket: Int64?
    public var offerDeadline: Timestamp?
    /// Agents who let an offer of this session time out; never offered it again.
    public var missedAgents: [String]
    public var userTimeoutAt: Timestamp?
    public var nextQueueMessageAt: Timestamp?
    /// The position the last queue message told the user.
    public var lastQueueMessagePosition: Int?
    public var closeReason: CloseReason?
    public var closedAt: Timestamp?
    public var ratingDeadline: Timestamp?
    public var rating: SessionRatingRecord?
    /// The sequence number of the latest message.
    public var lastSequence: Int64
    /// The sequence number of the latest session event.
    public var lastEventSequence: Int64
    /// In `BOT`: the business server's hook is choosing a target (memory only: a restart leaves
    /// the session with the bot, and the user gateway may ask again).
    public var allocating: Bool
    /// In `BOT`: when the session closes by itself if nothing happens to it (`CLOSE_REASON_BOT_IDLE`).
    public var botIdleDeadline: Timestamp?

    /// Creates a session in state `BOT`.
    public init(id: String, userID: String, channel: String, attributes: [String: String], createdAt: Timestamp) {
        self.id = id
        self.userID = userID
        self.channel = channel
        self.attributes = attributes
        self.state = .bot
        self.createdAt = createdAt
        self.target = nil
        self.agentID = nil
        self.queueTicket = nil
        self.offerDeadline = nil
        self.missedAgents = []
        self.userTimeoutAt = nil
        self.nextQueueMessageAt = nil
        self.lastQueueMessagePosition = nil
        self.closeReason = nil
        self.closedAt = nil
        self.ratingDeadline = nil
        self.rating = nil
        self.lastSequence = 0
        self.lastEventSequence = 0
        self.allocating = false
        self.botIdleDeadline = nil
    }

    /// Whether nothing more can happen to it: closed, and rated or past any rating window.
    public func isFinished(at now: Timestamp) -> Bool {
        guard state == .closed else { return false }
        guard rating == nil, let deadline = ratingDeadline else { return true }
        return now > deadline
    }

    /// The group of its target, if routed to a group.
    public var groupID: String? {
        if case .group(let id) = target { id } else { nil }
    }
}

/// An agent as routing sees it.
public struct AgentRuntime: Sendable, Hashable {
    public var id: String
    public var status: AgentProfile.Status
    /// Its own limit; `nil` uses the settings'.
    public var maxSessions: Int?
    public var groupIDs: Set<String>
    /// Since when it has been free to serve, for "longest idle first": the latest of when it came
    /// `ONLINE`, when it was last given a session, and when one of its sessions last ended (0: never).
    public var idleSince: Timestamp
    /// Orders agents whose idle time began in the same millisecond by the order of those events
    /// (memory only: 0 after a restart, where ties go by id).
    public var idleOrder: UInt64 = 0

    /// The key of "longest idle first": idle since, then the order of events, then the id.
    public var idleKey: IdleKey { IdleKey(since: idleSince.milliseconds, order: idleOrder, agentID: id) }

    /// An agent's place in the longest-idle order; smaller has waited longer.
    public struct IdleKey: Sendable, Hashable, Comparable {
        public var since: Int64
        public var order: UInt64
        public var agentID: String

        public static func < (lhs: Self, rhs: Self) -> Bool {
            (lhs.since, lhs.order, lhs.agentID) < (rhs.since, rhs.order, rhs.agentID)
        }
    }
    /// Its sessions in state OFFERED or ACTIVE.
    public var sessions: Set<String>
    /// The sequence number of its latest event.
    public var lastEventSequence: Int64
    /// When its status last changed.
    public var statusChangedAt = Timestamp(milliseconds: 0)

    /// Creates an agent's routing view.
    public init(
        id: String, status: AgentProfile.Status, maxSessions: Int?, groupIDs: Set<String>,
        idleSince: Timestamp = Timestamp(milliseconds: 0), sessions: Set<String> = [], lastEventSequence: Int64 = 0
    ) {
        self.id = id
        self.status = status
        self.maxSessions = maxSessions
        self.groupIDs = groupIDs
        self.idleSince = idleSince
        self.sessions = sessions
        self.lastEventSequence = lastEventSequence
    }
}
