import DequeModule
public import SwitchboardCore

/// Switchboard's durable state, as the engine and the services use it: one tenant's settings,
/// agents, groups, sessions, transcripts and events, and (in the catalog, the `default` tenant's
/// store) the tenants and API keys.
///
/// Two implementations keep the same guarantees: ``SQLiteStore`` (GRDB, a file per tenant, the
/// embedded default) and ``PostgresStore`` (postgres-nio, every tenant in one database, rows
/// keyed by tenant). ``StoreConformance`` in the tests runs one suite against both.
///
/// The guarantees:
/// - A change is committed (durably) before the method that makes it returns, or before its
///   ``PendingWrite`` completes.
/// - ``enqueue(_:checked:)`` is synchronous and keeps order: writes commit in the order they
///   were enqueued; writes enqueued while a commit runs share the next transaction (group
///   commit). A batch is all or nothing for checked writes.
/// - After a failed commit of checked writes (their outcome may be unknown: the database went
///   away during the commit), every checked write queued behind them fails too, and so does
///   every later one until ``resumeAfterReload()``: they were decided on a state that may not be
///   the database's. The engine reloads its state, then resumes.
/// - Database errors are `UNAVAILABLE` (unreachable, I/O, disk full) or `INTERNAL` (a
///   constraint the code should have checked); a domain error names what is wrong.
/// - I/O never runs on the caller's thread (an event loop or the cooperative pool).
public protocol SwitchboardStore: Sendable {
    // MARK: Writes of the routing core

    /// Queues `writes` after everything enqueued before; they commit together, all or nothing.
    ///
    /// `checked` writes were validated by the caller (the engine checks every rule in memory); a
    /// failure fails the whole batch they share. An unchecked write that fails (a duplicate id)
    /// fails alone.
    func enqueue(_ writes: [StoreWrite], checked: Bool) -> PendingWrite

    /// Lets checked writes through again after a failed commit (see the type's guarantees); the
    /// caller has reloaded its state from the database.
    func resumeAfterReload()

    /// Everything the engine keeps in memory, as stored at `now`.
    func loadState(now: Timestamp) async throws(SwitchboardError) -> LoadedStoreState

    // MARK: Reads

    /// A session; `NOT_FOUND` when there is none.
    func session(id: String) async throws(SwitchboardError) -> SessionRecord
    /// Messages of a session after `sequence`, at most `limit`, and whether more follow.
    func messages(sessionID: String, after sequence: Int64, limit: Int) async throws(SwitchboardError) -> (messages: [TranscriptMessage], more: Bool)
    /// Stored events of a session or an agent after `sequence`, at most `limit`, in order.
    func events(of owner: EventOwner, after sequence: Int64, limit: Int) async throws(SwitchboardError) -> [StoredEvent]
    /// An agent with its groups; `NOT_FOUND` when there is none.
    func agent(id: String) async throws(SwitchboardError) -> AgentProfile
    /// A page of agents, by id.
    func agents(_ page: PageRequest) async throws(SwitchboardError) -> Page<AgentProfile>
    /// A group with its member count; `NOT_FOUND` when there is none.
    func group(id: String) async throws(SwitchboardError) -> AgentGroup
    /// A page of groups, by id.
    func groups(_ page: PageRequest) async throws(SwitchboardError) -> Page<AgentGroup>
    /// A page of a group's agents, by id; `NOT_FOUND` when there is no such group.
    func groupAgents(groupID: String, _ page: PageRequest) async throws(SwitchboardError) -> Page<AgentProfile>

    // MARK: Settings

    /// The stored settings document, or `nil` before the first update (the defaults apply).
    func settings() async throws(SwitchboardError) -> StoredSettings?
    /// Stores `document` as the next version when the stored version is still `expectedVersion`
    /// (0: nothing stored yet); `ABORTED` when another update came first.
    func replaceSettings(_ document: [UInt8], expectedVersion: Int64) async throws(SwitchboardError) -> StoredSettings

