import DequeModule
import Logging
import PostgresNIO
import Synchronization
import SwitchboardCore

/// One tenant's group commit on PostgreSQL: writes are committed in the order they were
/// enqueued; those enqueued while a commit runs share the next one.
///
/// A batch of checked writes (the engine's) is planned as few statements as it can be: the hot
/// path's rows (sessions, messages, events, agents' states) of consecutive writes become one
/// ``HotBatchStatement`` (one round trip, atomic by itself); a change of the directory (agents,
/// groups, members) or the settings is a statement of its own in order, and then the batch runs
/// in a transaction. An unchecked write runs in a savepoint of its own, so that it fails alone.
final class PostgresCommitQueue: Sendable {
    /// The most writes committed in one transaction.
    static let maximumBatch = 512
    /// The most unchecked writes (each in a savepoint of its own) committed in one transaction.
    static let maximumUncheckedBatch = 32

    fileprivate final class Request: Sendable {
        let writes: [StoreWrite]
        let checked: Bool
        /// `nil` while pending; then the outcome (`.some(nil)`: committed).
        private let state = Mutex<(outcome: SwitchboardError??, waiter: CheckedContinuation<Void, Never>?)>((nil, nil))

        init(_ writes: [StoreWrite], checked: Bool) {
            self.writes = writes
            self.checked = checked
        }

        func finish(_ error: SwitchboardError?) {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard state.outcome == nil else { return nil }
                state.outcome = .some(error)
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }

        func outcome() async throws(SwitchboardError) {
            if case .some(let error) = state.withLock({ $0.outcome }) {
                if let error { throw error }
                return
            }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let done = state.withLock { state in
                    if state.outcome != nil { return true }
                    state.waiter = continuation
                    return false
                }
                if done { continuation.resume() }
            }
            if case .some(let error?) = state.withLock({ $0.outcome }) { throw error }
        }
    }

    private struct State {
        var pending = Deque<Request>()
        var draining = false
        /// Closed by a failed batch of checked writes, until ``resumeAfterReload()``.
        var gate = CheckedWriteGate()
    }

    private let pool: PostgresPool
    private let tenant: String
    private let state = Mutex(State())

    init(pool: PostgresPool, tenant: String) {
        self.pool = pool
        self.tenant = tenant
    }

    func enqueue(_ writes: [StoreWrite], checked: Bool) -> PendingWrite {
        let request = Request(writes, checked: checked)
        let refusal: SwitchboardError? = state.withLock { state in
            // Decided on a state that may be ahead of the database: refused until the reload.
            if !state.gate.admits(checked: checked) { return StoreFailure.behindFailedCommit }
            state.pending.append(request)
            if !state.draining {
                state.draining = true
                Task { await self.drain() }
            }
            return nil
        }
        if let refusal { request.finish(refusal) }
        return PendingWrite { () async throws(SwitchboardError) in try await request.outcome() }
    }

    func resumeAfterReload() {
        state.withLock { $0.gate.open() }
    }

    /// Commits batches until nothing is pending.
    private func drain() async {
        while true {
            let batch: [Request] = state.withLock { state in
                // Unchecked writes cost a savepoint each (three round trips): fewer of them per
                // batch, so that a batch stays well within the deadline.
                var count = 0
                var unchecked = 0
                for request in state.pending.prefix(Self.maximumBatch) {
                    if !request.checked { unchecked += 1 }
                    if unchecked > Self.maximumUncheckedBatch { break }
                    count += 1
                }
                if count == 0 { state.draining = false }
                defer { state.pending.removeFirst(count) }
                return Array(state.pending.prefix(count))
            }
            if batch.isEmpty { return }
            let outcomes: [SwitchboardError?]
            do {
                outcomes = try await commit(batch)
            } catch var error {
                if error.kind == .internal, batch.allSatisfy(\.checked) {
                    // The engine checked them against its state: the database holds changes
                    // that state did not have (a commit reported failed that landed after all).
                    // The engine reloads; the call can be retried.
                    error = SwitchboardError(.unavailable, "storage failed: the database changed under this server (\(error.message)); the state is reloaded, retry")
                }
                var failed = batch
                if batch.contains(where: \.checked) {
                    // The checked writes queued behind were decided on top of the failed ones.
                    let behind = state.withLock { $0.gate.close(behind: &$0.pending, checked: \.checked) }
                    for request in behind { request.finish(StoreFailure.behindFailedCommit) }
                    failed += behind
                }
                for request in failed { request.finish(error) }
                continue
            }
            for (request, outcome) in zip(batch, outcomes) { request.finish(outcome) }
        }
    }

    /// Commits `batch`; the outcome of each request (an unchecked one may fail alone).
    private func commit(_ batch: [Request]) async throws(SwitchboardError) -> [SwitchboardError?] {
        let tenant = self.tenant
        let logger = pool.logger
        if batch.allSatisfy(\.checked) {
            let steps = Plan(tenant: tenant, writes: batch.lazy.flatMap(\.writes)).steps
            try await pool.withConnection { connection in
                if steps.count == 1 {
                    try await steps[0].run(on: connection, logger: logger)
                } else {
                    try await connection.query("BEGIN", logger: logger)
                    do {
                        for step in steps { try await step.run(on: connection, logger: logger) }
                        try await connection.query("COMMIT", logger: logger)
                    } catch {
                        _ = try? await connection.query("ROLLBACK", logger: logger)
                        throw error
                    }
                }
            }
            return Array(repeating: nil, count: batch.count)
        }
        return try await pool.transaction { connection in
            var outcomes: [SwitchboardError?] = []
            for request in batch {
                let steps = Plan(tenant: tenant, writes: request.writes).steps
                guard !request.checked else {
                    for step in steps { try await step.run(on: connection, logger: logger) }
                    outcomes.append(nil)
                    continue
                }
                try await connection.query("SAVEPOINT unchecked", logger: logger)
                do {
                    for step in steps { try await step.run(on: connection, logger: logger) }
                    try await connection.query("RELEASE SAVEPOINT unchecked", logger: logger)
                    outcomes.append(nil)
                } catch {
                    let mapped = PostgresPool.map(error)
                    // Only the database's refusal of this write is its own; a lost connection fails all.
                    guard mapped.kind == .internal, (error as? PSQLError)?.serverInfo != nil else { throw error }
                    try await connection.query("ROLLBACK TO SAVEPOINT unchecked", logger: logger)
                    outcomes.append(mapped)
                }
            }
            return outcomes
        }
    }
}

