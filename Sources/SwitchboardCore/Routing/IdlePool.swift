import HeapModule

/// The agents free to serve, longest idle first (by idle-since time, then id), for all agents and
/// per group, and how many agents are `ONLINE` overall and per group. Heaps keep stale entries
/// (an agent that changed since it was pushed); they are skipped when met and rebuilt when they
/// grow past a bound.
struct IdlePool: Sendable {
    enum Key: Hashable, Sendable {
        case all
        case group(String)

        func contains(_ agent: AgentRuntime) -> Bool {
            switch self {
            case .all: true
            case .group(let id): agent.groupIDs.contains(id)
            }
        }
    }

    /// An agent's place in a longest-idle heap.
    typealias Entry = AgentRuntime.IdleKey

    private var heaps: [Key: Heap<Entry>] = [:]
    private var online: [Key: Int] = [:]

    /// Offers an available agent (online, with room) to the heaps of its keys. Returns the keys
    /// whose heap holds more than `bound` entries (mostly stale): the owner rebuilds them.
    mutating func push(_ agent: AgentRuntime, bound: Int) -> [Key] {
        let entry = agent.idleKey
        var overgrown: [Key] = []
        for key in [Key.all] + agent.groupIDs.map({ .group($0) }) {
            var heap = heaps.removeValue(forKey: key) ?? Heap()
            heap.insert(entry)
            if heap.count > bound { overgrown.append(key) }
            heaps[key] = heap
        }
        return overgrown
    }

    /// Replaces a key's heap with the given available agents.
    mutating func rebuild(_ key: Key, from available: [AgentRuntime]) {
        heaps[key] = Heap(available.map(\.idleKey))
    }

    /// The longest-idle current entry of `key` for which `isCandidate` holds, skipping `missed`
    /// agents (kept) and dropping stale entries (`isCurrent` false).
    mutating func best(
        _ key: Key, excluding missed: [String], isCurrent: (Entry) -> Bool
    ) -> String? {
        guard var heap = heaps.removeValue(forKey: key) else { return nil }
        defer { heaps[key] = heap }
        var skipped: [Entry] = []
        defer { for entry in skipped { heap.insert(entry) } }
        while let entry = heap.min {
            guard isCurrent(entry) else {
                _ = heap.removeMin()  // stale
                continue
            }
            if missed.contains(entry.agentID) {
                skipped.append(heap.removeMin())
                continue
            }
            return entry.agentID
        }
        return nil
    }

    /// Drops a group's heap and count.
    mutating func removeGroup(_ id: String) {
        heaps[.group(id)] = nil
        online[.group(id)] = nil
    }

    /// Counts an agent going online (+1) or leaving it (-1) for all and for its groups.
    mutating func countOnline(_ agent: AgentRuntime, _ delta: Int) {
        online[.all, default: 0] += delta
        for group in agent.groupIDs { online[.group(group), default: 0] += delta }
    }

    /// Counts one online agent joining (+1) or leaving (-1) a group.
    mutating func countOnline(group: String, _ delta: Int) {
        online[.group(group), default: 0] += delta
    }

    /// How many agents are online, for all or in a group.
    func onlineCount(_ key: Key) -> Int { online[key] ?? 0 }
}
