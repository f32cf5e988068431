import Foundation
import SwitchboardCore
import SwitchboardStore
import Testing

/// What `Fixtures/v4.sqlite` holds: written by the store of schema v4 (migrations through
/// `v4-api-keys`, commit a3afe47) through its public API, read back by ``StoreFixtureTests``.
///
/// Frozen with the file: change neither. A later schema gets a fixture of its own (see
/// `Fixtures/README.md`).
enum FixtureV4 {
    /// The time everything is based on (2026-09-21).
    static let base = Timestamp(milliseconds: 1_790_000_000_000)

    static func at(_ seconds: Int64) -> Timestamp {
        Timestamp(milliseconds: base.milliseconds + seconds * 1000)
    }

    /// A time at which the rating window of `closedRatingOpen` is open and that of the others shut.
    static let loadTime = at(7200)

    static let migrations = ["v1-settings-agents-groups", "v2-sessions-messages", "v3-events", "v4-api-keys"]

    /// Two updates: the first document is replaced.
    static let firstSettingsDocument: [UInt8] = [0x0A, 0x03, 0x01, 0x02, 0x03]
    /// The store keeps the document opaque; these bytes include 0x00 and 0xFF to pin blob storage.
    static let settingsDocument: [UInt8] = [0x08, 0x96, 0x01, 0x12, 0x04, 0x00, 0xFF, 0x7F, 0x80]
    static let settings = StoredSettings(version: 2, document: settingsDocument, updatedAt: at(2))

    static let groups = [
        AgentGroup(id: "billing", name: "Billing", memberCount: 2, createdAt: at(10)),
        AgentGroup(id: "empty", name: "Nobody here", memberCount: 0, createdAt: at(12)),
        AgentGroup(id: "sales", name: "Ventes & Co ✓", memberCount: 1, createdAt: at(11)),
    ]

    /// Agents by id with their groups; `lastAssignedAt` and `lastEventSequence` as `loadState` reports them.
    static let agents: [(profile: AgentProfile, lastAssignedAt: Timestamp, lastEventSequence: Int64)] = [
        (
            AgentProfile(
                id: "alice", displayName: "Alice Ärger", maxSessions: 3, status: .online, groupIDs: ["billing", "sales"],
                statusChangedAt: at(40), createdAt: at(20)
            ),
            at(300), 2
        ),
        (
            AgentProfile(
                id: "bob", displayName: "Bob", maxSessions: nil, status: .onBreak, groupIDs: ["billing"],
                statusChangedAt: at(41), createdAt: at(21)
            ),
            at(200), 1
        ),
        (
            AgentProfile(
                id: "carol", displayName: "Carol \"CJ\" Jones", maxSessions: 1, status: .offline, groupIDs: [],
                statusChangedAt: at(22), createdAt: at(22)
            ),
            Timestamp(milliseconds: 0), 0
        ),
        (
            AgentProfile(
                id: "dave", displayName: "Dave", maxSessions: 0, status: .online, groupIDs: [],
                statusChangedAt: at(42), createdAt: at(23)
            ),
            Timestamp(milliseconds: 0), 0
        ),
    ]

    static let memberships: [(groupID: String, agentID: String)] = [("billing", "alice"), ("sales", "alice"), ("billing", "bob")]

    static let bot: SessionRecord = {
        var session = SessionRecord(id: "s-bot", userID: "u-1", channel: "web", attributes: ["lang": "de", "tier": "vip"], createdAt: at(100))
        session.userTimeoutAt = at(700)
        session.lastSequence = 2
        session.lastEventSequence = 1
        return session
    }()

    static let queued: SessionRecord = {
        var session = SessionRecord(
            id: "s-queued", userID: "u-2", channel: "app",
            attributes: ["quote\"key": "line\nbreak \u{1} ✓ \\ end", "empty": ""], createdAt: at(101)
        )
        session.state = .queued
        session.target = .group("billing")
        session.queueTicket = 5
        session.missedAgents = ["bob", "dave"]
        session.userTimeoutAt = at(701)
        session.nextQueueMessageAt = at(160)
        session.lastQueueMessagePosition = 2
        session.lastSequence = 2
        session.lastEventSequence = 2
        return session
    }()

    static let offered: SessionRecord = {
        var session = SessionRecord(id: "s-offered", userID: "u-3", channel: "web", attributes: [:], createdAt: at(102))
        session.state = .offered
        session.target = .agents(["alice", "bob"])
        session.agentID = "alice"
        session.queueTicket = 6
        session.offerDeadline = at(132)
        session.userTimeoutAt = at(702)
        return session
    }()

