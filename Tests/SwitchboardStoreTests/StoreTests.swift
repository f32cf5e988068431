import Foundation
import Logging
import Synchronization
import SwitchboardCore
@testable import SwitchboardStore
import SwitchboardTestSupport
import Testing

/// A clock the test moves by hand.
final class ManualClock: WallClock {
    private let current = Mutex(Timestamp(milliseconds: 1_790_000_000_000))
    func now() -> Timestamp { current.withLock { $0 } }
    func advance(_ milliseconds: Int64) { current.withLock { $0.milliseconds += milliseconds } }
    func advance(_ duration: Duration) { current.withLock { $0 = $0.adding(duration) } }
}

/// A fresh database file in a temporary folder.
func temporaryDatabase() -> String {
    FileManager.default.temporaryDirectory
        .appendingPathComponent("switchboard-store-\(UUID().uuidString)")
        .appendingPathComponent("switchboard.sqlite").path
}

/// The stores the conformance suite runs against: SQLite in a file and in memory, and
/// PostgreSQL (a private database of the test cluster; see `PostgresServer`).
enum Where: String, CaseIterable, Sendable {
    case file, memory, postgres

    /// A new, empty backend of this kind.
    func openBackend(_ clock: ManualClock) async throws -> any StoreBackend {
        switch self {
        case .file: return try await SQLiteBackend(location: .file(temporaryDatabase()), clock: clock)
        case .memory: return try await SQLiteBackend(location: .inMemory, clock: clock)
        case .postgres:
            // A small pool: the suite's stores stay open until the process ends.
            var location = try PostgresLocation(url: try await PostgresServer.shared().makeDatabase())
            location.poolSize = 2
            return try await PostgresBackend(location: location, clock: clock, logger: Logger(label: "test"))
        }
    }

    /// A new, empty store (the `default` tenant's) of this kind.
    func open(_ clock: ManualClock) async throws -> any SwitchboardStore {
        try await openBackend(clock).catalog
    }

    /// The migrations a new store of this kind has, sorted.
    var migrations: [String] {
        switch self {
        case .file, .memory:
            ["v1-settings-agents-groups", "v2-sessions-messages", "v3-events", "v4-api-keys", "v5-drop-unused-session-indexes", "v6-tenants", "v7-session-bot-idle-deadline"]
        case .postgres: ["pg-v1-schema"]
        }
    }
}

/// The store conformance suite: every test with `arguments: Where.allCases` runs against each
/// store, which must behave the same.
@Suite("Store")
struct StoreTests {
    @Test("migrations run from empty", arguments: Where.allCases)
    func migrations(place: Where) async throws {
        let store = try await place.open(ManualClock())
        #expect(try await store.appliedMigrations() == place.migrations)
        #expect(try await store.settings() == nil)
        #expect(try await store.agents(PageRequest()).items.isEmpty)
    }

