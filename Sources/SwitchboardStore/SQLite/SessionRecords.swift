import Foundation
import GRDB
public import SwitchboardCore

/// A row of `sessions`: a ``SessionRecord`` as stored, rewritten whole after each change.
struct SessionRow: StoreRecord {
    static let databaseTableName = "sessions"

    enum Columns: String, ColumnExpression, CaseIterable {
        case id
        case userID = "user_id"
        case channel
        /// JSON object of strings.
        case attributes
        /// A code of `SessionCodes.state`.
        case state
        case createdAt = "created_at"
        /// A code of `SessionCodes.target`.
        case target
        case agentID = "agent_id"
        case queueTicket = "queue_ticket"
        case offerDeadline = "offer_deadline"
        /// JSON array of strings.
        case missedAgents = "missed_agents"
        case userTimeoutAt = "user_timeout_at"
        case nextQueueMessageAt = "next_queue_message_at"
        case lastQueueMessagePosition = "last_queue_message_position"
        case closeReason = "close_reason"
        case closedAt = "closed_at"
        case ratingDeadline = "rating_deadline"
        /// `NULL` until rated; then the comment and time are set too.
        case ratingScore = "rating_score"
        case ratingComment = "rating_comment"
        case ratedAt = "rated_at"
        case lastSequence = "last_sequence"
        case lastEventSequence = "last_event_sequence"
        /// When a session with the bot idles out (v7; NULL before: the load then gives it a
        /// whole idle period).
        case botIdleDeadline = "bot_idle_deadline"
    }

    static let selectColumns = selectSQL()
    static let selectByID = selectColumns + " WHERE \(Columns.id.name) = ?"
    /// Open sessions and closed ones whose rating window is still open at the argument.
    static let selectLoaded = selectColumns + " WHERE \(Columns.state.name) <> \(SessionCodes.state(.closed)) OR \(Columns.ratingDeadline.name) >= ?"
    /// `INSERT OR REPLACE`: on this machine a whole-row replace costs less than an upsert or an
    /// update of every column (3.9, 5.1 and 4.2 us a row without indexes, measured in C).
    static let upsert = insertSQL(or: .replace)

    var session: SessionRecord

    init(_ session: SessionRecord) {
        self.session = session
    }

    init(row: Row) throws {
        try self.init(stored: row)
    }

    init(stored row: some StoredRow) throws {
        session = SessionRecord(
            id: try row.value(Columns.id), userID: try row.value(Columns.userID), channel: try row.value(Columns.channel),
            attributes: try SessionCodes.decode([String: String].self, try row.value(Columns.attributes)),
            createdAt: Timestamp(milliseconds: try row.value(Columns.createdAt))
        )
        session.state = try SessionCodes.state(try row.value(Columns.state))
        session.target = try SessionCodes.target(try row.value(Columns.target))
        session.agentID = try row.value(Columns.agentID)
        session.queueTicket = try row.value(Columns.queueTicket)
        session.offerDeadline = (try row.value(Columns.offerDeadline) as Int64?).map(Timestamp.init(milliseconds:))
        session.missedAgents = try SessionCodes.decode([String].self, try row.value(Columns.missedAgents))
        session.userTimeoutAt = (try row.value(Columns.userTimeoutAt) as Int64?).map(Timestamp.init(milliseconds:))
        session.nextQueueMessageAt = (try row.value(Columns.nextQueueMessageAt) as Int64?).map(Timestamp.init(milliseconds:))
        session.lastQueueMessagePosition = try row.value(Columns.lastQueueMessagePosition)
        session.closeReason = try (try row.value(Columns.closeReason) as Int?).map(SessionCodes.reason)
        session.closedAt = (try row.value(Columns.closedAt) as Int64?).map(Timestamp.init(milliseconds:))
        session.ratingDeadline = (try row.value(Columns.ratingDeadline) as Int64?).map(Timestamp.init(milliseconds:))
        if let score: Int = try row.value(Columns.ratingScore) {
            session.rating = SessionRatingRecord(
                score: score, comment: try row.value(Columns.ratingComment) ?? "",
                submittedAt: Timestamp(milliseconds: try row.value(Columns.ratedAt) ?? 0)
            )
        }
        session.lastSequence = try row.value(Columns.lastSequence)
        session.lastEventSequence = try row.value(Columns.lastEventSequence)
        session.botIdleDeadline = (try row.value(Columns.botIdleDeadline) as Int64?).map(Timestamp.init(milliseconds:))
    }

    func bind<Sink: ColumnSink>(_ row: inout Sink) {
        // In the order of `Columns`.
        row.add(session.id)
        row.add(session.userID)
        row.add(session.channel)
        row.add(SessionCodes.json(session.attributes))
        row.add(SessionCodes.state(session.state))
        row.add(session.createdAt.milliseconds)
        row.add(SessionCodes.target(session.target))
        row.add(session.agentID)
        row.add(session.queueTicket)
        row.add(session.offerDeadline?.milliseconds)
        row.add(SessionCodes.json(session.missedAgents))
        row.add(session.userTimeoutAt?.milliseconds)
        row.add(session.nextQueueMessageAt?.milliseconds)
        row.add(session.lastQueueMessagePosition)
        row.add(session.closeReason.map(SessionCodes.reason))
        row.add(session.closedAt?.milliseconds)
        row.add(session.ratingDeadline?.milliseconds)
        row.add(session.rating?.score)
        row.add(session.rating?.comment)
        row.add(session.rating?.submittedAt.milliseconds)
        row.add(session.lastSequence)
        row.add(session.lastEventSequence)
        row.add(session.botIdleDeadline?.milliseconds)
    }
}

