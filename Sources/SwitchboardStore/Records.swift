import Foundation
import GRDB
import PostgresNIO
public import SwitchboardCore

// The records both stores keep, and the codes they store them with (never renumbered).

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

    /// A message's sender as stored: 1 user, 2 agent (with its id), 3 system (with 1 + the index
    /// of its prompt kind in ``prompts``).
    static func sender(_ sender: Sender) -> (code: Int, agentID: String?, prompt: Int?) {
        switch sender {
        case .user: (1, nil, nil)
        case .agent(let id): (2, id, nil)
        case .system(let kind): (3, nil, (prompts.firstIndex(of: kind) ?? -1) + 1)
        }
    }

    static func sender(code: Int, agentID: String?, prompt: Int?) throws -> Sender {
        switch code {
        case 1: return .user
        case 2: return .agent(agentID ?? "")
        case 3:
            let index = (prompt ?? 0) - 1
            guard prompts.indices.contains(index) else {
                throw SwitchboardError(.internal, "stored prompt code \(index + 1) is unknown")
            }
            return .system(prompts[index])
        default:
            throw SwitchboardError(.internal, "stored sender code \(code) is unknown")
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        if text == "[]", let empty = [String]() as? T { return empty }
        if text == "{}", let empty = [String: String]() as? T { return empty }
        return try JSONDecoder().decode(type, from: Data(text.utf8))
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

extension AgentProfile.Status {
    /// The stored code of a status; never renumbered.
    var storedCode: Int {
        switch self {
        case .offline: 0
        case .online: 1
        case .onBreak: 2
        }
    }

    init(storedCode: Int) throws {
        switch storedCode {
        case 0: self = .offline
        case 1: self = .online
        case 2: self = .onBreak
        default: throw SwitchboardError(.internal, "stored agent status \(storedCode) is unknown")
        }
    }
}

/// The stored settings document: its encoding (opaque to the store), version and time.
public struct StoredSettings: Sendable, Hashable {
    /// Increases by one with every update; the first stored document is version 1.
    public var version: Int64
    /// The encoded settings.
    public var document: [UInt8]
    /// When it was stored.
    public var updatedAt: Timestamp

    /// Creates a stored document.
    public init(version: Int64, document: [UInt8], updatedAt: Timestamp) {
        self.version = version
        self.document = document
        self.updatedAt = updatedAt
    }
}

/// One change to store. The engine checks every rule in memory first, then enqueues its changes
/// in the order it made them; the store applies them in that order, committing concurrent
/// batches together.
public enum StoreWrite: Sendable {
    case insertAgent(AgentProfile)
    case updateAgent(id: String, displayName: String, maxSessions: Int?)
    case deleteAgent(String)
    /// An agent's routing state: status, when it changed, last assignment.
    case agentState(id: String, status: AgentProfile.Status, statusChangedAt: Timestamp, lastAssignedAt: Timestamp)
    case insertGroup(AgentGroup)
    case renameGroup(id: String, name: String)
    case deleteGroup(String)
    case addMember(groupID: String, agentID: String)
    case removeMember(groupID: String, agentID: String)
    /// A session, stored whole.
    case session(SessionRecord)
    /// A new transcript message.
    case message(TranscriptMessage)
    /// A new event of a session or an agent, encoded by the caller.
    case event(EventOwner, StoredEvent)
    /// The settings document, stored as it is (version included): `copy-data` only; the
    /// engine's updates go through ``SwitchboardStore/replaceSettings(_:expectedVersion:)``.
    case settings(StoredSettings)
}

/// A stored row as a record reads it, from either store: a column's value by name.
protocol StoredRow {
    /// The value of `column`; throws when it is missing or of another type.
    func value<Value: StoredValue>(_ column: some ColumnExpression) throws -> Value
}

/// A value both stores read and write: text, integers, blobs, and their optionals.
protocol StoredValue: DatabaseValueConvertible, PostgresDecodable {}

extension String: StoredValue {}
extension Int: StoredValue {}
extension Int64: StoredValue {}
extension Data: StoredValue {}
extension Optional: StoredValue where Wrapped: StoredValue, Wrapped._DecodableType == Wrapped {}

extension Row: StoredRow {
    func value<Value: StoredValue>(_ column: some ColumnExpression) throws -> Value {
        self[column]
    }
}

/// Where a record adds its values, in column order: a SQLite statement's parameters
/// (``RowBinder``) or PostgreSQL's column arrays (``ColumnArrays``).
protocol ColumnSink {
    mutating func add(_ value: String)
    mutating func add(_ value: Int64)
    /// A blob (never `NULL`, even when empty).
    mutating func add(blob: [UInt8])
    mutating func addNull()
}

extension ColumnSink {
    mutating func add(_ value: String?) {
        guard let value else { return addNull() }
        add(value)
    }

    mutating func add(_ value: Int64?) {
        guard let value else { return addNull() }
        add(value)
    }

    mutating func add(_ value: Int) {
        add(Int64(value))
    }

    mutating func add(_ value: Int?) {
        guard let value else { return addNull() }
        add(Int64(value))
    }
}

/// The first `size` of `rows` (fetched with one more, to tell whether more follow), each made an
/// item by `make`, and the token after the last of them.
func makePage<R, T: Sendable>(_ rows: [R], size: Int, key: (R) -> String, _ make: (R) throws -> T) rethrows -> Page<T> {
    let kept = rows.prefix(size)
    let more = rows.count > size
    return Page(items: try kept.map(make), nextToken: more ? PageToken.encode(after: kept.last.map(key) ?? "") : "")
}

/// The first `size` of `rows` as a page; see ``makePage(_:size:key:_:)``.
func makePage<T: Sendable>(_ rows: [T], size: Int, key: (T) -> String) -> Page<T> {
    makePage(rows, size: size, key: key) { $0 }
}

extension StoreCounts {
    /// The tables counted, in the order of ``init(inTableOrder:)``.
    static let tables = [
        AgentRow.databaseTableName, GroupRow.databaseTableName, GroupMemberRow.databaseTableName, SessionRow.databaseTableName,
        MessageRow.databaseTableName, SessionEventRow.databaseTableName, AgentEventRow.databaseTableName, SettingsRow.databaseTableName,
    ]

    /// The counts of ``tables``, in that order.
    init(inTableOrder counts: [Int]) {
        self.init()
        guard counts.count == Self.tables.count else { return }
        (agents, groups, members, sessions) = (counts[0], counts[1], counts[2], counts[3])
        (messages, sessionEvents, agentEvents, settings) = (counts[4], counts[5], counts[6], counts[7])
    }
}