    static let active: SessionRecord = {
        var session = SessionRecord(id: "s-active", userID: "u-4", channel: "", attributes: ["order": "A-17"], createdAt: at(103))
        session.state = .active
        session.target = .anyAgent
        session.agentID = "alice"
        session.queueTicket = 7
        session.userTimeoutAt = at(703)
        session.lastSequence = 3
        session.lastEventSequence = 1
        return session
    }()

    static let closedRated: SessionRecord = {
        var session = SessionRecord(id: "s-rated", userID: "u-5", channel: "web", attributes: [:], createdAt: at(104))
        session.state = .closed
        session.target = .group("sales")
        session.agentID = "bob"
        session.queueTicket = 3
        session.closeReason = .userEnded
        session.closedAt = at(400)
        session.ratingDeadline = at(1000)
        session.rating = SessionRatingRecord(score: 4, comment: "quick and kind ✓", submittedAt: at(450))
        session.lastSequence = 4
        session.lastEventSequence = 2
        return session
    }()

    /// Closed, not rated yet, its rating window still open at ``loadTime``.
    static let closedRatingOpen: SessionRecord = {
        var session = SessionRecord(id: "s-rating-open", userID: "u-6", channel: "app", attributes: [:], createdAt: at(105))
        session.state = .closed
        session.target = .anyAgent
        session.agentID = "alice"
        session.closeReason = .agentEnded
        session.closedAt = at(3600)
        session.ratingDeadline = at(86_400)
        session.lastSequence = 1
        return session
    }()

    static let closedTimeout: SessionRecord = {
        var session = SessionRecord(id: "s-timeout", userID: "u-7", channel: "web", attributes: [:], createdAt: at(106))
        session.state = .closed
        session.closeReason = .userTimeout
        session.closedAt = at(706)
        session.lastSequence = 1
        return session
    }()

    static let closedAdmin: SessionRecord = {
        var session = SessionRecord(id: "s-admin", userID: "u-8", channel: "web", attributes: [:], createdAt: at(107))
        session.state = .closed
        session.target = .group("billing")
        session.queueTicket = 4
        session.missedAgents = ["alice"]
        session.closeReason = .admin
        session.closedAt = at(500)
        session.ratingDeadline = at(600)
        return session
    }()

    static let sessions = [bot, queued, offered, active, closedRated, closedRatingOpen, closedTimeout, closedAdmin]

    static func message(_ session: String, _ sequence: Int64, _ sender: Sender, _ text: String, _ seconds: Int64) -> TranscriptMessage {
        TranscriptMessage(sessionID: session, sequence: sequence, sender: sender, text: text, createdAt: at(seconds))
    }

    /// Every prompt kind appears once, so their stored codes are pinned.
    static let messages = [
        message("s-bot", 1, .system(.welcome), "Welcome!", 100),
        message("s-bot", 2, .user, "Hallo, ich brauche Hilfe ✓", 101),
        message("s-queued", 1, .system(.afterHours), "We are closed", 101),
        message("s-queued", 2, .system(.queue), "You are number 2", 150),
        message("s-active", 1, .system(.manualAccessInProgress), "Connecting…", 103),
        message("s-active", 2, .system(.transferSucceeded), "Alice is here", 104),
        message("s-active", 3, .agent("alice"), "How can I help?\nAsk away.", 105),
        message("s-rated", 1, .system(.transferFailed), "Nobody free", 104),
        message("s-rated", 2, .agent("bob"), "Hi", 110),
        message("s-rated", 3, .system(.ratingInvitation), "Rate us", 400),
        message("s-rated", 4, .system(.ratingSubmitted), "Thanks", 450),
        message("s-rating-open", 1, .system(.proactiveClosure), "Closed by agent", 3600),
        message("s-timeout", 1, .system(.timeoutClosure), "", 706),
    ]

    static let sessionEvents: [(owner: EventOwner, event: StoredEvent)] = [
        (.session("s-bot"), StoredEvent(sequence: 1, createdAt: at(100), payload: [0x08, 0x01])),
        (.session("s-queued"), StoredEvent(sequence: 1, createdAt: at(101), payload: [0x08, 0x01])),
        (.session("s-queued"), StoredEvent(sequence: 2, createdAt: at(102), payload: [0x08, 0x02, 0x12, 0x00, 0xFF])),
        (.session("s-active"), StoredEvent(sequence: 1, createdAt: at(104), payload: [])),
        (.session("s-rated"), StoredEvent(sequence: 1, createdAt: at(110), payload: [0x01])),
        (.session("s-rated"), StoredEvent(sequence: 2, createdAt: at(400), payload: Array(repeating: 0xAB, count: 300))),
    ]

