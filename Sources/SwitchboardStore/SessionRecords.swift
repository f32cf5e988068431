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

extension SwitchboardStore {
    static let sessionColumns = """
        id, user_id, channel, attributes, state, created_at, target, agent_id, queue_ticket, offer_deadline,
        missed_agents, user_timeout_at, next_queue_message_at, last_queue_message_position, close_reason, closed_at,
        rating_deadline, rating_score, rating_comment, rated_at, last_sequence, last_event_sequence
        """

    static func session(from row: Row) throws -> SessionRecord {
        var session = SessionRecord(
            id: row[0], userID: row[1], channel: row[2],
            attributes: try SessionCodes.decode([String: String].self, row[3]), createdAt: Timestamp(milliseconds: row[5])
        )
        session.state = try SessionCodes.state(row[4])
        session.target = try SessionCodes.target(row[6])
        session.agentID = row[7]
        session.queueTicket = row[8]
        session.offerDeadline = (row[9] as Int64?).map(Timestamp.init(milliseconds:))
        session.missedAgents = try SessionCodes.decode([String].self, row[10])
        session.userTimeoutAt = (row[11] as Int64?).map(Timestamp.init(milliseconds:))
        session.nextQueueMessageAt = (row[12] as Int64?).map(Timestamp.init(milliseconds:))
        session.lastQueueMessagePosition = row[13]
        session.closeReason = try (row[14] as Int?).map(SessionCodes.reason)
        session.closedAt = (row[15] as Int64?).map(Timestamp.init(milliseconds:))
        session.ratingDeadline = (row[16] as Int64?).map(Timestamp.init(milliseconds:))
        if let score: Int = row[17] {
            session.rating = SessionRatingRecord(score: score, comment: row[18] ?? "", submittedAt: Timestamp(milliseconds: row[19] ?? 0))
        }
        session.lastSequence = row[20]
        session.lastEventSequence = row[21]
        return session
    }

    static func saveSession(_ session: SessionRecord, _ db: Database) throws {
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO sessions (\(sessionColumns)) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
            .execute(arguments: [
                session.id, session.userID, session.channel, SessionCodes.json(session.attributes),
                SessionCodes.state(session.state), session.createdAt.milliseconds, SessionCodes.target(session.target),
                session.agentID, session.queueTicket, session.offerDeadline?.milliseconds,
                SessionCodes.json(session.missedAgents), session.userTimeoutAt?.milliseconds,
                session.nextQueueMessageAt?.milliseconds, session.lastQueueMessagePosition,
                session.closeReason.map(SessionCodes.reason), session.closedAt?.milliseconds,
                session.ratingDeadline?.milliseconds, session.rating?.score, session.rating?.comment,
                session.rating?.submittedAt.milliseconds, session.lastSequence, session.lastEventSequence,
            ])
    }

    static func saveMessage(_ message: TranscriptMessage, _ db: Database) throws {
        let (sender, agentID, prompt): (Int, String?, Int?) = switch message.sender {
        case .user: (1, nil, nil)
        case .agent(let id): (2, id, nil)
        case .system(let kind): (3, nil, (SessionCodes.prompts.firstIndex(of: kind) ?? -1) + 1)
        }
        try db.cachedStatement(
            sql: "INSERT INTO messages (session_id, sequence, sender, agent_id, prompt, text, created_at) VALUES (?,?,?,?,?,?,?)"
        ).execute(arguments: [message.sessionID, message.sequence, sender, agentID, prompt, message.text, message.createdAt.milliseconds])
    }

    static func message(from row: Row) throws -> TranscriptMessage {
        let sender: Sender
        switch row[2] as Int {
        case 1: sender = .user
        case 2: sender = .agent(row[3] ?? "")
        case 3:
            let index = (row[4] as Int? ?? 0) - 1
            guard SessionCodes.prompts.indices.contains(index) else {
                throw SwitchboardError(.internal, "stored prompt code \(index + 1) is unknown")
            }
            sender = .system(SessionCodes.prompts[index])
        default:
            throw SwitchboardError(.internal, "stored sender code is unknown")
        }
        return TranscriptMessage(sessionID: row[0], sequence: row[1], sender: sender, text: row[5], createdAt: Timestamp(milliseconds: row[6]))
    }

    /// A session.
    public func session(id: String) async throws(SwitchboardError) -> SessionRecord {
        try await read { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT \(Self.sessionColumns) FROM sessions WHERE id = ?"), arguments: [id]) else {
                throw SwitchboardError(.notFound, "session '\(id)' not found")
            }
            return try Self.session(from: row)
        }
    }

    /// Messages of a session after `sequence`, at most `limit`, and whether more follow.
    public func messages(sessionID: String, after sequence: Int64, limit: Int) async throws(SwitchboardError) -> (messages: [TranscriptMessage], more: Bool) {
        try await read { db in
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: "SELECT session_id, sequence, sender, agent_id, prompt, text, created_at FROM messages WHERE session_id = ? AND sequence > ? ORDER BY sequence LIMIT ?"
                ),
                arguments: [sessionID, sequence, limit + 1]
            )
            return (try rows.prefix(limit).map(Self.message(from:)), rows.count > limit)
        }
    }

    /// Stored events (encoded by the caller) of a session or an agent after `sequence`, at most `limit`.
    public func events(of owner: EventOwner, after sequence: Int64, limit: Int) async throws(SwitchboardError) -> [StoredEvent] {
        try await read { db in
            let sql = switch owner {
            case .session: "SELECT sequence, created_at, payload FROM session_events WHERE session_id = ? AND sequence > ? ORDER BY sequence LIMIT ?"
            case .agent: "SELECT sequence, created_at, payload FROM agent_events WHERE agent_id = ? AND sequence > ? ORDER BY sequence LIMIT ?"
            }
            return try Row.fetchAll(db.cachedStatement(sql: sql), arguments: [owner.id, sequence, limit]).map { row in
                StoredEvent(sequence: row[0], createdAt: Timestamp(milliseconds: row[1]), payload: [UInt8](row[2] as Data))
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
