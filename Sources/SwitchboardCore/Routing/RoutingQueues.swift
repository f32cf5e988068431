import DequeModule

/// The sessions waiting for an agent: one FIFO queue per routing target, ordered by ticket (the
/// time the user asked, kept when an offer is lost), with the total across targets.
struct RoutingQueues: Sendable {
    struct Entry: Sendable {
        let ticket: Int64
        let sessionID: String
    }

    private var queues: [RoutingTarget: Deque<Entry>] = [:]
    /// How many sessions wait, for all targets.
    private(set) var count = 0

    // Queues are taken out of their dictionary while changed, so the change happens in place
    // instead of copying a structure the dictionary still references.

    /// Puts a session at its ticket's place in its target's queue.
    mutating func insert(_ session: SessionRecord) {
        guard let target = session.target, let ticket = session.queueTicket else { return }
        var queue = queues.removeValue(forKey: target) ?? Deque()
        if let last = queue.last, last.ticket > ticket {
            queue.insert(Entry(ticket: ticket, sessionID: session.id), at: Self.insertionIndex(in: queue, of: ticket))
        } else {
            queue.append(Entry(ticket: ticket, sessionID: session.id))
        }
        queues[target] = queue
        count += 1
    }

    /// Takes a session out of its target's queue.
    mutating func remove(_ session: SessionRecord) {
        guard let target = session.target, let ticket = session.queueTicket, var queue = queues.removeValue(forKey: target) else { return }
        defer { if !queue.isEmpty { queues[target] = queue } }
        guard let index = Self.index(in: queue, of: ticket) else { return }
        queue.remove(at: index)
        count -= 1
    }

    /// Empties a target's queue, returning its sessions in order.
    mutating func removeAll(of target: RoutingTarget) -> [String] {
        let entries = queues.removeValue(forKey: target) ?? []
        count -= entries.count
        return entries.map(\.sessionID)
    }

    /// A queued session's (position, ahead) within its target's queue.
    func position(of session: SessionRecord) -> (position: Int, ahead: Int)? {
        guard let target = session.target, let ticket = session.queueTicket, let queue = queues[target],
            let index = Self.index(in: queue, of: ticket)
        else { return nil }
        return (index + 1, index)
    }

    /// The targets that have a queue.
    var targets: Dictionary<RoutingTarget, Deque<Entry>>.Keys { queues.keys }

    /// A target's queue, oldest first.
    subscript(target: RoutingTarget) -> Deque<Entry>? { queues[target] }

    private static func insertionIndex(in queue: Deque<Entry>, of ticket: Int64) -> Int {
        var low = 0
        var high = queue.count
        while low < high {
            let middle = (low + high) / 2
            if queue[middle].ticket < ticket { low = middle + 1 } else { high = middle }
        }
        return low
    }

    private static func index(in queue: Deque<Entry>, of ticket: Int64) -> Int? {
        let index = insertionIndex(in: queue, of: ticket)
        return index < queue.count && queue[index].ticket == ticket ? index : nil
    }
}
