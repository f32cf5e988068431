import Foundation
import Logging
import SwitchboardCore
@testable import SwitchboardStore
import SwitchboardTestSupport
import Testing

/// More of the store conformance suite (see ``StoreTests``): failures inside batches, tenants
/// kept apart, the export `copy-data` uses; and PostgreSQL's own start-up rules.
@Suite("Store conformance")
struct StoreConformanceTests {
    static func agent(_ id: String, at time: Timestamp) -> AgentProfile {
        StoreTests.agent(id, at: time)
    }

    @Test("a failed batch of checked writes fails the checked writes behind it until the reload; unchecked ones go on", arguments: Where.allCases)
    func failedCheckedBatch(place: Where) async throws {
        let clock = ManualClock()
        let store = try await place.open(clock)
        try await store.enqueue([.insertAgent(Self.agent("a", at: clock.now()))], checked: true).committed()
        // A checked write the engine should never make (a duplicate): its whole batch fails.
        let failing = store.enqueue([.insertAgent(Self.agent("b", at: clock.now())), .insertAgent(Self.agent("a", at: clock.now()))], checked: true)
        await #expect(throws: SwitchboardError.self) { try await failing.committed() }
        await #expect(throws: SwitchboardError.self, "all or nothing") { _ = try await store.agent(id: "b") }
        // Decided on top of it: refused until the engine has reloaded.
        await #expect(throws: StoreFailure.behindFailedCommit) {
            try await store.enqueue([.insertAgent(Self.agent("c", at: clock.now()))], checked: true).committed()
        }
        try await store.enqueue([.insertAgent(Self.agent("d", at: clock.now()))]).committed()
        store.resumeAfterReload()
        try await store.enqueue([.insertAgent(Self.agent("c", at: clock.now()))], checked: true).committed()
        #expect(try await store.agents(PageRequest()).items.map(\.id) == ["a", "c", "d"])
    }

    @Test("a batch keeps its order: directory changes between hot-path rows, a session written twice", arguments: Where.allCases)
    func orderInsideBatch(place: Where) async throws {
        let clock = ManualClock()
        let store = try await place.open(clock)
        var session = SessionRecord(id: "s", userID: "u", channel: "", attributes: [:], createdAt: clock.now())
        let event = StoredEvent(sequence: 1, createdAt: clock.now(), payload: [1])
        var writes: [StoreWrite] = [
            .insertAgent(Self.agent("ann", at: clock.now())),
            .agentState(id: "ann", status: .online, statusChangedAt: clock.now(), lastAssignedAt: Timestamp(milliseconds: 1)),
            .event(.agent("ann"), event),
            .session(session),
        ]
        session.lastSequence = 9
        writes += [
            .session(session),
            // Deleted and created again in the same batch: its old events go, the new one stays.
            .deleteAgent("ann"),
            .insertAgent(Self.agent("ann", at: clock.now())),
            .event(.agent("ann"), event),
            .agentState(id: "ann", status: .onBreak, statusChangedAt: clock.now(), lastAssignedAt: Timestamp(milliseconds: 2)),
        ]
        try await store.enqueue(writes, checked: true).committed()
        #expect(try await store.session(id: "s").lastSequence == 9)
        #expect(try await store.agent(id: "ann").status == .onBreak)
        #expect(try await store.events(of: .agent("ann"), after: 0, limit: 10) == [event])
        #expect(try await store.loadState(now: clock.now()).agents.map(\.lastAssignedAt) == [Timestamp(milliseconds: 2)])
    }

    @Test("tenants of one backend are kept apart, and a tenant's data is removed whole", arguments: [Where.file, .postgres])
    func tenantsApart(place: Where) async throws {
        let clock = ManualClock()
        let backend = try await place.openBackend(clock)
        let acme = try await backend.open(tenant: "acme")
        let globex = try await backend.open(tenant: "globex")
        for (store, name) in [(backend.catalog, "default"), (acme, "acme"), (globex, "globex")] {
            try await store.enqueue([.insertAgent(Self.agent("agent-\(name)", at: clock.now())), .insertAgent(Self.agent("shared", at: clock.now()))], checked: true).committed()
            _ = try await store.replaceSettings(Array(name.utf8), expectedVersion: 0)
        }
        #expect(try await acme.agents(PageRequest()).items.map(\.id) == ["agent-acme", "shared"])
        #expect(try await globex.settings()?.document == Array("globex".utf8))
        #expect(try await backend.catalog.loadState(now: clock.now()).agents.map(\.profile.id) == ["agent-default", "shared"])
        acme.close()
        try await backend.removeData(of: "acme")
        let reopened = try await backend.open(tenant: "acme")
        #expect(try await reopened.counts() == StoreCounts())
        #expect(try await globex.counts().agents == 2)
        #expect(try await backend.catalog.counts().agents == 2)
    }

    @Test("a tenant update stores the record as given, its creation time too (copy-data carries default's over)", arguments: Where.allCases)
    func tenantUpdate(place: Where) async throws {
        let clock = ManualClock()
        let store = try await place.open(clock)
        var tenant = try #require(try await store.tenants().first { $0.id == TenantRules.defaultID })
        tenant.displayName = "Renamed"
        tenant.quotas.maxAgents = 3
        tenant.createdAt = Timestamp(milliseconds: tenant.createdAt.milliseconds - 86_400_000)
        try await store.updateTenant(tenant)
        #expect(try await store.tenants() == [tenant])
        await #expect(throws: SwitchboardError.self) {
            try await store.updateTenant(TenantRecord(id: "nope", displayName: "Nope", createdAt: clock.now()))
        }
    }

    /// A tenant with one of everything, some twice.
    static func fill(_ store: any SwitchboardStore, clock: ManualClock) async throws {
        _ = try await store.replaceSettings([1, 2, 3], expectedVersion: 0)
        _ = try await store.replaceSettings([4, 5], expectedVersion: 1)
        var writes: [StoreWrite] = []
        for index in 0..<7 {
            let id = "agent-\(index)"
            writes.append(.insertAgent(AgentProfile(id: id, displayName: "Agent \(index)", maxSessions: index == 0 ? nil : index, status: .offline, groupIDs: [], statusChangedAt: clock.now(), createdAt: clock.now())))
            writes.append(.agentState(id: id, status: index % 2 == 0 ? .online : .onBreak, statusChangedAt: clock.now(), lastAssignedAt: Timestamp(milliseconds: Int64(index))))
            writes.append(.event(.agent(id), StoredEvent(sequence: 1, createdAt: clock.now(), payload: [UInt8(index)])))
        }
        for group in ["billing", "sales", "support"] {
            writes.append(.insertGroup(AgentGroup(id: group, name: group.capitalized, memberCount: 0, createdAt: clock.now())))
            writes.append(.addMember(groupID: group, agentID: "agent-1"))
        }
        writes.append(.addMember(groupID: "sales", agentID: "agent-2"))
        for index in 0..<9 {
            var session = SessionRecord(id: "s-\(index)", userID: "u-\(index)", channel: "web", attributes: ["n": "\(index)"], createdAt: clock.now())
            session.state = index % 3 == 0 ? .closed : .queued
            session.target = .group("sales")
            session.lastSequence = 2
            session.lastEventSequence = 1
            writes.append(.session(session))
            writes.append(.message(TranscriptMessage(sessionID: session.id, sequence: 1, sender: .system(.welcome), text: "Hello", createdAt: clock.now())))
            writes.append(.message(TranscriptMessage(sessionID: session.id, sequence: 2, sender: .user, text: "Hi \(index)", createdAt: clock.now())))
            writes.append(.event(.session(session.id), StoredEvent(sequence: 1, createdAt: clock.now(), payload: [9, UInt8(index)])))
        }
        try await store.enqueue(writes, checked: true).committed()
    }

    @Test("the export recreates a tenant whole in another store, of either kind, in small pages", arguments: Where.allCases)
    func export(place: Where) async throws {
        let clock = ManualClock()
        let source = try await place.open(clock)
        try await Self.fill(source, clock: clock)
        let counts = try await source.counts()
        #expect(counts == {
            var expected = StoreCounts()
            (expected.agents, expected.groups, expected.members, expected.sessions) = (7, 3, 4, 9)
            (expected.messages, expected.sessionEvents, expected.agentEvents, expected.settings) = (18, 9, 7, 1)
            return expected
        }())
        for target in [Where.memory, .postgres] {
            let destination = try await target.open(clock)
            try await source.export(pageSize: 4) { writes throws(SwitchboardError) in try await destination.enqueue(writes, checked: true).committed() }
            #expect(try await destination.counts() == counts, "into \(target)")
            #expect(try await destination.settings() == source.settings())
            let (copied, original) = (try await destination.loadState(now: clock.now()), try await source.loadState(now: clock.now()))
            #expect(copied.agents.map(\.profile) == original.agents.map(\.profile))
            #expect(copied.agents.map(\.lastAssignedAt) == original.agents.map(\.lastAssignedAt))
            #expect(copied.agents.map(\.lastEventSequence) == original.agents.map(\.lastEventSequence))
            #expect(copied.groups == original.groups)
            #expect(Set(copied.sessions.map(\.id)) == Set(original.sessions.map(\.id)))
            for index in 0..<9 {
                #expect(try await destination.session(id: "s-\(index)") == source.session(id: "s-\(index)"))
                #expect(try await destination.messages(sessionID: "s-\(index)", after: 0, limit: 10).messages == source.messages(sessionID: "s-\(index)", after: 0, limit: 10).messages)
                #expect(try await destination.events(of: .session("s-\(index)"), after: 0, limit: 10) == source.events(of: .session("s-\(index)"), after: 0, limit: 10))
            }
        }
    }
}

