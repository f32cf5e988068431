import NIOCore

extension ServerConnectionStateMachine {
    /// The idle timeout: a connection on which nothing was read for `timeout` is idle.
    ///
    /// Rather than re-arming a timer on every read, the timer fires at the last read plus the
    /// timeout and is moved on if a read came in between (as NIO's `IdleStateHandler` does).
    struct IdleTimer {
        let timeout: TimeAmount
        private var lastRead: NIODeadline
        private var reading = false

        init(timeout: TimeAmount, now: NIODeadline) {
            self.timeout = timeout
            self.lastRead = now
        }

        /// When the first check is due.
        var firstDeadline: NIODeadline { lastRead + timeout }

        mutating func readStarted() {
            reading = true
        }

        mutating func readCompleted(now: NIODeadline) {
            reading = false
            lastRead = now
        }

        enum Verdict: Equatable {
            case idle
            /// Not idle (yet): check again at this instant.
            case checkAgain(at: NIODeadline)
        }

        /// The timer fired at `now`.
        func fired(now: NIODeadline) -> Verdict {
            if reading { return .checkAgain(at: now + timeout) }
            let deadline = lastRead + timeout
            return now >= deadline ? .idle : .checkAgain(at: deadline)
        }
    }

    /// The slow-frame timeout: a frame must arrive whole within `timeout` of its first byte (or
    /// of the end of the frame before it, when both came in the same read).
    struct FrameTimer {
        let timeout: TimeAmount
        /// When the frame now arriving must be whole; `nil` when none has begun.
        private(set) var deadline: NIODeadline?

        init(timeout: TimeAmount) {
            self.timeout = timeout
        }

        enum Change: Equatable {
            case none
            /// (Re)arm the timer at this instant, replacing any armed one.
            case arm(at: NIODeadline)
            case cancel
        }

        /// Bytes were decoded at `now`: `completedFrame` when at least one frame became whole,
        /// `midFrame` when a frame has begun and is not whole yet.
        mutating func decoded(midFrame: Bool, completedFrame: Bool, now: NIODeadline) -> Change {
            if midFrame {
                // The clock of a frame starts with its first byte; more bytes do not reset it.
                guard deadline == nil || completedFrame else { return .none }
                let deadline = now + timeout
                self.deadline = deadline
                return .arm(at: deadline)
            }
            guard deadline != nil else { return .none }
            deadline = nil
            return .cancel
        }

        /// The timer fired at `now`: `true` when the frame is late.
        func isLate(now: NIODeadline) -> Bool {
            guard let deadline else { return false }
            return now >= deadline
        }
    }
}