/// Writes in order as statements: consecutive hot-path rows in one ``HotBatchStatement``, each
/// other change a statement of its own.
struct Plan {
    enum Step {
        case hot(HotBatchStatement)
        case statement(PostgresQuery)

        func run(on connection: PostgresConnection, logger: Logger) async throws {
            switch self {
            case .hot(let statement):
                for try await _ in try await connection.execute(statement, logger: logger) {}
            case .statement(let query):
                try await connection.query(query, logger: logger)
            }
        }
    }

    private(set) var steps: [Step] = []
    private let tenant: String
    private var hot: HotRows

    init(tenant: String, writes: some Sequence<StoreWrite>) {
        self.tenant = tenant
        hot = HotRows()
        for write in writes { add(write) }
        flush()
    }

    private mutating func flush() {
        guard !hot.isEmpty else { return }
        steps.append(.hot(hot.statement(tenant: tenant)))
        hot = HotRows()
    }

    private mutating func statement(_ sql: String, _ values: any PostgresDynamicTypeEncodable...) {
        flush()
        var bindings = PostgresBindings(capacity: values.count + 1)
        bindings.append(tenant)
        for value in values { bindings.append(value) }
        steps.append(.statement(PostgresQuery(unsafeSQL: sql, binds: bindings)))
    }

    private mutating func insert<R: StoreRecord>(_ record: R) {
        flush()
        var sink = BindingsSink()
        sink.add(tenant)
        record.bind(&sink)
        steps.append(.statement(PostgresQuery(unsafeSQL: PostgresSQL.insert(R.self), binds: sink.bindings)))
    }

