import SwitchboardCore
public import SwitchboardProto
public import SwitchboardRPC
public import SwitchboardServices
import SwitchboardStore

/// The rules of session inputs; the limits themselves are ``TextLimits``.
enum SessionRules {
    static func validateSessionID(_ id: String, field: String = "session_id") throws(SwitchboardError) {
        guard !id.isEmpty else { throw .invalid(field, "must not be empty") }
        guard id.utf8.count <= TextLimits.sessionID.maximumBytes, id.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .invalid(field, "is not a session id")
        }
    }

    /// A user's or agent's message: not blank, at most 10,000 characters and 40,000 bytes.
    static func validateText(_ text: String, field: String) throws(SwitchboardError) {
        try TextLimits.messageText.check(text, field: field)
        guard !text.allSatisfy(\.isWhitespace) else { throw .invalid(field, "must not be empty or blank") }
    }
}

/// Serves `switchboard.v1.SessionService` for the user gateway.
public struct SessionServiceImplementation: SessionService.ServiceProtocol {
    private let tenants: TenantRegistry

    /// Creates the service.
    public init(tenants: TenantRegistry) {
        self.tenants = tenants
    }

    public func createSession(request: CreateSessionRequest, context: ServerContext) async throws -> Session {
        let tenant = try await tenants.enter(context)
        defer { tenants.leave(tenant) }
        let engine = tenant.engine
        try AgentRules.validateID(request.userID, field: "user_id")
        try TextLimits.checkAttributes(request.attributes)
        try TextLimits.channel.check(request.channel, field: "channel")
        return Session(try await engine.createSession(userID: request.userID, channel: request.channel, attributes: request.attributes))
    }

    public func sendUserMessage(request: SendUserMessageRequest, context: ServerContext) async throws -> Message {
        let tenant = try await tenants.enter(context)
        defer { tenants.leave(tenant) }
        let engine = tenant.engine
        try SessionRules.validateSessionID(request.sessionID)
        try SessionRules.validateText(request.text, field: "text")
        return Message(try await engine.userMessage(sessionID: request.sessionID, text: request.text))
    }

    public func requestAgent(request: RequestAgentRequest, context: ServerContext) async throws -> Session {
        let tenant = try await tenants.enter(context)
        defer { tenants.leave(tenant) }
        let engine = tenant.engine
        try SessionRules.validateSessionID(request.sessionID)
        if !request.groupID.isEmpty { try AgentRules.validateID(request.groupID, field: "group_id") }
        return Session(try await engine.requestAgent(sessionID: request.sessionID, groupID: request.groupID.isEmpty ? nil : request.groupID))
    }

    public func getSession(request: GetSessionRequest, context: ServerContext) async throws -> Session {
        let tenant = try await tenants.enter(context)
        defer { tenants.leave(tenant) }
        let engine = tenant.engine
        try SessionRules.validateSessionID(request.sessionID)
        return Session(try await engine.session(id: request.sessionID))
    }

    public func listMessages(request: ListMessagesRequest, context: ServerContext) async throws -> ListMessagesResponse {
        let tenant = try await tenants.enter(context)
        defer { tenants.leave(tenant) }
        let engine = tenant.engine
        let store = tenant.store
        try SessionRules.validateSessionID(request.sessionID)
        guard request.afterSequence >= 0 else { throw SwitchboardError.invalid("after_sequence", "must not be negative") }
        guard request.limit <= 1000 else { throw SwitchboardError.invalid("limit", "must be at most 1000, got \(request.limit)") }
        _ = try await engine.session(id: request.sessionID)
        let (messages, more) = try await store.messages(
            sessionID: request.sessionID, after: request.afterSequence, limit: request.limit == 0 ? 100 : Int(request.limit)
        )
        // At most `limit` messages, and at most the response budget of them (see ResponseBudget).
        let all = messages.map(Message.init)
        let fitting = ResponseBudget.fittingCount(of: all) { ResponseBudget.weight(ofItemOfSize: (try? $0.serializedSize()) ?? 0) }
        return ListMessagesResponse(messages: Array(all.prefix(fitting)), more: more || fitting < all.count)
    }

    public func getQueuePosition(request: GetQueuePositionRequest, context: ServerContext) async throws -> QueuePosition {
        let tenant = try await tenants.enter(context)
        defer { tenants.leave(tenant) }
        let engine = tenant.engine
        try SessionRules.validateSessionID(request.sessionID)
        guard let position = try await engine.queuePosition(sessionID: request.sessionID) else {
            return QueuePosition(sessionID: request.sessionID, queued: false)
        }
        return QueuePosition(
            sessionID: request.sessionID, queued: true, position: UInt32(clamping: position.position),
            waitingAhead: UInt32(clamping: position.ahead)
        )
    }

    public func closeSession(request: CloseSessionRequest, context: ServerContext) async throws -> Session {
        let tenant = try await tenants.enter(context)
        defer { tenants.leave(tenant) }
        let engine = tenant.engine
        try SessionRules.validateSessionID(request.sessionID)
        return Session(try await engine.close(sessionID: request.sessionID, byAgent: nil))
    }

