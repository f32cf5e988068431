import DequeModule
import GRDB
import Synchronization
import SwitchboardCore

/// Serializes writes in the order they are enqueued and commits concurrent ones together.
///
/// Enqueueing is synchronous, so an actor that enqueues its changes before it suspends gets them
/// committed in the order it made them. The writes are drained on the database's own writer
/// queue: a lone write starts a transaction at once; writes enqueued while a transaction runs are
/// committed together in the next one (one sync for all), back to back on that queue with no
/// thread hop between batches. Callers wait on a continuation, never on a thread.
final class GroupCommitWriter: Sendable {
    /// The most writes committed in one transaction.
    static let maximumBatch = 512

    /// One write waiting to be committed.
    fileprivate final class Request: @unchecked Sendable {
        // Unchecked: `apply` and `finish` run on the writer queue only; `finished` and `waiter`
        // are read and written only under the writer's state mutex.
        let apply: (Database) throws -> Void
        let finish: (SwitchboardError?) -> Void
        /// Decided by the caller on its own state (not isolated in a savepoint).
        let checked: Bool
        var finished = false
        var waiter: CheckedContinuation<Void, Never>?

        init(checked: Bool, apply: @escaping (Database) throws -> Void, finish: @escaping (SwitchboardError?) -> Void) {
            self.checked = checked
            self.apply = apply
            self.finish = finish
        }
    }

    fileprivate struct State {
        var draining = false
        var pending = Deque<Request>()
        /// Closed by a failed batch of checked writes, until ``resumeAfterReload()``.
        var gate = CheckedWriteGate()
    }

    private let writer: any DatabaseWriter
    fileprivate let state = Mutex(State())

    init(writer: any DatabaseWriter) {
        self.writer = writer
    }

    /// Queues `work` for the next transaction; await the ticket for its result.
    ///
    /// An `isolated` write runs in its own savepoint: when it fails, it alone is undone and fails.
    /// A write that is not isolated (checked beforehand, so only I/O can fail it) saves the two
    /// savepoint statements; if it fails anyway, the whole batch fails.
    func enqueue<T: Sendable>(isolated: Bool = true, _ work: @escaping @Sendable (Database) throws -> T) -> WriteTicket<T> {
        let outcome = Outcome<T>()
        let request = Request(
            checked: !isolated,
            apply: { db in
                guard isolated else {
                    outcome.value = try work(db)
                    return
                }
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
                if outcome.error == nil, let commitError { outcome.error = commitError }
            }
        )
        let startDrain: Bool? = state.withLock { state in
            // Decided on a state that may be ahead of the database: refused until the reload.
            if !state.gate.admits(checked: !isolated) { return nil }
            state.pending.append(request)
            if state.draining { return false }
            state.draining = true
            return true
        }
        guard let startDrain else {
            request.finish(StoreFailure.behindFailedCommit)
            request.finished = true
            return WriteTicket(writer: self, request: request, outcome: outcome)
        }
        if startDrain {
            writer.asyncWriteWithoutTransaction { db in self.drain(db) }
        }
        return WriteTicket(writer: self, request: request, outcome: outcome)
    }

    /// Runs `work` in a (possibly shared) transaction and returns its result once committed.
    func write<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws(SwitchboardError) -> T {
        try await enqueue(work).value()
    }

    /// Lets checked writes through again after a failed commit of checked writes.
    func resumeAfterReload() {
        state.withLock { $0.gate.open() }
    }

    /// Commits batches until nothing is pending; runs on the writer queue.
    private func drain(_ db: Database) {
        while true {
            var batch: [Request] = state.withLock { state in
                let count = min(state.pending.count, Self.maximumBatch)
                if count == 0 { state.draining = false }
                defer { state.pending.removeFirst(count) }
                return Array(state.pending.prefix(count))
            }
            if batch.isEmpty { return }
            var commitError: SwitchboardError?
            do {
                try db.inTransaction(.immediate) {
                    for request in batch { try request.apply(db) }
                    return .commit
                }
            } catch {
                commitError = StoreErrors.map(error)
            }
            if commitError != nil, batch.contains(where: \.checked) {
                // The checked writes queued behind were decided on top of the failed ones.
                let behind = state.withLock { $0.gate.close(behind: &$0.pending, checked: \.checked) }
                for request in behind { request.finish(StoreFailure.behindFailedCommit) }
                batch += behind
            }
            for request in batch { request.finish(commitError) }
            let waiters = state.withLock { _ -> [CheckedContinuation<Void, Never>] in
                var waiters: [CheckedContinuation<Void, Never>] = []
                for request in batch {
                    request.finished = true
                    if let waiter = request.waiter {
                        waiters.append(waiter)
                        request.waiter = nil
                    }
                }
                return waiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    /// Waits until `request` is committed.
    fileprivate func wait(for request: Request) async {
        if state.withLock({ _ in request.finished }) { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { _ in
                if request.finished { return true }
                request.waiter = continuation
                return false
            }
            if done { continuation.resume() }
        }
    }
}

/// A write queued with ``GroupCommitWriter/enqueue(isolated:_:)``; its value is ready once committed.
struct WriteTicket<T: Sendable>: Sendable {
    fileprivate let writer: GroupCommitWriter
    fileprivate let request: GroupCommitWriter.Request
    fileprivate let outcome: Outcome<T>

    /// The write's result once its transaction committed.
    func value() async throws(SwitchboardError) -> T {
        await writer.wait(for: request)
        return try outcome.get()
    }
}

/// The result of one write, set inside the batch.
fileprivate final class Outcome<T: Sendable>: @unchecked Sendable {
    // Unchecked: written on the writer queue before the request is marked finished under the
    // writer's mutex, read by the waiting task after it saw `finished`.
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
