public import SwitchboardCore
import Synchronization

/// A wall clock the test moves by hand.
public final class ManualClock: WallClock {
    private let current: Mutex<Timestamp>

    /// Starts at `start` (default Monday 2026-11-30 10:00 UTC).
    public init(start: Timestamp = Timestamp(milliseconds: 1_796_032_800_000)) {
        current = Mutex(start)
    }

    public func now() -> Timestamp { current.withLock { $0 } }

    /// Moves the clock forward.
    public func advance(_ duration: Duration) {
        current.withLock { $0 = $0.adding(duration) }
    }
}