    public func submitRating(request: SubmitRatingRequest, context: ServerContext) async throws -> Session {
        let tenant = try await tenants.enter(context)
        defer { tenants.leave(tenant) }
        let engine = tenant.engine
        try SessionRules.validateSessionID(request.sessionID)
        try TextLimits.ratingComment.check(request.comment, field: "comment")
        let session = try await engine.submitRating(sessionID: request.sessionID, score: Int(request.score), comment: request.comment)
        return Session(session, labels: await engine.settings().settings.rating.labels)
    }

    public func watchSession(
        request: WatchSessionRequest, response: RPCStreamWriter<SessionEvent>, context: ServerContext
    ) async throws {
        let tenant = try await tenants.enter(context, watching: true)
        defer { tenants.leave(tenant, watching: true) }
        let engine = tenant.engine
        let store = tenant.store
        try SessionRules.validateSessionID(request.sessionID)
        guard request.afterSequence >= 0 else { throw SwitchboardError.invalid("after_sequence", "must not be negative") }
        _ = try await engine.session(id: request.sessionID)
        try await EventStreaming.stream(
            .session(request.sessionID), after: request.afterSequence, hub: engine.hub, store: store,
            finalSequence: { try await engine.finalEventSequence(sessionID: request.sessionID) }
        ) { payload in
            try await response.write(serialized: payload)  // stored as SessionEvent bytes
        }
    }

    public func listGroups(request: ListSessionGroupsRequest, context: ServerContext) async throws -> ListSessionGroupsResponse {
        let tenant = try await tenants.enter(context)
        defer { tenants.leave(tenant) }
        let engine = tenant.engine
        // A menu entry takes at most 939 bytes of the answer, so even 1000 per page (the most) fit 1 MiB.
        let pageRequest = try PageRequest(size: request.pageSize, token: request.pageToken)
        let menu = await engine.groupMenu()
            .map { SessionGroup(id: $0.group.id, name: $0.group.name, available: $0.available) }
            .sorted { $0.id < $1.id }
        let page = pageRequest.page(of: menu, key: \.id)
        return ListSessionGroupsResponse(groups: page.items, nextPageToken: page.nextToken)
    }
}

extension Session {
    init(_ session: SessionRecord, labels: [String] = []) {
        self.init(
            id: session.id, userID: session.userID, channel: session.channel, attributes: session.attributes,
            state: SwitchboardProto.SessionState(session.state),
            agentID: session.agentID ?? "", groupID: session.groupID ?? "", createdAtMs: session.createdAt.milliseconds,
            offerDeadlineMs: session.offerDeadline?.milliseconds ?? 0, userTimeoutAtMs: session.userTimeoutAt?.milliseconds ?? 0,
            closeReason: SwitchboardProto.CloseReason(session.closeReason), closedAtMs: session.closedAt?.milliseconds ?? 0,
            rating: session.rating.map { rating in
                SessionRating(
                    score: UInt32(clamping: rating.score),
                    label: labels.indices.contains(rating.score - 1) ? labels[rating.score - 1] : "",
                    comment: rating.comment, submittedAtMs: rating.submittedAt.milliseconds
                )
            },
            ratingDeadlineMs: session.ratingDeadline?.milliseconds ?? 0, lastSequence: session.lastSequence
        )
    }
}

extension SwitchboardProto.SessionState {
    init(_ state: SwitchboardCore.SessionState) {
        switch state {
        case .bot: self = .bot
        case .queued: self = .queued
        case .offered: self = .offered
        case .active: self = .active
        case .closed: self = .closed
        }
    }
}

extension SwitchboardProto.CloseReason {
    init(_ reason: SwitchboardCore.CloseReason?) {
        switch reason {
        case nil: self = .unspecified
        case .userEnded?: self = .userEnded
        case .agentEnded?: self = .agentEnded
        case .userTimeout?: self = .userTimeout
        case .admin?: self = .admin
        case .botIdle?: self = .botIdle
        }
    }
}

extension Message {
    init(_ message: TranscriptMessage) {
        var sender = SwitchboardProto.Sender.unspecified
        var agentID = ""
        var prompt = Prompt.unspecified
        switch message.sender {
        case .user:
            sender = .user
        case .agent(let id):
            sender = .agent
            agentID = id
        case .system(let kind):
            sender = .system
            prompt = Prompt(kind)
        }
        self.init(
            sessionID: message.sessionID, sequence: message.sequence, sender: sender, agentID: agentID, prompt: prompt,
            text: message.text, createdAtMs: message.createdAt.milliseconds
        )
    }
}

extension Prompt {
    init(_ kind: PromptKind) {
        switch kind {
        case .welcome: self = .welcome
        case .manualAccessInProgress: self = .manualAccessInProgress
        case .transferSucceeded: self = .transferSucceeded
        case .transferFailed: self = .transferFailed
        case .afterHours: self = .afterHours
        case .queue: self = .queue
        case .timeoutClosure: self = .timeoutClosure
        case .proactiveClosure: self = .proactiveClosure
        case .ratingInvitation: self = .ratingInvitation
        case .ratingSubmitted: self = .ratingSubmitted
        }
    }
}
