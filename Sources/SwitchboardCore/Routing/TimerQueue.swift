import HeapModule

/// The routing core's pending deadlines, earliest first. Entries are never removed when their
/// cause goes away (an offer accepted, a message answered): they are checked against the session
/// when due, and dropped when stale.
struct TimerQueue: Sendable {
    /// What a deadline is for.
    enum Kind: Int, Sendable {
        /// An offer not accepted in time (manual mode).
        case offer
        /// The user did not answer an agent in time.
        case userTimeout
        /// The queue message is due again.
        case queueMessage
        /// A session with the bot, untouched, closes.
        case botIdle
        /// A closed session's rating window ends: nothing more can happen to it.
        case ratingWindow
    }

    struct Entry: Comparable, Sendable {
        let deadline: Int64
        let kind: Kind
        let sessionID: String
        /// For a rating window: the closed session's last event (it is no longer in memory).
        var lastEventSequence: Int64 = 0

        static func < (lhs: Entry, rhs: Entry) -> Bool {
            (lhs.deadline, lhs.kind.rawValue, lhs.sessionID) < (rhs.deadline, rhs.kind.rawValue, rhs.sessionID)
        }
    }

    private var heap = Heap<Entry>()

    /// Adds a deadline.
    mutating func push(_ kind: Kind, _ deadline: Timestamp, _ sessionID: String) {
        heap.insert(Entry(deadline: deadline.milliseconds, kind: kind, sessionID: sessionID))
    }

    /// Remembers a closed session's open rating window (the session itself leaves memory).
    mutating func pushRatingWindow(of session: SessionRecord) {
        guard let deadline = session.ratingDeadline else { return }
        heap.insert(
            Entry(deadline: deadline.milliseconds, kind: .ratingWindow, sessionID: session.id, lastEventSequence: session.lastEventSequence)
        )
    }

    /// Adds the deadlines a loaded session has.
    mutating func schedule(_ session: SessionRecord) {
        if session.state == .offered, let deadline = session.offerDeadline { push(.offer, deadline, session.id) }
        if session.state == .active, let deadline = session.userTimeoutAt { push(.userTimeout, deadline, session.id) }
        if session.state == .queued, let deadline = session.nextQueueMessageAt { push(.queueMessage, deadline, session.id) }
        if session.state == .bot, let deadline = session.botIdleDeadline { push(.botIdle, deadline, session.id) }
    }

    /// The earliest current deadline; stale entries met on the way are dropped.
    mutating func nextDeadline(isCurrent: (Entry) -> Bool) -> Timestamp? {
        while let entry = heap.min {
            if isCurrent(entry) { return Timestamp(milliseconds: entry.deadline) }
            _ = heap.removeMin()
        }
        return nil
    }

    /// Takes the earliest entry due at `now`, current or not.
    mutating func popDue(at now: Timestamp) -> Entry? {
        guard let entry = heap.min, entry.deadline <= now.milliseconds else { return nil }
        return heap.removeMin()
    }
}