    // MARK: The catalog (the `default` tenant's store)

    /// Stores a new API key; `ALREADY_EXISTS` when the id is taken.
    func insertAPIKey(_ key: APIKeyRecord) async throws(SwitchboardError)
    /// Every API key, revoked ones included, by creation time then id.
    func apiKeys() async throws(SwitchboardError) -> [APIKeyRecord]
    /// Revokes an API key (it stays listed); revoking twice keeps the first time. `NOT_FOUND`
    /// when no key has that id.
    func revokeAPIKey(id: String) async throws(SwitchboardError)
    /// Every tenant, by id; `default` is added (created now) when missing.
    func tenants() async throws(SwitchboardError) -> [TenantRecord]
    /// Stores a new tenant; `ALREADY_EXISTS` when the id is taken.
    func insertTenant(_ tenant: TenantRecord) async throws(SwitchboardError)
    /// Stores a tenant as given: its name, quotas and creation time (`copy-data` carries the
    /// source's `default` over the destination's own); `NOT_FOUND` when there is no such tenant.
    func updateTenant(_ tenant: TenantRecord) async throws(SwitchboardError)
    /// Deletes a tenant and its API keys in one transaction (not its data: see
    /// ``StoreBackend/removeData(of:)``); `NOT_FOUND` when there is no such tenant.
    func deleteTenant(id: String) async throws(SwitchboardError)

    // MARK: Maintenance

    /// The names of the migrations applied to this store's database, sorted.
    func appliedMigrations() async throws(SwitchboardError) -> [String]
    /// How many rows of each kind this tenant has (`copy-data` checks them).
    func counts() async throws(SwitchboardError) -> StoreCounts
    /// Reads this tenant's whole data as writes that recreate it (`copy-data`), in pages of about
    /// `pageSize` rows, each handed to `receive` in order: settings, agents (with their state),
    /// groups, members, then sessions with their messages and events, then agents' events.
    func export(pageSize: Int, _ receive: @Sendable ([StoreWrite]) async throws(SwitchboardError) -> Void) async throws(SwitchboardError)
    /// Closes this tenant's store (SQLite: its file; later calls fail with `UNAVAILABLE`); on
    /// PostgreSQL nothing to close.
    func close()
}

extension SwitchboardStore {
    /// Queues unchecked `writes`; see ``SwitchboardStore/enqueue(_:checked:)``.
    public func enqueue(_ writes: [StoreWrite]) -> PendingWrite {
        enqueue(writes, checked: false)
    }
}

/// Where a server keeps its data: the catalog and every tenant's store.
///
/// SQLite keeps each tenant other than `default` in a file of its own beside the catalog;
/// PostgreSQL keeps every tenant in one database, each row keyed by its tenant.
public protocol StoreBackend: Sendable {
    /// The catalog: tenants, API keys, and the `default` tenant's data.
    var catalog: any SwitchboardStore { get }
    /// Whether a tenant's store can be closed and opened again with nothing lost (not so in memory).
    var tenantsCanSleep: Bool { get }
    /// Opens tenant `id`'s store (creating what it needs); `default`'s is ``catalog``.
    func open(tenant id: String) async throws(SwitchboardError) -> any SwitchboardStore
    /// Removes all of tenant `id`'s data (its routing core is stopped); nothing there is fine.
    func removeData(of id: String) async throws(SwitchboardError)
    /// The tenants other than `default` that have data, found by looking (to clean up after a
    /// deletion cut short).
    func tenantsWithData() async throws(SwitchboardError) -> [String]
    /// A description for logs and messages (a path, or a URL without its password).
    var description: String { get }
    /// Closes every store and connection.
    func shutdown() async
}

/// Where the data is, as `--database` names it: a SQLite file path or a `postgres://` URL.
public enum StoreLocation: Sendable, Hashable, CustomStringConvertible {
    /// A SQLite database file (WAL mode); tenants in `tenants/` beside it.
    case sqlite(path: String)
    /// A private in-memory SQLite database, gone when the server is (tests, benchmarks).
    case sqliteInMemory
    /// A PostgreSQL database.
    case postgres(PostgresLocation)

