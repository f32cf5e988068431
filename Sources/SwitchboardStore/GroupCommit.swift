import DequeModule
import GRDB
import Synchronization
import SwitchboardCore

/// Serializes writes in the order they are enqueued and commits concurrent ones together: a
/// lone write runs at once in its own transaction; writes enqueued while a transaction runs are
/// committed together in the next one (one sync for all), each inside its own savepoint so one
/// failing write does not undo the others. No background task: a waiting writer leads the next
/// batch.
///
/// Enqueueing is synchronous, so an actor that enqueues its changes before it suspends gets
/// them committed in the order it made them.
final class GroupCommitWriter: Sendable {
    /// The most writes committed in one transaction.
    static let maximumBatch = 512

    fileprivate enum Signal: Sendable {
        case done
        case lead
    }

    /// One write waiting to be committed.
    fileprivate final class Request: @unchecked Sendable {
        // Unchecked: `finished` and `waiter` are read and written only under the writer's state
        // mutex; `apply` and `finish` run on the batch leader, and the request's own task reads the
        // outcome only after `finished` was set under that mutex.
        let apply: (Database) -> Void
        let finish: (SwitchboardError?) -> Void
        var finished = false
        var waiter: CheckedContinuation<Signal, Never>?

        init(apply: @escaping (Database) -> Void, finish: @escaping (SwitchboardError?) -> Void) {
            self.apply = apply
            self.finish = finish
        }
    }

    fileprivate struct State {
        var running = false
        var pending = Deque<Request>()
    }

    private let writer: any DatabaseWriter
    fileprivate let state = Mutex(State())

    init(writer: any DatabaseWriter) {
        self.writer = writer
    }

    /// Queues `work` for the next transaction; await the ticket for its result.
    func enqueue<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) -> WriteTicket<T> {
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
                if outcome.error == nil, let commitError { outcome.error = commitError }
            }
        )
        state.withLock { $0.pending.append(request) }
        return WriteTicket(writer: self, request: request, outcome: outcome)
    }

    /// Runs `work` in a (possibly shared) transaction and returns its result once committed.
    func write<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws(SwitchboardError) -> T {
        try await enqueue(work).value()
    }

    /// Waits until `request` is committed, leading batches when nobody else does.
    fileprivate func wait(for request: Request) async {
        enum Action { case done, lead, wait }
        let action: Action = state.withLock { state in
            if request.finished { return .done }
            if !state.running {
                state.running = true
                return .lead
            }
            return .wait
        }
        switch action {
        case .done:
            return
        case .lead:
            await lead(until: request)
        case .wait:
            let signal = await withCheckedContinuation { (continuation: CheckedContinuation<Signal, Never>) in
                let immediate: Signal? = state.withLock { state in
                    if request.finished { return .done }
                    if !state.running {
                        state.running = true
                        return .lead
                    }
                    request.waiter = continuation
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
            if case .lead = signal { await lead(until: request) }
        }
    }

    private func lead(until own: Request) async {
        while true {
            let batch: [Request] = state.withLock { state in
                let count = min(state.pending.count, Self.maximumBatch)
                defer { state.pending.removeFirst(count) }
                return Array(state.pending.prefix(count))
            }
            if batch.isEmpty { break }
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
            let (waiters, ownDone) = state.withLock { _ -> ([CheckedContinuation<Signal, Never>], Bool) in
                var waiters: [CheckedContinuation<Signal, Never>] = []
                for request in batch {
                    request.finished = true
                    if let waiter = request.waiter {
                        waiters.append(waiter)
                        request.waiter = nil
                    }
                }
                return (waiters, own.finished)
            }
            for waiter in waiters { waiter.resume(returning: .done) }
            if ownDone { break }
        }
        // Hand the lead to the oldest write whose task waits, or stop.
        let next: CheckedContinuation<Signal, Never>? = state.withLock { state in
            if let request = state.pending.first(where: { $0.waiter != nil }) {
                let waiter = request.waiter
                request.waiter = nil
                return waiter
            }
            state.running = false
            return nil
        }
        next?.resume(returning: .lead)
    }
}

/// A write queued with ``GroupCommitWriter/enqueue(_:)``; its value is ready once committed.
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
    // Unchecked: written by the batch leader before the request is marked finished under the
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
