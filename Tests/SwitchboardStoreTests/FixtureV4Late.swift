import Foundation
import SwitchboardCore
import SwitchboardStore

/// What `Fixtures/v4-2199811.sqlite` holds: ``FixtureV4``'s contents and a session closed for
/// staying idle with the bot (close reason code 5, which commit 2199811 added), written by the
/// store of that commit (schema v4, the last before `v5-drop-unused-session-indexes`) through
/// its public API.
///
/// Frozen with the file: change neither.
enum FixtureV4Late {
    static let botIdle: SessionRecord = {
        var session = SessionRecord(id: "s-bot-idle", userID: "u-9", channel: "web", attributes: ["lang": "fr"], createdAt: FixtureV4.at(108))
        session.state = .closed
        session.closeReason = .botIdle
        session.closedAt = FixtureV4.at(3708)
        session.lastSequence = 1
        return session
    }()

    static let botIdleWelcome = TranscriptMessage(
        sessionID: "s-bot-idle", sequence: 1, sender: .system(.welcome), text: "Bonjour", createdAt: FixtureV4.at(108)
    )

    static func write(to store: SQLiteStore, clock: ManualClock) async throws {
        try await FixtureV4.write(to: store, clock: clock)
        clock.set(FixtureV4.at(3708))
        try await store.enqueue([.session(botIdle), .message(botIdleWelcome)], checked: true).committed()
    }
}