    @Test("API keys: stored, listed, revoked; a taken id or an unknown one is an error", arguments: Where.allCases)
    func apiKeys(place: Where) async throws {
        let clock = ManualClock()
        let store = try await place.open(clock)
        let key = APIKeyRecord(
            id: "0123456789ab", role: .agent, agentID: "alice", secretHash: Array(repeating: 7, count: 32),
            description: "desk", createdAt: clock.now()
        )
        try await store.insertAPIKey(key)
        let gateway = APIKeyRecord(id: "ba9876543210", role: .gateway, agentID: nil, secretHash: [1, 2], description: "", createdAt: clock.now())
        try await store.insertAPIKey(gateway)
        #expect(try await store.apiKeys() == [key, gateway])
        await #expect(throws: SwitchboardError(.alreadyExists, "API key '0123456789ab' already exists")) {
            try await store.insertAPIKey(key)
        }
        clock.advance(1000)
        try await store.revokeAPIKey(id: key.id)
        clock.advance(1000)
        try await store.revokeAPIKey(id: key.id)  // keeps the first revocation time
        var revoked = key
        revoked.revokedAt = Timestamp(milliseconds: key.createdAt.milliseconds + 1000)
        #expect(try await store.apiKeys() == [revoked, gateway])
        await #expect(throws: SwitchboardError(.notFound, "API key 'ffffffffffff' not found")) {
            try await store.revokeAPIKey(id: "ffffffffffff")
        }
    }

    @Test("settings round-trip with versions and compare-and-swap", arguments: Where.allCases)
    func settings(place: Where) async throws {
        let clock = ManualClock()
        let store = try await place.open(clock)
        let first = try await store.replaceSettings([1, 2, 3], expectedVersion: 0)
        #expect(first.version == 1)
        clock.advance(1000)
        let second = try await store.replaceSettings([4, 5], expectedVersion: 1)
        #expect(second == StoredSettings(version: 2, document: [4, 5], updatedAt: clock.now()))
        #expect(try await store.settings() == second)
        await #expect(throws: SwitchboardError(.aborted, "the settings changed since version 1 was read (now version 2); read them again and retry")) {
            _ = try await store.replaceSettings([9], expectedVersion: 1)
        }
        #expect(try await store.settings()?.document == [4, 5])
    }

    static func agent(_ id: String, at time: Timestamp, limit: Int? = nil) -> AgentProfile {
        AgentProfile(id: id, displayName: id.capitalized, maxSessions: limit, status: .offline, groupIDs: [], statusChangedAt: time, createdAt: time)
    }

    @Test("every agent and group field round-trips", arguments: Where.allCases)
    func agentsAndGroups(place: Where) async throws {
        let clock = ManualClock()
        let store = try await place.open(clock)
        let created = Self.agent("alice", at: clock.now(), limit: 3)
        try await store.enqueue([.insertAgent(created)]).committed()
        #expect(try await store.agent(id: "alice") == created)
        clock.advance(5)
        try await store.enqueue([
            .agentState(id: "alice", status: .online, statusChangedAt: clock.now(), lastAssignedAt: Timestamp(milliseconds: 42)),
            .updateAgent(id: "alice", displayName: "Alice B.", maxSessions: nil),
            .insertGroup(AgentGroup(id: "billing", name: "Billing", memberCount: 0, createdAt: clock.now())),
            .addMember(groupID: "billing", agentID: "alice"),
        ]).committed()
        let updated = try await store.agent(id: "alice")
        #expect(updated.status == .online && updated.statusChangedAt == clock.now())
        #expect(updated.displayName == "Alice B." && updated.maxSessions == nil && updated.groupIDs == ["billing"])
        #expect(try await store.group(id: "billing").memberCount == 1)
        #expect(try await store.groupAgents(groupID: "billing", PageRequest()).items.map(\.id) == ["alice"])
        let loaded = try await store.loadState(now: clock.now())
        #expect(loaded.agents.map(\.lastAssignedAt) == [Timestamp(milliseconds: 42)])
        try await store.enqueue([.renameGroup(id: "billing", name: "Payments"), .removeMember(groupID: "billing", agentID: "alice")]).committed()
        #expect(try await store.group(id: "billing").name == "Payments")
        #expect(try await store.agent(id: "alice").groupIDs.isEmpty)
        try await store.enqueue([.addMember(groupID: "billing", agentID: "alice"), .deleteGroup("billing")]).committed()
        #expect(try await store.agent(id: "alice").groupIDs.isEmpty, "deleting a group removes its memberships")
        try await store.enqueue([.deleteAgent("alice")]).committed()
        await #expect(throws: SwitchboardError(.notFound, "agent 'alice' not found")) {
            _ = try await store.agent(id: "alice")
        }
    }

    @Test("sessions and messages round-trip with every field", arguments: Where.allCases)
    func sessions(place: Where) async throws {
        let clock = ManualClock()
        let store = try await place.open(clock)
        var session = SessionRecord(id: "s-1", userID: "u-1", channel: "web", attributes: ["tier": "vip", "lang": "de", "quote\"key": "line\nbreak \u{1} ✓ \\ end"], createdAt: clock.now())
        session.state = .closed
        session.target = .agents(["ann", "bob"])
        session.agentID = "ann"
        session.queueTicket = 7
        session.offerDeadline = Timestamp(milliseconds: 1)
        session.missedAgents = ["bob"]
        session.userTimeoutAt = Timestamp(milliseconds: 2)
        session.nextQueueMessageAt = Timestamp(milliseconds: 3)
        session.lastQueueMessagePosition = 4
        session.closeReason = .userTimeout
        session.closedAt = Timestamp(milliseconds: 5)
        session.ratingDeadline = clock.now().adding(.seconds(60))
        session.rating = SessionRatingRecord(score: 4, comment: "ok", submittedAt: Timestamp(milliseconds: 6))
        session.lastSequence = 3
        session.botIdleDeadline = Timestamp(milliseconds: 7)
        var open = SessionRecord(id: "s-2", userID: "u-2", channel: "", attributes: [:], createdAt: clock.now())
        open.target = .group("billing")
        open.state = .queued
        let messages = [
            TranscriptMessage(sessionID: "s-1", sequence: 1, sender: .system(.welcome), text: "Hello", createdAt: clock.now()),
            TranscriptMessage(sessionID: "s-1", sequence: 2, sender: .user, text: "Hi ✓", createdAt: clock.now()),
            TranscriptMessage(sessionID: "s-1", sequence: 3, sender: .agent("ann"), text: "How can I help?", createdAt: clock.now()),
        ]
        try await store.enqueue([.session(session), .session(open)] + messages.map { .message($0) }).committed()
        #expect(try await store.session(id: "s-1") == session)
        #expect(try await store.session(id: "s-2") == open)
        let page = try await store.messages(sessionID: "s-1", after: 1, limit: 1)
        #expect(page.messages == [messages[1]] && page.more)
        #expect(try await store.messages(sessionID: "s-1", after: 0, limit: 10).messages == messages)
        // Loading keeps open sessions and closed ones whose rating window is open.
        #expect(Set(try await store.loadState(now: clock.now()).sessions.map(\.id)) == ["s-1", "s-2"])
        clock.advance(.seconds(61))
        #expect(try await store.loadState(now: clock.now()).sessions.map(\.id) == ["s-2"])
    }

    @Test("a session written again is updated in place; empty text and blobs stay empty, not NULL", arguments: Where.allCases)
    func sessionRewritten(place: Where) async throws {
        let clock = ManualClock()
        let store = try await place.open(clock)
        var session = SessionRecord(id: "s-1", userID: "u-1", channel: "", attributes: [:], createdAt: clock.now())
        session.state = .queued
        session.target = .anyAgent
        session.queueTicket = 1
        let empty = StoredEvent(sequence: 1, createdAt: clock.now(), payload: [])
        try await store.enqueue([.session(session), .event(.session("s-1"), empty), .event(.agent("ann"), empty)]).committed()
        session.state = .active
        session.agentID = "ann"
        session.queueTicket = nil
        session.lastSequence = 2
        try await store.enqueue([.session(session)], checked: true).committed()
        let stored = try await store.session(id: "s-1")
        #expect(stored == session)
        #expect(stored.channel == "")
        #expect(try await store.events(of: .session("s-1"), after: 0, limit: 10) == [empty])
        #expect(try await store.events(of: .agent("ann"), after: 0, limit: 10) == [empty])
        // The open-sessions index follows the new state: loading finds it once.
        #expect(try await store.loadState(now: clock.now()).sessions == [session])
    }

    @Test("a write that breaks a constraint fails alone; the batch's others commit", arguments: Where.allCases)
    func failingWrite(place: Where) async throws {
        let clock = ManualClock()
        let store = try await place.open(clock)
        try await store.enqueue([.insertAgent(Self.agent("a", at: clock.now()))]).committed()
        let duplicate = store.enqueue([.insertAgent(Self.agent("a", at: clock.now()))])
        let other = store.enqueue([.insertAgent(Self.agent("b", at: clock.now()))])
        await #expect(throws: SwitchboardError.self) { try await duplicate.committed() }
        try await other.committed()
        #expect(try await store.agent(id: "b").id == "b")
    }

    @Test("pages cover every agent once, in id order", arguments: Where.allCases)
    func pagination(place: Where) async throws {
        let clock = ManualClock()
        let store = try await place.open(clock)
        let ids = (0..<25).map { String(format: "agent-%02d", $0) }
        try await store.enqueue(ids.shuffled().map { .insertAgent(Self.agent($0, at: clock.now())) }).committed()
        var seen: [String] = []
        var token = ""
        repeat {
            let page = try await store.agents(try PageRequest(size: 7, token: token))
            #expect(page.items.count <= 7)
            seen += page.items.map(\.id)
            token = page.nextToken
        } while !token.isEmpty
        #expect(seen == ids)
    }

    @Test("writes commit in the order they were enqueued, concurrent ones together", arguments: [Where.file, .postgres])
    func groupCommit(place: Where) async throws {
        let clock = ManualClock()
        let store = try await place.open(clock)
        // Enqueued in order without waiting: a later write depends on an earlier one.
        var pending: [PendingWrite] = []
        for index in 0..<300 {
            pending.append(store.enqueue([.insertAgent(Self.agent("agent-\(index)", at: clock.now()))]))
            pending.append(store.enqueue([.agentState(id: "agent-\(index)", status: .online, statusChangedAt: clock.now(), lastAssignedAt: Timestamp(milliseconds: Int64(index)))]))
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for write in pending.shuffled() { group.addTask { try await write.committed() } }
            try await group.waitForAll()
        }
        let loaded = try await store.loadState(now: clock.now())
        #expect(loaded.agents.count == 300)
        #expect(loaded.agents.allSatisfy { $0.profile.status == .online })
    }

    @Test("a file's commits are synced (synchronous = FULL on the writer), new and reopened")
    func commitsAreSynced() async throws {
        // GRDB's DatabasePool sets its writer to NORMAL (commits not synced) after the
        // configuration's own set-up; the store must set it back.
        let path = temporaryDatabase()
        let clock = ManualClock()
        do {
            let store = try SQLiteStore(location: .file(path), clock: clock)
            #expect(try await store.writerSynchronous() == SQLiteStore.synchronousFull)
        }
        let reopened = try SQLiteStore(location: .file(path), clock: clock)
        #expect(try await reopened.writerSynchronous() == SQLiteStore.synchronousFull)
    }

    @Test("data survives closing and reopening the file")
    func reopen() async throws {
        let path = temporaryDatabase()
        let clock = ManualClock()
        do {
            let store = try SQLiteStore(location: .file(path), clock: clock)
            try await store.enqueue([
                .insertAgent(Self.agent("alice", at: clock.now(), limit: 2)),
                .agentState(id: "alice", status: .onBreak, statusChangedAt: clock.now(), lastAssignedAt: clock.now()),
            ]).committed()
            _ = try await store.replaceSettings([7], expectedVersion: 0)
        }
        let reopened = try SQLiteStore(location: .file(path), clock: clock)
        #expect(try await reopened.agent(id: "alice").status == .onBreak)
        #expect(try await reopened.settings()?.version == 1)
    }

    @Test("a file that is not a database is a clear error, not a crash")
    func corrupt() throws {
        let path = temporaryDatabase()
        try FileManager.default.createDirectory(
            at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true
        )
        try Data(repeating: 0x42, count: 8192).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try SQLiteStore(location: .file(path))
        } throws: { error in
            guard let error = error as? SwitchboardError else { return false }
            return error.kind == .unavailable && error.message.contains(path)
        }
    }
}