/// PostgreSQL's own start-up rules.
@Suite("PostgreSQL store")
struct PostgresStoreTests {
    @Test("servers starting at once on a new database migrate it once")
    func concurrentMigrations() async throws {
        let url = try await PostgresServer.shared().makeDatabase()
        var small = try PostgresLocation(url: url)
        small.poolSize = 2
        let location = small
        let backends = try await withThrowingTaskGroup(of: PostgresBackend.self) { group in
            for _ in 0..<4 { group.addTask { try await PostgresBackend(location: location, logger: Logger(label: "test")) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(backends.count == 4)
        for backend in backends {
            #expect(try await backend.catalog.appliedMigrations() == Where.postgres.migrations)
            await backend.shutdown()
        }
    }

    @Test("a database migrated by a newer version is refused, naming it")
    func newerSchema() async throws {
        let url = try await PostgresServer.shared().makeDatabase()
        var location = try PostgresLocation(url: url)
        location.poolSize = 1
        let backend = try await PostgresBackend(location: location, logger: Logger(label: "test"))
        let store = try #require(backend.catalog as? PostgresStore)
        try await store.pool.withConnection { connection in
            try await connection.query("INSERT INTO switchboard_migrations (name) VALUES ('pg-v99-from-the-future')", logger: Logger(label: "test"))
        }
        await backend.shutdown()
        await #expect {
            _ = try await PostgresBackend(location: location, logger: Logger(label: "test"))
        } throws: { error in
            guard let error = error as? SwitchboardError else { return false }
            return error.kind == .unavailable && error.message.contains("newer") && error.message.contains(location.description)
                && error.message.contains("pg-v99-from-the-future")
        }
    }

    @Test("a database that cannot be reached fails the start-up with UNAVAILABLE naming it, within the deadline")
    func unreachable() async throws {
        var location = try PostgresLocation(url: "postgres://switchboard:secret@127.0.0.1:\(try await unusedPort())/nowhere")
        location.timeout = .seconds(2)
        let started = ContinuousClock.now
        await #expect {
            _ = try await PostgresBackend(location: location, logger: Logger(label: "test"))
        } throws: { error in
            guard let error = error as? SwitchboardError else { return false }
            return error.kind == .unavailable && error.message.contains("postgres://switchboard@127.0.0.1:") && !error.message.contains("secret")
        }
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test("URLs: user, password, port, database and sslmode are read; a bad one names what is wrong")
    func urls() throws {
        let location = try PostgresLocation(url: "postgresql://sb%40x:p%3Ass@db.example:6543/switch%20board?sslmode=require")
        #expect(location.username == "sb@x" && location.password == "p:ss" && location.host == "db.example")
        #expect(location.port == 6543 && location.database == "switch board" && location.tls == .require)
        #expect(location.description == "postgres://sb@x@db.example:6543/switch board")
        #expect(try PostgresLocation(url: "postgres://u@h/d").port == 5432)
        #expect(throws: SwitchboardError.self) { try PostgresLocation(url: "postgres://h/d") }
        #expect(throws: SwitchboardError.self) { try PostgresLocation(url: "postgres://u@h") }
        #expect(throws: SwitchboardError.self) { try PostgresLocation(url: "postgres://u@h/d?sslmode=sometimes") }
        #expect(throws: SwitchboardError.self) { try PostgresLocation(url: "postgres://u@h/d?pool=3") }
        #expect(try StoreLocation(parsing: "./data/x.sqlite") == .sqlite(path: "./data/x.sqlite"))
    }
}