    static let agentEvents: [(owner: EventOwner, event: StoredEvent)] = [
        (.agent("alice"), StoredEvent(sequence: 1, createdAt: at(40), payload: [0x10, 0x01])),
        (.agent("alice"), StoredEvent(sequence: 2, createdAt: at(300), payload: [0x10, 0x02, 0x00])),
        (.agent("bob"), StoredEvent(sequence: 1, createdAt: at(41), payload: [0x10, 0x03])),
    ]

    /// By creation time, as `apiKeys()` lists them; the gateway key was revoked at `at(60)`.
    static let apiKeys = [
        APIKeyRecord(
            id: "0123456789ab", role: .admin, agentID: nil, secretHash: Array(0..<32), description: "ops laptop",
            createdAt: at(30)
        ),
        APIKeyRecord(
            id: "aaaabbbbcccc", role: .agent, agentID: "alice", secretHash: Array(repeating: 0xFF, count: 32),
            description: "alice's desk", createdAt: at(31)
        ),
        APIKeyRecord(
            id: "ba9876543210", role: .gateway, agentID: nil, secretHash: [0x00, 0x01, 0x00], description: "",
            createdAt: at(32), revokedAt: at(60)
        ),
    ]

    /// Writes the fixture's contents into an empty store, through the public API only.
    static func write(to store: SQLiteStore, clock: ManualClock) async throws {
        clock.set(at(1))
        _ = try await store.replaceSettings(firstSettingsDocument, expectedVersion: 0)
        clock.set(at(2))
        _ = try await store.replaceSettings(settingsDocument, expectedVersion: 1)
        for group in groups {
            try await store.enqueue([.insertGroup(AgentGroup(id: group.id, name: group.name, memberCount: 0, createdAt: group.createdAt))]).committed()
        }
        for (profile, lastAssignedAt, _) in agents {
            var created = profile
            created.groupIDs = []
            created.status = .offline
            created.statusChangedAt = profile.createdAt
            try await store.enqueue([
                .insertAgent(created),
                .agentState(id: profile.id, status: profile.status, statusChangedAt: profile.statusChangedAt, lastAssignedAt: lastAssignedAt),
            ]).committed()
        }
        try await store.enqueue(memberships.map { .addMember(groupID: $0.groupID, agentID: $0.agentID) }).committed()
        for key in apiKeys {
            var created = key
            created.revokedAt = nil
            try await store.insertAPIKey(created)
            if let revokedAt = key.revokedAt {
                clock.set(revokedAt)
                try await store.revokeAPIKey(id: key.id)
            }
        }
        // Sessions stored twice, as the engine does: a first version, then the final one.
        for session in sessions {
            try await store.enqueue([.session(SessionRecord(id: session.id, userID: session.userID, channel: session.channel, attributes: [:], createdAt: session.createdAt))]).committed()
        }
        try await store.enqueue(
            sessions.map { .session($0) } + messages.map { .message($0) } + (sessionEvents + agentEvents).map { .event($0.owner, $0.event) },
            checked: true
        ).committed()
    }
}

extension ManualClock {
    func set(_ time: Timestamp) { advance(time.milliseconds - now().milliseconds) }
}

/// Writes a fixture database when `SWITCHBOARD_MAKE_FIXTURE` names the file to create; see `Fixtures/README.md`.
@Suite("Fixture maker")
struct FixtureMaker {
    @Test(
        "writes the v4 fixture", .enabled(if: ProcessInfo.processInfo.environment["SWITCHBOARD_MAKE_FIXTURE"] != nil)
    )
    func makeV4() async throws {
        let path = try #require(ProcessInfo.processInfo.environment["SWITCHBOARD_MAKE_FIXTURE"])
        try #require(!FileManager.default.fileExists(atPath: path), "refusing to overwrite \(path)")
        let clock = ManualClock()
        let store = try SQLiteStore(location: .file(path), clock: clock)
        let set = ProcessInfo.processInfo.environment["SWITCHBOARD_FIXTURE_SET"]
        // The v5 set is made by a store of schema v5 (the last before tenants).
        #expect(try await store.appliedMigrations() == (set == "v5" ? FixtureV5.migrations : FixtureV4.migrations))
        // SWITCHBOARD_FIXTURE_SET=v4-2199811 (or v5) writes FixtureV4Late's contents instead.
        if set == "v4-2199811" || set == "v5" {
            try await FixtureV4Late.write(to: store, clock: clock)
        } else {
            try await FixtureV4.write(to: store, clock: clock)
        }
        store.close()
    }
}