/// A row of `messages`: one ``TranscriptMessage``, written once.
struct MessageRow: StoreRecord {
    static let databaseTableName = "messages"

    enum Columns: String, ColumnExpression, CaseIterable {
        case sessionID = "session_id"
        case sequence
        /// 1 user, 2 agent (with ``agentID``), 3 system (with ``prompt``).
        case sender
        case agentID = "agent_id"
        /// 1 + the index of the prompt kind in ``SessionCodes/prompts``.
        case prompt
        case text
        case createdAt = "created_at"
    }

    static let insert = insertSQL()
    static let selectPage = selectSQL()
        + " WHERE \(Columns.sessionID.name) = ? AND \(Columns.sequence.name) > ? ORDER BY \(Columns.sequence.name) LIMIT ?"

    var message: TranscriptMessage

    init(_ message: TranscriptMessage) {
        self.message = message
    }

    init(row: Row) throws {
        try self.init(stored: row)
    }

    init(stored row: some StoredRow) throws {
        let sender = try SessionCodes.sender(code: try row.value(Columns.sender), agentID: try row.value(Columns.agentID), prompt: try row.value(Columns.prompt))
        message = TranscriptMessage(
            sessionID: try row.value(Columns.sessionID), sequence: try row.value(Columns.sequence), sender: sender, text: try row.value(Columns.text),
            createdAt: Timestamp(milliseconds: try row.value(Columns.createdAt))
        )
    }

    func bind<Sink: ColumnSink>(_ row: inout Sink) {
        let (sender, agentID, prompt) = SessionCodes.sender(message.sender)
        // In the order of `Columns`.
        row.add(message.sessionID)
        row.add(message.sequence)
        row.add(sender)
        row.add(agentID)
        row.add(prompt)
        row.add(message.text)
        row.add(message.createdAt.milliseconds)
    }
}

/// A row of `session_events`: one event of a session, encoded by the caller.
struct SessionEventRow: StoreRecord {
    static let databaseTableName = "session_events"

    enum Columns: String, ColumnExpression, CaseIterable {
        case sessionID = "session_id"
        case sequence
        case createdAt = "created_at"
        case payload
    }

    static let insert = insertSQL()
    static let selectPage = selectSQL()
        + " WHERE \(Columns.sessionID.name) = ? AND \(Columns.sequence.name) > ? ORDER BY \(Columns.sequence.name) LIMIT ?"

    var sessionID: String
    var event: StoredEvent

    init(sessionID: String, event: StoredEvent) {
        self.sessionID = sessionID
        self.event = event
    }

    init(row: Row) throws {
        try self.init(stored: row)
    }

    init(stored row: some StoredRow) throws {
        sessionID = try row.value(Columns.sessionID)
        event = StoredEvent(
            sequence: try row.value(Columns.sequence), createdAt: Timestamp(milliseconds: try row.value(Columns.createdAt)),
            payload: [UInt8](try row.value(Columns.payload) as Data)
        )
    }

    func bind<Sink: ColumnSink>(_ row: inout Sink) {
        row.add(sessionID)
        row.add(event.sequence)
        row.add(event.createdAt.milliseconds)
        row.add(blob: event.payload)
    }
}

extension SQLiteStore {
    /// A session.
    public func session(id: String) async throws(SwitchboardError) -> SessionRecord {
        try await read { db in
            guard let row = try SessionRow.fetchOne(db.cachedStatement(sql: SessionRow.selectByID), arguments: [id]) else {
                throw SwitchboardError(.notFound, "session '\(id)' not found")
            }
            return row.session
        }
    }

    /// Messages of a session after `sequence`, at most `limit`, and whether more follow.
    public func messages(sessionID: String, after sequence: Int64, limit: Int) async throws(SwitchboardError) -> (messages: [TranscriptMessage], more: Bool) {
        try await read { db in
            let rows = try MessageRow.fetchAll(db.cachedStatement(sql: MessageRow.selectPage), arguments: [sessionID, sequence, limit + 1])
            return (rows.prefix(limit).map(\.message), rows.count > limit)
        }
    }

    /// Stored events (encoded by the caller) of a session or an agent after `sequence`, at most `limit`.
    public func events(of owner: EventOwner, after sequence: Int64, limit: Int) async throws(SwitchboardError) -> [StoredEvent] {
        try await read { db in
            let arguments: StatementArguments = [owner.id, sequence, limit]
            return switch owner {
            case .session:
                try SessionEventRow.fetchAll(db.cachedStatement(sql: SessionEventRow.selectPage), arguments: arguments).map(\.event)
            case .agent:
                try AgentEventRow.fetchAll(db.cachedStatement(sql: AgentEventRow.selectPage), arguments: arguments).map(\.event)
            }
        }
    }
}

