import Logging
import Synchronization
import SwitchboardCore
import SwitchboardServer
@testable import SwitchboardStore
import Testing

/// A store whose database can go away: while `down`, every commit and read fails `UNAVAILABLE`
/// (as PostgreSQL's do when it is unreachable); with `commitThenFail`, a commit is stored but
/// reported failed (the connection lost during `COMMIT`: the outcome unknown to the caller).
final class FlakyStore: SwitchboardStore {
    enum Mode { case up, down, commitThenFail }

    let base: SQLiteStore
    let mode = Mutex(Mode.up)
    private static let lost = SwitchboardError(.unavailable, "storage failed: PostgreSQL unreachable (test)")

    init() throws {
        base = try SQLiteStore(location: .inMemory)
    }

    private func check() throws(SwitchboardError) {
        if mode.withLock({ $0 }) == .down { throw Self.lost }
    }

    func enqueue(_ writes: [StoreWrite], checked: Bool) -> PendingWrite {
        let mode = self.mode.withLock { $0 }
        if mode == .down { return PendingWrite { () throws(SwitchboardError) in throw Self.lost } }
        let pending = base.enqueue(writes, checked: checked)
        return PendingWrite { () async throws(SwitchboardError) in
            try await pending.committed()
            if mode == .commitThenFail { throw Self.lost }
        }
    }

    func resumeAfterReload() { base.resumeAfterReload() }
    func loadState(now: Timestamp) async throws(SwitchboardError) -> LoadedStoreState { try check(); return try await base.loadState(now: now) }
    func session(id: String) async throws(SwitchboardError) -> SessionRecord { try check(); return try await base.session(id: id) }
    func messages(sessionID: String, after sequence: Int64, limit: Int) async throws(SwitchboardError) -> (messages: [TranscriptMessage], more: Bool) {
        try check()
        return try await base.messages(sessionID: sessionID, after: sequence, limit: limit)
    }
    func events(of owner: EventOwner, after sequence: Int64, limit: Int) async throws(SwitchboardError) -> [StoredEvent] {
        try check()
        return try await base.events(of: owner, after: sequence, limit: limit)
    }
    func agent(id: String) async throws(SwitchboardError) -> AgentProfile { try check(); return try await base.agent(id: id) }
    func agents(_ page: PageRequest) async throws(SwitchboardError) -> Page<AgentProfile> { try check(); return try await base.agents(page) }
    func group(id: String) async throws(SwitchboardError) -> AgentGroup { try check(); return try await base.group(id: id) }
    func groups(_ page: PageRequest) async throws(SwitchboardError) -> Page<AgentGroup> { try check(); return try await base.groups(page) }
    func groupAgents(groupID: String, _ page: PageRequest) async throws(SwitchboardError) -> Page<AgentProfile> {
        try check()
        return try await base.groupAgents(groupID: groupID, page)
    }
    func settings() async throws(SwitchboardError) -> StoredSettings? { try check(); return try await base.settings() }
    func replaceSettings(_ document: [UInt8], expectedVersion: Int64) async throws(SwitchboardError) -> StoredSettings {
        try check()
        return try await base.replaceSettings(document, expectedVersion: expectedVersion)
    }
    func insertAPIKey(_ key: APIKeyRecord) async throws(SwitchboardError) { try check(); try await base.insertAPIKey(key) }
    func apiKeys() async throws(SwitchboardError) -> [APIKeyRecord] { try check(); return try await base.apiKeys() }
    func revokeAPIKey(id: String) async throws(SwitchboardError) { try check(); try await base.revokeAPIKey(id: id) }
    func tenants() async throws(SwitchboardError) -> [TenantRecord] { try check(); return try await base.tenants() }
    func insertTenant(_ tenant: TenantRecord) async throws(SwitchboardError) { try check(); try await base.insertTenant(tenant) }
    func updateTenant(_ tenant: TenantRecord) async throws(SwitchboardError) { try check(); try await base.updateTenant(tenant) }
    func deleteTenant(id: String) async throws(SwitchboardError) { try check(); try await base.deleteTenant(id: id) }
    func appliedMigrations() async throws(SwitchboardError) -> [String] { try await base.appliedMigrations() }
    func counts() async throws(SwitchboardError) -> StoreCounts { try await base.counts() }
    func export(pageSize: Int, _ receive: @Sendable ([StoreWrite]) async throws(SwitchboardError) -> Void) async throws(SwitchboardError) {
        try await base.export(pageSize: pageSize, receive)
    }
    func close() { base.close() }
}

