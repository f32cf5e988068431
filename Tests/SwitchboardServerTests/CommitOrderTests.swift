import Foundation
import Logging
import SwitchboardCore
import SwitchboardServer
import SwitchboardStore
import SwitchboardTestSupport
import Testing

/// The engine's changes reach the store in the order it decided them: a session is stored whole
/// on every change, so a later decision's row committed before an earlier one's would be
/// overwritten by the older row (found by the SIGKILL harness: a restart then read a session whose
/// last sequence was behind its transcript, and gave the next message a sequence already taken).
@Suite("Commit order")
struct CommitOrderTests {
    @Test("many concurrent changes to one session: the stored row is the last decided")
    func lastDecisionWins() async throws {
        var logger = Logger(label: "switchboard.test")
        logger.logLevel = .critical
        let backend = try await TestStores.open(temporaryDatabasePath(), clock: SystemWallClock(), logger: logger)
        let store = backend.catalog
        defer { store.close() }
        let engine = try await SwitchboardEngine(store: store, logger: logger)
        let session = try await engine.createSession(userID: "u-1", channel: "", attributes: [:])
        for round in 0..<5 {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<100 {
                    group.addTask { _ = try await engine.userMessage(sessionID: session.id, text: "message \(round)-\(index)") }
                }
                try await group.waitForAll()
            }
            let stored = try await store.session(id: session.id)
            let last = try await store.messages(sessionID: session.id, after: 0, limit: 1000).messages.last
            #expect(stored.lastSequence == last?.sequence, "round \(round)")
            let events = try await store.events(of: .session(session.id), after: 0, limit: 10_000)
            #expect(stored.lastEventSequence == events.last?.sequence, "round \(round)")
        }
        await backend.shutdown()
    }
}
