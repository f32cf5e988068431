/// What one routing command or timer decided must happen, for the owner to carry out in order:
/// persist everything listed (one transaction), then publish the events, then end the watches of
/// finished sessions, then make the hook call if any, then answer. The owner decides nothing.
public struct RoutingActions: Sendable {
    /// Agents and groups created, changed or deleted, in order: stored first.
    public var directory: [DirectoryChange] = []
    /// Sessions to store whole, by id: the latest version of each (open or just closed).
    public var sessions: [String: SessionRecord] = [:]
    /// Agents whose status or idle time changed, to store.
    public var agents: [String: AgentRuntime] = [:]
    /// New transcript messages, in order.
    public var messages: [TranscriptMessage] = []
    /// New session events, in order.
    public var sessionEvents: [SessionEventRecord] = []
    /// New agent events, in order.
    public var agentEvents: [AgentEventRecord] = []
    /// Sessions to which nothing more can happen: their watch streams end after their last event
    /// (the value: that event's sequence).
    public var finishedSessions: [String: Int64] = [:]
    /// The business server's hook must be asked to route this session; its answer goes to
    /// ``RoutingState/applyHookAnswer(sessionID:answer:now:)``.
    public var hookCall: HookCall?

    /// Creates an empty list.
    public init() {}

    /// The sessions to store, in id order (a stable order for the store's pages).
    public var sessionsInOrder: [SessionRecord] {
        sessions.count < 2 ? Array(sessions.values) : sessions.values.sorted { $0.id < $1.id }
    }

    /// The agents to store, in id order.
    public var agentsInOrder: [AgentRuntime] {
        agents.count < 2 ? Array(agents.values) : agents.values.sorted { $0.id < $1.id }
    }
}

/// A command's answer and what must happen before it is given.
public struct RoutingDecision<Answer: Sendable>: Sendable {
    /// What the caller is answered, as decided (never re-read after the actions are applied).
    public var answer: Answer
    /// What must be stored and published first.
    public var actions: RoutingActions

    /// Creates a decision.
    public init(answer: Answer, actions: RoutingActions) {
        self.answer = answer
        self.actions = actions
    }
}

/// A question for the business server's allocation hook.
public struct HookCall: Sendable, Hashable {
    public var sessionID: String
    public var userID: String
    /// The group the user chose, if any.
    public var groupID: String?
    public var attributes: [String: String]
    public var eventTime: Timestamp
    /// The same for every attempt of one routing of one session.
    public var idempotencyKey: String

    /// Creates a call.
    public init(
        sessionID: String, userID: String, groupID: String?, attributes: [String: String], eventTime: Timestamp,
        idempotencyKey: String
    ) {
        self.sessionID = sessionID
        self.userID = userID
        self.groupID = groupID
        self.attributes = attributes
        self.eventTime = eventTime
        self.idempotencyKey = idempotencyKey
    }
}