/// The engine when its database goes away and comes back: calls fail `UNAVAILABLE`, nothing
/// decided on a state the database does not have is kept, and the state is the database's again.
@Suite("Engine recovery")
struct EngineRecoveryTests {
    static func engine(_ store: FlakyStore) async throws -> SwitchboardEngine {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return try await SwitchboardEngine(store: store, logger: logger)
    }

    @Test("while the database is away calls fail UNAVAILABLE and change nothing; once back, the state is the database's")
    func away() async throws {
        let store = try FlakyStore()
        let engine = try await Self.engine(store)
        _ = try await engine.createAgent(id: "ann", displayName: "Ann", maxSessions: nil)
        store.mode.withLock { $0 = .down }
        // The commit fails and so does the reload: the engine is stale.
        await #expect(throws: SwitchboardError.self) { _ = try await engine.createAgent(id: "bob", displayName: "Bob", maxSessions: nil) }
        await #expect { _ = try await engine.setAgentStatus(id: "ann", .online) } throws: { error in
            (error as? SwitchboardError)?.kind == .unavailable
        }
        // Reads from memory would show bob, never stored: they fail too while the state is stale.
        await #expect { _ = try await engine.agent(id: "bob") } throws: { error in
            (error as? SwitchboardError)?.kind == .unavailable
        }
        await #expect { _ = try await engine.agentSessions(agentID: "ann") } throws: { error in
            (error as? SwitchboardError)?.kind == .unavailable
        }
        store.mode.withLock { $0 = .up }
        // The next call reloads first: bob was never stored, ann is still offline.
        _ = try await engine.createAgent(id: "cid", displayName: "Cid", maxSessions: nil)
        await #expect(throws: SwitchboardError.self) { _ = try await engine.agent(id: "bob") }
        #expect(try await engine.agent(id: "ann").status == .offline)
        #expect(try await store.base.agents(PageRequest()).items.map(\.id) == ["ann", "cid"])
    }

    @Test("a commit stored but reported failed (outcome unknown): the call fails, the reload keeps what the database has")
    func outcomeUnknown() async throws {
        let store = try FlakyStore()
        let engine = try await Self.engine(store)
        store.mode.withLock { $0 = .commitThenFail }
        await #expect(throws: SwitchboardError.self) { _ = try await engine.createAgent(id: "ann", displayName: "Ann", maxSessions: nil) }
        store.mode.withLock { $0 = .up }
        // The database has it: so has the engine, and creating it again is refused.
        #expect(try await engine.agent(id: "ann").id == "ann")
        await #expect { _ = try await engine.createAgent(id: "ann", displayName: "Ann", maxSessions: nil) } throws: { error in
            (error as? SwitchboardError)?.kind == .alreadyExists
        }
        let session = try await engine.createSession(userID: "u", channel: "", attributes: [:])
        #expect(try await store.base.session(id: session.id).id == session.id)
    }

    @Test("writes queued behind a failed commit fail too, and the engine goes on after its reload")
    func queuedBehind() async throws {
        let store = try FlakyStore()
        let engine = try await Self.engine(store)
        let session = try await engine.createSession(userID: "u", channel: "", attributes: [:])
        store.mode.withLock { $0 = .commitThenFail }
        // Many messages at once: the first commit "fails", the others were decided on top of it.
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<20 {
                group.addTask { (try? await engine.userMessage(sessionID: session.id, text: "m\(index)")) != nil }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        store.mode.withLock { $0 = .up }
        _ = try await engine.userMessage(sessionID: session.id, text: "after")
        // Whatever was stored, the transcript has no gap and the session's row agrees with it.
        let messages = try await store.base.messages(sessionID: session.id, after: 0, limit: 100).messages
        #expect(messages.map(\.sequence) == Array(1...Int64(messages.count)))
        #expect(try await store.base.session(id: session.id).lastSequence == messages.last?.sequence)
        #expect(messages.last?.text == "after")
        #expect(outcomes.contains(false))
    }
}
