import Foundation
import GRDB
import SwitchboardCore
import SwitchboardStore
import Testing

/// A database made by an earlier version opens with today's store and keeps everything.
@Suite("Store fixtures")
struct StoreFixtureTests {
    /// A copy of a fixture in a fresh temporary folder (opening migrates it: never the original).
    static func copy(of name: String) throws -> String {
        let source = try #require(Bundle.module.url(forResource: name, withExtension: "sqlite", subdirectory: "Fixtures"))
        let path = temporaryDatabase()
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: source, to: URL(fileURLWithPath: path))
        return path
    }

    /// The v4 fixtures: made at a3afe47, and at 2199811 (the last commit of schema v4, with a
    /// session closed for BOT idleness).
    static let v4Fixtures = ["v4", "v4-2199811"]

    @Test("each v4 fixture is as its version left it: migrated through v4-api-keys, nothing later", arguments: v4Fixtures)
    func v4File(fixture: String) throws {
        let path = try Self.copy(of: fixture)
        let applied = try DatabaseQueue(path: path).read { db in
            try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier")
        }
        #expect(applied == FixtureV4.migrations)
    }

    @Test("the v5 fixture is as its version left it: migrated through v5, nothing later")
    func v5File() throws {
        let path = try Self.copy(of: "v5")
        let applied = try DatabaseQueue(path: path).read { db in
            try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier")
        }
        #expect(applied == FixtureV5.migrations)
    }

    @Test("a v4 or v5 database (a3afe47, 2199811, 483b91b) opens and keeps every record with its values", arguments: v4Fixtures + ["v5"])
    func v4(fixture: String) async throws {
        let store = try SQLiteStore(location: .file(try Self.copy(of: fixture)), clock: ManualClock())
        defer { store.close() }
        let applied = try await store.appliedMigrations()
        #expect(Array(applied.prefix(FixtureV4.migrations.count)) == FixtureV4.migrations)

        #expect(try await store.settings() == FixtureV4.settings)

        let agents = try await store.agents(PageRequest())
        #expect(agents.items == FixtureV4.agents.map(\.profile))
        #expect(agents.nextToken.isEmpty)
        for expected in FixtureV4.agents {
            #expect(try await store.agent(id: expected.profile.id) == expected.profile)
        }

        #expect(try await store.groups(PageRequest()).items == FixtureV4.groups)
        for group in FixtureV4.groups {
            #expect(try await store.group(id: group.id) == group)
            let members = FixtureV4.memberships.filter { $0.groupID == group.id }.map(\.agentID).sorted()
            #expect(try await store.groupAgents(groupID: group.id, PageRequest()).items.map(\.id) == members)
        }

        for session in FixtureV4.sessions {
            #expect(try await store.session(id: session.id) == session)
            let messages = FixtureV4.messages.filter { $0.sessionID == session.id }
            let stored = try await store.messages(sessionID: session.id, after: 0, limit: 100)
            #expect(stored.messages == messages && !stored.more, "messages of \(session.id)")
            let events = FixtureV4.sessionEvents.filter { $0.owner == .session(session.id) }.map(\.event)
            #expect(try await store.events(of: .session(session.id), after: 0, limit: 100) == events, "events of \(session.id)")
        }
        for (profile, _, _) in FixtureV4.agents {
            let events = FixtureV4.agentEvents.filter { $0.owner == .agent(profile.id) }.map(\.event)
            #expect(try await store.events(of: .agent(profile.id), after: 0, limit: 100) == events, "events of \(profile.id)")
        }

        #expect(try await store.apiKeys() == FixtureV4.apiKeys)

        if fixture != "v4" {
            #expect(try await store.session(id: FixtureV4Late.botIdle.id) == FixtureV4Late.botIdle)
            #expect(try await store.messages(sessionID: FixtureV4Late.botIdle.id, after: 0, limit: 10).messages == [FixtureV4Late.botIdleWelcome])
        } else {
            await #expect(throws: SwitchboardError.self) { try await store.session(id: FixtureV4Late.botIdle.id) }
        }

        let loaded = try await store.loadState(now: FixtureV4.loadTime)
        #expect(loaded.settings == FixtureV4.settings)
        #expect(loaded.agents.map(\.profile) == FixtureV4.agents.map(\.profile))
        #expect(loaded.agents.map(\.lastAssignedAt) == FixtureV4.agents.map(\.lastAssignedAt))
        #expect(loaded.agents.map(\.lastEventSequence) == FixtureV4.agents.map(\.lastEventSequence))
        #expect(loaded.groups == FixtureV4.groups)
        let open = [FixtureV4.bot, FixtureV4.queued, FixtureV4.offered, FixtureV4.active, FixtureV4.closedRatingOpen]
        #expect(loaded.sessions.sorted { $0.id < $1.id } == open.sorted { $0.id < $1.id })
    }

    @Test("opening a v4 database drops the two session indexes no query used (v5), adds the tenants table (v6), and nothing else", arguments: v4Fixtures)
    func v4ToV5(fixture: String) throws {
        let path = try Self.copy(of: fixture)
        func schema() throws -> [String] {
            try DatabaseQueue(path: path).read { db in
                try String.fetchAll(db, sql: "SELECT type || ' ' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name")
            }
        }
        let before = try schema()
        #expect(before.contains("index sessions_open") && before.contains("index sessions_by_agent"))
        try SQLiteStore(location: .file(path), clock: ManualClock()).close()
        #expect(Set(try schema()) == Set(before.filter { $0 != "index sessions_open" && $0 != "index sessions_by_agent" } + ["table tenants"]))
    }

    @Test("opening a v5 database (483b91b) adds the tenants (v6): everything is the default tenant's, its keys too")
    func v5ToV6() async throws {
        let path = try Self.copy(of: "v5")
        func schema() throws -> [String] {
            try DatabaseQueue(path: path).read { db in
                try String.fetchAll(db, sql: "SELECT type || ' ' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name")
            }
        }
        let before = try schema()
        let clock = ManualClock()
        let store = try SQLiteStore(location: .file(path), clock: clock)
        defer { store.close() }
        #expect(try await store.appliedMigrations() == FixtureV5.migrations + ["v6-tenants", "v7-session-bot-idle-deadline"])
        #expect(Set(try schema()) == Set(before + ["table tenants"]))
        let tenants = try await store.tenants()
        #expect(tenants == [TenantRecord(id: "default", displayName: "Default", createdAt: clock.now())])
        let keys = try await store.apiKeys()
        #expect(keys == FixtureV4.apiKeys)
        #expect(keys.allSatisfy { $0.tenantID == TenantRules.defaultID })
        // The data is the default tenant's, in the same file: the v4/v5 content test reads it.
        #expect(try await store.session(id: FixtureV4Late.botIdle.id) == FixtureV4Late.botIdle)
    }

    @Test("a v4 database takes new writes after opening")
    func v4Writes() async throws {
        let clock = ManualClock()
        let path = try Self.copy(of: "v4")
        do {
            let store = try SQLiteStore(location: .file(path), clock: clock)
            defer { store.close() }
            var session = FixtureV4.queued
            session.state = .active
            session.agentID = "carol"
            session.lastSequence = 3
            let message = TranscriptMessage(sessionID: session.id, sequence: 3, sender: .agent("carol"), text: "Hi", createdAt: clock.now())
            try await store.enqueue([
                .session(session), .message(message),
                .event(.agent("carol"), StoredEvent(sequence: 1, createdAt: clock.now(), payload: [1])),
                .addMember(groupID: "empty", agentID: "carol"),
            ]).committed()
            _ = try await store.replaceSettings([9], expectedVersion: FixtureV4.settings.version)
        }
        let reopened = try SQLiteStore(location: .file(path), clock: clock)
        defer { reopened.close() }
        #expect(try await reopened.session(id: "s-queued").agentID == "carol")
        #expect(try await reopened.messages(sessionID: "s-queued", after: 0, limit: 10).messages.count == 3)
        #expect(try await reopened.agent(id: "carol").groupIDs == ["empty"])
        #expect(try await reopened.settings()?.version == FixtureV4.settings.version + 1)
        #expect(try await reopened.session(id: "s-bot") == FixtureV4.bot)
    }
}
