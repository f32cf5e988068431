import SwitchboardCore
import SwitchboardStore

/// Sends an owner's events after a sequence number: stored ones, then live ones, each exactly once
/// and in order. The live feed is subscribed before the store is read, so nothing falls between
/// the two; a gap in the live feed (a slow watcher's buffer overflowed) is filled from the store.
enum EventStreaming {
    static let page = 500

    /// Streams `owner`'s events after `sequence` until the caller goes away or, for an owner that
    /// finishes, its last event: `finalSequence` says whether it finished already (asked once the
    /// live feed is subscribed, so the end mark cannot fall in between).
    static func stream(
        _ owner: EventOwner, after sequence: Int64, hub: EventHub, store: any SwitchboardStore,
        finalSequence: () async throws -> Int64? = { nil },
        send: (_ payload: [UInt8]) async throws -> Void
    ) async throws {
        let (token, live) = hub.subscribe(owner)
        defer { hub.unsubscribe(owner, token: token) }
        var last = sequence
        func catchUp(through end: Int64?) async throws {
            while end.map({ last < $0 }) ?? true {
                let events = try await store.events(of: owner, after: last, limit: page)
                for event in events where end.map({ event.sequence <= $0 }) ?? true {
                    try await send(event.payload)
                    last = event.sequence
                }
                if events.count < page { return }
            }
        }
        try await catchUp(through: nil)
        if let final = try await finalSequence() {
            try await catchUp(through: final)
            return
        }
        for await item in live {
            try Task.checkCancellation()
            switch item {
            case .event(let event):
                if event.sequence <= last { continue }
                if event.sequence > last + 1 { try await catchUp(through: event.sequence - 1) }
                if event.sequence == last + 1 {
                    try await send(event.payload)
                    last = event.sequence
                }
            case .end(let final):
                try await catchUp(through: final)
                return
            }
        }
        // The feed ends only when the hub ends them all: the tenant was deleted.
        try Task.checkCancellation()
        throw SwitchboardError(.notFound, "the event stream ended: its tenant was deleted")
    }
}
