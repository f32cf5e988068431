import Foundation
import GRDB
public import SwitchboardCore

/// How sessions and messages are stored: whole rows rewritten after each change; codes of the
/// enums below are stored and never renumbered.
enum SessionCodes {
    static func state(_ state: SessionState) -> Int {
        switch state {
        case .bot: 0
        case .queued: 1
        case .offered: 2
        case .active: 3
        case .closed: 4
        }
    }

    static func state(_ code: Int) throws -> SessionState {
        switch code {
        case 0: .bot
        case 1: .queued
        case 2: .offered
        case 3: .active
        case 4: .closed
        default: throw SwitchboardError(.internal, "stored session state \(code) is unknown")
        }
    }

    static func reason(_ reason: CloseReason) -> Int {
        switch reason {
        case .userEnded: 1
        case .agentEnded: 2
        case .userTimeout: 3
        case .admin: 4
        case .botIdle: 5
        }
    }

    static func reason(_ code: Int) throws -> CloseReason {
        switch code {
        case 1: .userEnded
        case 2: .agentEnded
        case 3: .userTimeout
        case 4: .admin
        case 5: .botIdle
        default: throw SwitchboardError(.internal, "stored close reason \(code) is unknown")
        }
    }

    static let prompts: [PromptKind] = [
        .welcome, .manualAccessInProgress, .transferSucceeded, .transferFailed, .afterHours, .queue,
        .timeoutClosure, .proactiveClosure, .ratingInvitation, .ratingSubmitted,
    ]

    static func target(_ target: RoutingTarget?) -> String? {
        switch target {
        case nil: nil
        case .anyAgent: "any"
        case .group(let id): "group:" + id
        case .agents(let ids): "agents:" + json(ids)
        }
    }

    static func target(_ text: String?) throws -> RoutingTarget? {
        guard let text else { return nil }
        if text == "any" { return .anyAgent }
        if text.hasPrefix("group:") { return .group(String(text.dropFirst(6))) }
        if text.hasPrefix("agents:") { return .agents(try decode([String].self, String(text.dropFirst(7)))) }
        throw SwitchboardError(.internal, "stored routing target '\(text)' is unknown")
    }

    /// JSON of a list or map of strings, written by hand: sessions are stored on every change,
    /// and Foundation's encoder costs several microseconds each time.
    static func json(_ values: [String]) -> String {
        guard !values.isEmpty else { return "[]" }
        return "[" + values.map(quote).joined(separator: ",") + "]"
    }

    static func json(_ map: [String: String]) -> String {
        guard !map.isEmpty else { return "{}" }
        return "{" + map.sorted { $0.key < $1.key }.map { quote($0.key) + ":" + quote($0.value) }.joined(separator: ",") + "}"
    }

    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        if text == "[]", let empty = [String]() as? T { return empty }
        if text == "{}", let empty = [String: String]() as? T { return empty }
        return try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}

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
        session = SessionRecord(
            id: row[Columns.id], userID: row[Columns.userID], channel: row[Columns.channel],
            attributes: try SessionCodes.decode([String: String].self, row[Columns.attributes]),
            createdAt: Timestamp(milliseconds: row[Columns.createdAt])
        )
        session.state = try SessionCodes.state(row[Columns.state])
        session.target = try SessionCodes.target(row[Columns.target])
        session.agentID = row[Columns.agentID]
        session.queueTicket = row[Columns.queueTicket]
        session.offerDeadline = (row[Columns.offerDeadline] as Int64?).map(Timestamp.init(milliseconds:))
        session.missedAgents = try SessionCodes.decode([String].self, row[Columns.missedAgents])
        session.userTimeoutAt = (row[Columns.userTimeoutAt] as Int64?).map(Timestamp.init(milliseconds:))
        session.nextQueueMessageAt = (row[Columns.nextQueueMessageAt] as Int64?).map(Timestamp.init(milliseconds:))
        session.lastQueueMessagePosition = row[Columns.lastQueueMessagePosition]
        session.closeReason = try (row[Columns.closeReason] as Int?).map(SessionCodes.reason)
        session.closedAt = (row[Columns.closedAt] as Int64?).map(Timestamp.init(milliseconds:))
        session.ratingDeadline = (row[Columns.ratingDeadline] as Int64?).map(Timestamp.init(milliseconds:))
        if let score: Int = row[Columns.ratingScore] {
            session.rating = SessionRatingRecord(
                score: score, comment: row[Columns.ratingComment] ?? "",
                submittedAt: Timestamp(milliseconds: row[Columns.ratedAt] ?? 0)
            )
        }
        session.lastSequence = row[Columns.lastSequence]
        session.lastEventSequence = row[Columns.lastEventSequence]
        session.botIdleDeadline = (row[Columns.botIdleDeadline] as Int64?).map(Timestamp.init(milliseconds:))
    }

    func bind(_ row: inout RowBinder) {
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
        let sender: Sender
        switch row[Columns.sender] as Int {
        case 1: sender = .user
        case 2: sender = .agent(row[Columns.agentID] ?? "")
        case 3:
            let index = (row[Columns.prompt] as Int? ?? 0) - 1
            guard SessionCodes.prompts.indices.contains(index) else {
                throw SwitchboardError(.internal, "stored prompt code \(index + 1) is unknown")
            }
            sender = .system(SessionCodes.prompts[index])
        default:
            throw SwitchboardError(.internal, "stored sender code is unknown")
        }
        message = TranscriptMessage(
            sessionID: row[Columns.sessionID], sequence: row[Columns.sequence], sender: sender, text: row[Columns.text],
            createdAt: Timestamp(milliseconds: row[Columns.createdAt])
        )
    }

    func bind(_ row: inout RowBinder) {
        let (sender, agentID, prompt): (Int, String?, Int?) = switch message.sender {
        case .user: (1, nil, nil)
        case .agent(let id): (2, id, nil)
        case .system(let kind): (3, nil, (SessionCodes.prompts.firstIndex(of: kind) ?? -1) + 1)
        }
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

    init(row: Row) {
        sessionID = row[Columns.sessionID]
        event = StoredEvent(
            sequence: row[Columns.sequence], createdAt: Timestamp(milliseconds: row[Columns.createdAt]),
            payload: [UInt8](row[Columns.payload] as Data)
        )
    }

    func bind(_ row: inout RowBinder) {
        row.add(sessionID)
        row.add(event.sequence)
        row.add(event.createdAt.milliseconds)
        row.add(blob: event.payload)
    }
}

extension SwitchboardStore {
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

/// Whose events: a session's or an agent's.
public enum EventOwner: Sendable, Hashable {
    case session(String)
    case agent(String)

    /// The session's or agent's id.
    public var id: String {
        switch self {
        case .session(let id), .agent(let id): id
        }
    }
}

/// One stored event: its number, time and encoding.
public struct StoredEvent: Sendable, Hashable {
    public var sequence: Int64
    public var createdAt: Timestamp
    public var payload: [UInt8]

    /// Creates a stored event.
    public init(sequence: Int64, createdAt: Timestamp, payload: [UInt8]) {
        self.sequence = sequence
        self.createdAt = createdAt
        self.payload = payload
    }
}