    private mutating func add(_ write: StoreWrite) {
        switch write {
        case .session(let session): hot.add(session)
        case .message(let message): hot.add(message)
        case .event(let owner, let event): hot.add(event, of: owner)
        case .agentState(let id, let status, let changedAt, let lastAssignedAt):
            hot.addState(id: id, status: status.storedCode, changedAt: changedAt.milliseconds, lastAssignedAt: lastAssignedAt.milliseconds)
        case .insertAgent(let agent):
            // An agent's state queued before it exists would be lost with the old rows: order kept.
            insert(AgentRow(agent))
        case .updateAgent(let id, let displayName, let maxSessions):
            flush()
            var sink = BindingsSink()
            sink.add(tenant)
            sink.add(displayName)
            sink.add(maxSessions)
            sink.add(id)
            steps.append(.statement(PostgresQuery(
                unsafeSQL: "UPDATE agents SET display_name = $2, max_sessions = $3 WHERE tenant_id = $1 AND id = $4", binds: sink.bindings
            )))
        case .deleteAgent(let id):
            // Its events go with it (an agent created again numbers its events from 1).
            statement("DELETE FROM agents WHERE tenant_id = $1 AND id = $2", id)
            statement("DELETE FROM agent_events WHERE tenant_id = $1 AND agent_id = $2", id)
        case .insertGroup(let group):
            insert(GroupRow(group))
        case .renameGroup(let id, let name):
            statement("UPDATE groups SET name = $2 WHERE tenant_id = $1 AND id = $3", name, id)
        case .deleteGroup(let id):
            statement("DELETE FROM groups WHERE tenant_id = $1 AND id = $2", id)
        case .addMember(let groupID, let agentID):
            insert(GroupMemberRow(groupID: groupID, agentID: agentID))
        case .removeMember(let groupID, let agentID):
            statement("DELETE FROM group_members WHERE tenant_id = $1 AND group_id = $2 AND agent_id = $3", groupID, agentID)
        case .settings(let settings):
            flush()
            var sink = BindingsSink()
            sink.add(tenant)
            SettingsRow(settings).bind(&sink)
            steps.append(.statement(PostgresQuery(unsafeSQL: PostgresSettingsSQL.upsert, binds: sink.bindings)))
        }
    }
}

/// The hot path's rows of consecutive writes, as column arrays; a session or an agent's state
/// written twice keeps its last write (each is stored whole).
struct HotRows {
    private var sessions: [SessionRecord] = []
    private var sessionIndex: [String: Int] = [:]
    private var messages = ColumnArrays(HotColumns.messages)
    private var sessionEvents = ColumnArrays(HotColumns.events)
    private var agentEvents = ColumnArrays(HotColumns.events)
    private var states: [(id: String, status: Int, changedAt: Int64, lastAssignedAt: Int64)] = []
    private var stateIndex: [String: Int] = [:]

    var isEmpty: Bool {
        sessions.isEmpty && messages.rows == 0 && sessionEvents.rows == 0 && agentEvents.rows == 0 && states.isEmpty
    }

    mutating func add(_ session: SessionRecord) {
        if let index = sessionIndex[session.id] {
            sessions[index] = session
        } else {
            sessionIndex[session.id] = sessions.count
            sessions.append(session)
        }
    }

    mutating func add(_ message: TranscriptMessage) {
        MessageRow(message).bind(&messages)
    }

    mutating func add(_ event: StoredEvent, of owner: EventOwner) {
        switch owner {
        case .session(let id): SessionEventRow(sessionID: id, event: event).bind(&sessionEvents)
        case .agent(let id): AgentEventRow(agentID: id, event: event).bind(&agentEvents)
        }
    }

    mutating func addState(id: String, status: Int, changedAt: Int64, lastAssignedAt: Int64) {
        let state = (id: id, status: status, changedAt: changedAt, lastAssignedAt: lastAssignedAt)
        if let index = stateIndex[id] {
            states[index] = state
        } else {
            stateIndex[id] = states.count
            states.append(state)
        }
    }

    func statement(tenant: String) -> HotBatchStatement {
        var bindings = PostgresBindings(capacity: 1 + HotColumns.sessions.count + HotColumns.messages.count + 2 * HotColumns.events.count + HotColumns.agentStates.count)
        bindings.append(tenant)
        var sessionColumns = ColumnArrays(HotColumns.sessions)
        for session in sessions { SessionRow(session).bind(&sessionColumns) }
        var stateColumns = ColumnArrays(HotColumns.agentStates)
        for state in states {
            stateColumns.add(state.id)
            stateColumns.add(state.status)
            stateColumns.add(state.changedAt)
            stateColumns.add(state.lastAssignedAt)
        }
        for columns in [sessionColumns, messages, sessionEvents, agentEvents, stateColumns] { columns.bind(to: &bindings) }
        return HotBatchStatement(bindings: bindings)
    }
}
