import NIOCore

/// Where a connection reads the time its timeouts are measured against.
///
/// A connection handler takes one from outside, so a test drives its state machine with a clock
/// it advances by hand (a 10-minute idle timeout takes no time at all); servers use
/// ``SystemConnectionClock``. The instants are `NIODeadline`s, what an event loop schedules at.
protocol ConnectionClock: Sendable {
    /// The current instant.
    func now() -> NIODeadline
}

/// The monotonic clock event loops schedule by: `NIODeadline.now()`.
struct SystemConnectionClock: ConnectionClock {
    /// Creates the system clock.
    init() {}

    /// The current instant of the monotonic clock.
    func now() -> NIODeadline {
        .now()
    }
}
