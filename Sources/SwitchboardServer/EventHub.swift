import Synchronization
public import SwitchboardStore

/// Delivers committed events to live watchers. Each watcher has a bounded buffer: a watcher that
/// falls behind loses live events from its buffer (never the server's time) and catches up from
/// the store, where every event already is before it is published. An owner that is finished (a
/// session to which nothing more can happen) gets an end mark: its watchers stop after its last
/// event.
public final class EventHub: Sendable {
    /// What a watcher receives.
    enum Item: Sendable {
        /// A committed event.
        case event(StoredEvent)
        /// Nothing more will come after the event with this sequence number.
        case end(after: Int64)
    }

    /// Live events buffered per watcher before the oldest are dropped.
    public static let bufferSize = 256

    private struct State {
        var nextToken = 0
        var watchers: [EventOwner: [Int: AsyncStream<Item>.Continuation]] = [:]
    }

    private let state = Mutex(State())

    /// Creates an empty hub.
    public init() {}

    /// A live feed of `owner`'s events from now on, and the token to stop it.
    func subscribe(_ owner: EventOwner) -> (token: Int, events: AsyncStream<Item>) {
        let (events, continuation) = AsyncStream<Item>.makeStream(bufferingPolicy: .bufferingNewest(Self.bufferSize))
        let token = state.withLock { state in
            let token = state.nextToken
            state.nextToken += 1
            state.watchers[owner, default: [:]][token] = continuation
            return token
        }
        return (token, events)
    }

    /// Stops a feed.
    func unsubscribe(_ owner: EventOwner, token: Int) {
        let continuation = state.withLock { state in
            let continuation = state.watchers[owner]?.removeValue(forKey: token)
            if state.watchers[owner]?.isEmpty == true { state.watchers[owner] = nil }
            return continuation
        }
        continuation?.finish()
    }

    /// Hands committed events to their watchers.
    func publish(_ events: [(EventOwner, StoredEvent)]) {
        guard !events.isEmpty else { return }
        let deliveries: [(AsyncStream<Item>.Continuation, StoredEvent)] = state.withLock { state in
            events.flatMap { owner, event in (state.watchers[owner]?.values).map { $0.map { ($0, event) } } ?? [] }
        }
        for (continuation, event) in deliveries { continuation.yield(.event(event)) }
    }

    /// Tells `owner`'s watchers that nothing comes after the event numbered `last`. (Buffers keep
    /// the newest items, so the mark is never the one dropped.)
    func finish(_ owner: EventOwner, after last: Int64) {
        let continuations = state.withLock { state in state.watchers[owner].map { Array($0.values) } ?? [] }
        for continuation in continuations { continuation.yield(.end(after: last)) }
    }

    /// Ends every live feed (its tenant is deleted): their streams end with an error.
    func finishAll() {
        let continuations = state.withLock { state in
            defer { state.watchers = [:] }
            return state.watchers.values.flatMap(\.values)
        }
        for continuation in continuations { continuation.finish() }
    }

    /// How many watchers are live.
    public var watcherCount: Int {
        state.withLock { $0.watchers.values.reduce(0) { $0 + $1.count } }
    }
}
