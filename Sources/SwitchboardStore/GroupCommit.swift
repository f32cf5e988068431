import GRDB
import Synchronization
import SwitchboardCore

/// Serializes writes and commits concurrent ones together: a lone write runs at once in its own
/// transaction; writes that arrive while a transaction is running are committed together in the
/// next one (one fsync for all), each inside its own savepoint so one failing write does not undo
/// the others. No background task: the first waiting writer leads the next batch.
final class GroupCommitWriter: Sendable {
    /// The most writes committed in one transaction.
    static let maximumBatch = 256

    private enum Signal: Sendable {
        case done
        case lead
    }

    /// One write waiting to be committed.
    private final class Request: @unchecked Sendable {
        // Unchecked: `apply`'s outcome is set by the batch's leader and read by the request's own
        // task only after the leader resumed it (`done`) or after it ran the batch itself (`lead`);
        // the handoff goes through `State`'s mutex, which orders the accesses.
        let apply: (Database) -> Void
        let finish: (SwitchboardError?) -> Void
        var continuation: CheckedContinuation<Signal, Never>?

        init(apply: @escaping (Database) -> Void, finish: @escaping (SwitchboardError?) -> Void) {
            self.apply = apply
            self.finish = finish
        }
    }

    private struct State {
        var running = false
        var pending: [Request] = []
    }

    private let writer: any DatabaseWriter
    private let state = Mutex(State())

    init(writer: any DatabaseWriter) {
        self.writer = writer
    }

    /// Runs `work` in a transaction (shared with concurrent writes) and returns its result once
    /// the transaction is committed.
    func write<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws(SwitchboardError) -> T {
        let outcome = Outcome<T>()
        let request = Request(
            apply: { db in
                do {
                    var value: T?
                    try db.inSavepoint {
                        value = try work(db)
                        return .commit
                    }
                    outcome.value = value
                } catch {
                    outcome.error = StoreErrors.map(error)
                }
            },
            finish: { commitError in
                if outcome.error == nil, let commitError {
                    outcome.error = commitError
                }
            }
        )
        let leadsNow = state.withLock { state in
            if state.running { return false }
            state.running = true
            return true
        }
        if !leadsNow {
            let signal = await withCheckedContinuation { (continuation: CheckedContinuation<Signal, Never>) in
                request.continuation = continuation
                let leads = state.withLock { state in
                    if !state.running {
                        state.running = true
                        return true
                    }
                    state.pending.append(request)
                    return false
                }
                if leads {
                    request.continuation = nil
                    continuation.resume(returning: .lead)
                }
            }
            if case .done = signal {
                return try outcome.get()
            }
        }
        await runBatch(leader: request)
        return try outcome.get()
    }

    private func runBatch(leader: Request) async {
        let others = state.withLock { state in
            let count = min(state.pending.count, Self.maximumBatch - 1)
            defer { state.pending.removeFirst(count) }
            return Array(state.pending.prefix(count))
        }
        let batch = [leader] + others
        var commitError: SwitchboardError?
        do {
            try await writer.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) {
                    for request in batch { request.apply(db) }
                    return .commit
                }
            }
        } catch {
            commitError = StoreErrors.map(error)
        }
        for request in batch { request.finish(commitError) }
        for request in others {
            request.continuation?.resume(returning: .done)
        }
        // Hand the lead to the oldest waiting write, or stop.
        let next = state.withLock { state -> Request? in
            if state.pending.isEmpty {
                state.running = false
                return nil
            }
            return state.pending.removeFirst()
        }
        next?.continuation?.resume(returning: .lead)
    }
}

/// The result of one write, set inside the batch.
private final class Outcome<T: Sendable>: @unchecked Sendable {
    // Unchecked: written by the batch leader, read by the waiting task after its handoff (see
    // GroupCommitWriter.Request).
    var value: T?
    var error: SwitchboardError?

    func get() throws(SwitchboardError) -> T {
        if let error { throw error }
        guard let value else { throw SwitchboardError(.internal, "a committed write produced no result") }
        return value
    }
}

enum StoreErrors {
    /// A domain error passes; a database error becomes `UNAVAILABLE` (disk full, locked, I/O)
    /// or `INTERNAL` (a constraint the code should have checked).
    static func map(_ error: any Error) -> SwitchboardError {
        if let error = error as? SwitchboardError { return error }
        if let error = error as? DatabaseError {
            switch error.resultCode {
            case .SQLITE_CONSTRAINT:
                return SwitchboardError(.internal, "storage constraint failed: \(error.message ?? "\(error)")")
            default:
                return SwitchboardError(.unavailable, "storage failed: \(error.message ?? "\(error)")")
            }
        }
        return SwitchboardError(.internal, "storage failed: \(error)")
    }
}
