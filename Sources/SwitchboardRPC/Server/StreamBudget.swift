import Synchronization

/// A server-wide count of open server-streaming calls (watchers), against a limit.
public final class StreamBudget: Sendable {
    /// How many streams may be open at once.
    public let limit: Int
    private let used = Atomic<Int>(0)

    /// Creates a budget of `limit` streams.
    public init(limit: Int) {
        self.limit = limit
    }

    /// Takes one stream; `false` when all are taken.
    func acquire() -> Bool {
        var current = used.load(ordering: .relaxed)
        while current < limit {
            let (exchanged, original) = used.compareExchange(
                expected: current, desired: current + 1, ordering: .relaxed
            )
            if exchanged { return true }
            current = original
        }
        return false
    }

    /// Gives one stream back.
    func release() {
        used.subtract(1, ordering: .relaxed)
    }

    /// How many streams are open.
    public var inUse: Int {
        used.load(ordering: .relaxed)
    }
}
