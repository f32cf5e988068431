import SwitchboardCore
import SwitchboardStore

/// Sends an owner's events after a sequence number: stored ones, then live ones, each exactly once
/// and in order. The live feed is subscribed before the store is read, so nothing falls between
/// the two; a gap in the live feed (a slow watcher's buffer overflowed) is filled from the store.
enum EventStreaming {
    static let page = 500

    static func stream(
        _ owner: EventOwner, after sequence: Int64, hub: EventHub, store: SwitchboardStore,
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
        for await event in live {
            try Task.checkCancellation()
            if event.sequence <= last { continue }
            if event.sequence > last + 1 { try await catchUp(through: event.sequence - 1) }
            if event.sequence == last + 1 {
                try await send(event.payload)
                last = event.sequence
            }
        }
    }
}