    /// Reads `--database`: a `postgres://` or `postgresql://` URL, else a file path.
    public init(parsing text: String) throws(SwitchboardError) {
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            self = .postgres(try PostgresLocation(url: text))
        } else if text.isEmpty {
            throw SwitchboardError(.invalidArgument, "--database is empty: give a file path or a postgres:// URL")
        } else {
            self = .sqlite(path: text)
        }
    }

    public var description: String {
        switch self {
        case .sqlite(let path): "'\(path)'"
        case .sqliteInMemory: "in memory"
        case .postgres(let location): location.description
        }
    }
}

/// What the engine loads at start-up and after a failed commit.
public struct LoadedStoreState: Sendable {
    /// The settings document, `nil` before the first update.
    public var settings: StoredSettings?
    /// Agents with their groups, their last assignment and their latest event's number.
    public var agents: [(profile: AgentProfile, lastAssignedAt: Timestamp, lastEventSequence: Int64)]
    /// Groups with their member counts.
    public var groups: [AgentGroup]
    /// Open sessions and closed ones whose rating window is still open.
    public var sessions: [SessionRecord]

    public init(
        settings: StoredSettings?, agents: [(profile: AgentProfile, lastAssignedAt: Timestamp, lastEventSequence: Int64)],
        groups: [AgentGroup], sessions: [SessionRecord]
    ) {
        self.settings = settings
        self.agents = agents
        self.groups = groups
        self.sessions = sessions
    }
}

/// Writes queued in order; await them for the commit.
public struct PendingWrite: Sendable {
    private let wait: @Sendable () async throws(SwitchboardError) -> Void

    /// A write whose commit `wait` awaits.
    init(_ wait: @escaping @Sendable () async throws(SwitchboardError) -> Void) {
        self.wait = wait
    }

    /// Returns once the writes are committed.
    ///
    /// - Throws: `UNAVAILABLE` when the transaction failed (nothing of it is stored, or, when the
    ///   database went away during the commit, its outcome is unknown).
    public func committed() async throws(SwitchboardError) {
        try await wait()
    }
}

/// How many rows of each kind a tenant has.
public struct StoreCounts: Sendable, Hashable, CustomStringConvertible {
    public var agents = 0
    public var groups = 0
    public var members = 0
    public var sessions = 0
    public var messages = 0
    public var sessionEvents = 0
    public var agentEvents = 0
    /// 1 when a settings document is stored.
    public var settings = 0

    public init() {}

    public var description: String {
        "\(agents) agents, \(groups) groups, \(members) memberships, \(sessions) sessions, \(messages) messages, "
            + "\(sessionEvents) session events, \(agentEvents) agent events, \(settings) settings"
    }
}

/// The error after a failed commit of checked writes, until the engine reloaded.
enum StoreFailure {
    static let behindFailedCommit = SwitchboardError(
        .unavailable, "storage failed: an earlier commit failed; the state is being reloaded from the database, retry"
    )
}

/// Both stores' rule after a failed commit of checked writes: the checked writes queued behind it
/// fail, and so does every checked write queued until the engine's reload (`open()`).
struct CheckedWriteGate {
    private(set) var closed = false

    /// Whether a new write may be queued.
    func admits(checked: Bool) -> Bool {
        !checked || !closed
    }

    /// Closes the gate after a failed batch that held checked writes; takes the checked writes
    /// queued behind it out of `pending` (to fail them with ``StoreFailure/behindFailedCommit``).
    mutating func close<Request>(behind pending: inout Deque<Request>, checked: (Request) -> Bool) -> [Request] {
        closed = true
        let behind = Array(pending.filter(checked))
        pending.removeAll(where: checked)
        return behind
    }

    mutating func open() {
        closed = false
    }
}
