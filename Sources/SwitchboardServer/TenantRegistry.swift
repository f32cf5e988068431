import Dispatch
public import Logging
public import ServiceLifecycle
public import SwitchboardCore
public import SwitchboardRPC
public import SwitchboardStore
import Synchronization

/// One awake tenant: its routing core, its store and its timers.
public final class TenantRuntime: Sendable {
    /// The tenant's id.
    public let id: String
    /// Its routing core.
    public let engine: SwitchboardEngine
    /// Its data.
    public let store: any SwitchboardStore
    private let timers: Task<Void, Never>?
    /// Whether its store is the catalog's (the `default` tenant), which stays open.
    private let ownsStore: Bool

    init(id: String, engine: SwitchboardEngine, store: any SwitchboardStore, ownsStore: Bool, tick: Duration?) {
        self.id = id
        self.engine = engine
        self.store = store
        self.ownsStore = ownsStore
        timers = tick.map { tick in
            Task {
                while !Task.isCancelled {
                    do { try await Task.sleep(for: tick) } catch { return }
                    await engine.fireDueTimers()
                }
            }
        }
    }

    /// Stops the timers and the event feeds, and closes the store (unless it is the catalog).
    func stop() {
        timers?.cancel()
        engine.hub.finishAll()
        if ownsStore { store.close() }
    }
}

/// The tenants of a server: which exist (the catalog, kept in memory), which are awake, and the
/// per-tenant counting of calls and watchers.
///
/// A tenant's routing core starts at its first call, and is put to sleep (its store closed, its
/// memory freed) once it has had no call, no call in flight and no watcher for ``idleAfter``; a
/// sleeping tenant with a timer pending is woken when it falls due. Waking is the restart path:
/// the state is loaded from the tenant's database. The `default` tenant, whose data is the
/// catalog's, never sleeps, and neither do the tenants of an in-memory catalog (their data
/// lives only in their open store).
///
/// The hot path (an awake tenant) is a lock and a dictionary lookup; the store's I/O never runs on
/// the caller's thread.
public final class TenantRegistry: Sendable {
    /// Makes a tenant's allocation hook (each tenant has its own connections).
    public typealias HookFactory = @Sendable (_ tenantID: String) -> (any AllocationHook)?

    private enum Phase {
        /// `usage` as it fell asleep; `nil` when not known (not loaded since the server started).
        case asleep(wakeAt: Timestamp?, usage: Usage?, stopping: Task<Void, Never>?)
        case waking(Task<TenantRuntime, any Error>)
        case awake(TenantRuntime)
    }

    private struct Usage {
        var agents = 0
        var openSessions = 0
        var queuedSessions = 0

        init() {}

        /// What `engine` counts now.
        init(of engine: SwitchboardEngine) async {
            (agents, openSessions, queuedSessions) = await engine.usage()
        }
    }

    private struct Entry {
        var record: TenantRecord
        var phase: Phase
        var limiter: CallRateLimiter
        var inFlight = 0
        var watchers = 0
        var lastUsed: UInt64
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var stopped = false
    }

    /// The catalog: tenants and API keys, and the `default` tenant's data.
    public let catalog: any SwitchboardStore
    /// Where every tenant's data is.
    public let backend: any StoreBackend
    private let hook: HookFactory
    private let clock: any WallClock
    private let monotonic: @Sendable () -> UInt64
    private let logger: Logger
    /// How long a tenant stays awake with nothing to do.
    public let idleAfter: Duration
    private let tick: Duration?
    private let state = Mutex(State())

    /// Opens the registry over `backend`: reads the tenants (adding `default` to a database made
    /// before tenants), removes the data of tenants deleted while a deletion was cut short, and
    /// wakes `default`. Each awake tenant fires its due timers every `tick` (`nil`: only when
    /// asked, for tests with a manual clock).
    public init(
        backend: any StoreBackend, hook: @escaping HookFactory, clock: any WallClock = SystemWallClock(),
        monotonic: @escaping @Sendable () -> UInt64 = TenantRegistry.uptimeNanoseconds,
        idleAfter: Duration = .seconds(300), tick: Duration? = .milliseconds(200), logger: Logger
    ) async throws(SwitchboardError) {
        self.catalog = backend.catalog
        self.backend = backend
        self.hook = hook
        self.clock = clock
        self.monotonic = monotonic
        self.idleAfter = idleAfter
        self.tick = tick
        self.logger = logger
        let records = try await catalog.tenants()
        let known = Set(records.map(\.id))
        for orphan in try await backend.tenantsWithData() where !known.contains(orphan) {
            logger.warning("removing the data of a deleted tenant", metadata: ["tenant": "\(orphan)"])
            try await backend.removeData(of: orphan)
        }
        let now = monotonic()
        state.withLock { state in
            for record in records {
                // Due at once: the first sweep wakes each tenant (loading it fires the timers that
                // fell due while the server was down) and the next puts it back to sleep, with its
                // next timer known. Meanwhile a call wakes it as usual.
                state.entries[record.id] = Entry(
                    record: record, phase: .asleep(wakeAt: Timestamp(milliseconds: 0), usage: nil, stopping: nil),
                    limiter: CallRateLimiter(rate: record.quotas.maxCallsPerSecond, now: now), lastUsed: 0
                )
            }
        }
        // The default tenant is awake from the start: its data is the catalog's.
        _ = try await awake(TenantRules.defaultID)
    }

    /// The system's monotonic clock, in nanoseconds.
    public static let uptimeNanoseconds: @Sendable () -> UInt64 = { DispatchTime.now().uptimeNanoseconds }

    // MARK: Calls

    /// The tenant a call acts in, awake, with the call counted (calls per second, in flight);
    /// end the call with ``leave(_:watching:)``.
    ///
    /// - Throws: `NOT_FOUND` (no such tenant), `PERMISSION_DENIED` (a key of another tenant),
    ///   `RESOURCE_EXHAUSTED` (a quota), `UNAVAILABLE` (its database cannot be opened).
    public func enter(_ context: ServerContext, watching: Bool = false) async throws(SwitchboardError) -> TenantRuntime {
        let id = try Self.tenantID(of: context)
        let now = monotonic()
        let admitted: Result<Phase, SwitchboardError> = state.withLock { state in
            // In place (the values' subscript by index): no copy of the entry on the hot path.
            guard !state.stopped, let index = state.entries.index(forKey: id) else {
                return .failure(SwitchboardError(.notFound, "tenant '\(id)' does not exist"))
            }
            guard state.entries.values[index].limiter.admit(now: now) else {
                let limit = state.entries.values[index].record.quotas.maxCallsPerSecond
                return .failure(SwitchboardError(
                    .resourceExhausted, "quota max_calls_per_second of tenant '\(id)' reached: \(limit) calls per second at most"
                ))
            }
            if watching {
                let limit = state.entries.values[index].record.quotas.maxWatchers
                let open = state.entries.values[index].watchers
                if limit > 0, open >= limit {
                    return .failure(SwitchboardError(
                        .resourceExhausted, "quota max_watchers of tenant '\(id)' reached: \(limit) at most, \(open) open"
                    ))
                }
                state.entries.values[index].watchers += 1
            }
            state.entries.values[index].inFlight += 1
            state.entries.values[index].lastUsed = now
            return .success(state.entries.values[index].phase)
        }
        let phase = try admitted.get()
        if case .awake(let runtime) = phase { return runtime }
        do {
            return try await awake(id)
        } catch {
            leave(id, watching: watching)
            throw error
        }
    }

    /// Ends a call begun with ``enter(_:watching:)``.
    public func leave(_ runtime: TenantRuntime, watching: Bool = false) {
        leave(runtime.id, watching: watching)
    }

    private func leave(_ id: String, watching: Bool) {
        let now = monotonic()
        state.withLock { state in
            guard let index = state.entries.index(forKey: id) else { return }
            state.entries.values[index].inFlight -= 1
            if watching { state.entries.values[index].watchers -= 1 }
            state.entries.values[index].lastUsed = now
        }
    }

    /// The tenant a call names: its key's, or (operator keys, servers without keys) the metadata's.
    static func tenantID(of context: ServerContext) throws(SwitchboardError) -> String {
        let requested = context.metadata.first(TenantRules.metadataKey)
        guard let principal = context.principal else {
            return try TenantRules.tenant(requested: requested, role: nil, keyTenant: nil)
        }
        return try TenantRules.tenant(requested: requested, role: APIRole(rawValue: principal.role), keyTenant: principal.scope)
    }

    /// Tenant `id` awake: at once if it is, else once woken (one wake for concurrent callers).
    /// Calls go through ``enter(_:watching:)``, which counts them; this is for the server itself.
    public func awake(_ id: String) async throws(SwitchboardError) -> TenantRuntime {
        enum Next {
            case ready(TenantRuntime)
            case waiting(Task<TenantRuntime, any Error>)
        }
        let next: Result<Next, SwitchboardError> = state.withLock { state in
            guard !state.stopped, let entry = state.entries[id] else {
                return .failure(SwitchboardError(.notFound, "tenant '\(id)' does not exist"))
            }
            switch entry.phase {
            case .awake(let runtime):
                return .success(.ready(runtime))
            case .waking(let task):
                return .success(.waiting(task))
            case .asleep(_, _, let stopping):
                let task = Task { [self] in try await self.wake(entry.record, after: stopping) }
                state.entries[id]?.phase = .waking(task)
                return .success(.waiting(task))
            }
        }
        let task: Task<TenantRuntime, any Error>
        switch try next.get() {
        case .ready(let runtime): return runtime
        case .waiting(let waiting): task = waiting
        }
        do {
            return try await task.value
        } catch {
            // Back to sleep, so that the next call tries again.
            state.withLock { state in
                if case .waking = state.entries[id]?.phase {
                    state.entries[id]?.phase = .asleep(wakeAt: nil, usage: nil, stopping: nil)
                }
            }
            if let error = error as? SwitchboardError { throw error }
            throw SwitchboardError(.unavailable, "tenant '\(id)' cannot start: \(error)")
        }
    }

    private func wake(_ record: TenantRecord, after stopping: Task<Void, Never>?) async throws -> TenantRuntime {
        await stopping?.value
        let started = monotonic()
        let isDefault = record.id == TenantRules.defaultID
        // Opening may migrate a file: the backend does it off the caller's thread.
        let store = try await backend.open(tenant: record.id)
        let engine: SwitchboardEngine
        do {
            engine = try await SwitchboardEngine(
                store: store, clock: clock, hook: hook(record.id),
                logger: logger.with(tenant: record.id), quotas: record.quotas, tenantID: record.id
            )
        } catch {
            if !isDefault { store.close() }
            throw error
        }
        let runtime = TenantRuntime(id: record.id, engine: engine, store: store, ownsStore: !isDefault, tick: tick)
        let installed = state.withLock { state in
            guard !state.stopped, case .waking = state.entries[record.id]?.phase else { return false }
            state.entries[record.id]?.phase = .awake(runtime)
            return true
        }
        guard installed else {
            // Deleted (or the server stopped) while waking.
            runtime.stop()
            throw SwitchboardError(.notFound, "tenant '\(record.id)' does not exist")
        }
        logger.debug(
            "tenant awake", metadata: ["tenant": "\(record.id)", "ms": "\(Double(monotonic() - started) / 1e6)"]
        )
        return runtime
    }

    // MARK: Sleeping

    private var idleNanos: UInt64 {
        UInt64(idleAfter.components.seconds) * 1_000_000_000 + UInt64(idleAfter.components.attoseconds / 1_000_000_000)
    }

    /// Puts to sleep the tenants idle for ``idleAfter``, and wakes the sleeping ones whose next
    /// timer is due. The registry's service runs it every second; tests call it with their clock.
    public func sweep() async {
        let now = monotonic()
        let wallNow = clock.now()
        let idleNanos = self.idleNanos
        var sleepy: [TenantRuntime] = []
        var due: [String] = []
        state.withLock { state in
            for (id, entry) in state.entries {
                switch entry.phase {
                case .awake(let runtime) where id != TenantRules.defaultID && backend.tenantsCanSleep && entry.inFlight == 0
                    && entry.watchers == 0 && now >= entry.lastUsed + idleNanos:
                    sleepy.append(runtime)
                case .asleep(let wakeAt?, _, _) where wakeAt <= wallNow:
                    due.append(id)
                default:
                    break
                }
            }
        }
        for runtime in sleepy { await sleep(runtime) }
        // Woken for their timers only: with no call since, the next sweep puts them back to sleep.
        for id in due { _ = try? await awake(id) }
    }

    private func sleep(_ runtime: TenantRuntime) async {
        let wakeAt = await runtime.engine.nextDeadline()
        let usage = await Usage(of: runtime.engine)
        let now = monotonic()
        let idleNanos = self.idleNanos
        state.withLock { state in
            // Only if nothing came in meanwhile.
            guard var entry = state.entries[runtime.id], case .awake(let current) = entry.phase, current === runtime,
                entry.inFlight == 0, entry.watchers == 0, now >= entry.lastUsed + idleNanos
            else { return }
            entry.phase = .asleep(wakeAt: wakeAt, usage: usage, stopping: Task { runtime.stop() })
            state.entries[runtime.id] = entry
        }
    }

    // MARK: Managing tenants

    /// The tenant's record and usage (`awake` tells whether its routing core runs).
    public func tenant(_ id: String) async throws(SwitchboardError) -> (record: TenantRecord, usage: TenantUsageFigures) {
        let now = monotonic()
        let found: (TenantRecord, Phase, Int, Int)? = state.withLock { state in
            guard var entry = state.entries[id] else { return nil }
            let calls = entry.limiter.callsLastSecond(now: now)
            state.entries[id] = entry
            return (entry.record, entry.phase, calls, entry.watchers)
        }
        guard let (record, phase, calls, watchers) = found else {
            throw SwitchboardError(.notFound, "tenant '\(id)' does not exist")
        }
        var counts = Usage()
        var awake = false
        switch phase {
        case .asleep(_, let asleep?, _):
            counts = asleep
        case .awake, .waking, .asleep(_, nil, _):
            // Awake; or not counted since the server started: loaded to count (it sleeps again at
            // a later sweep, as no call used it).
            if let runtime = try? await self.awake(id) {
                counts = await Usage(of: runtime.engine)
                awake = true
            }
        }
        let usage = TenantUsageFigures(
            agents: counts.agents, openSessions: counts.openSessions, queuedSessions: counts.queuedSessions,
            callsPerSecond: calls, watchers: watchers, awake: awake
        )
        return (record, usage)
    }

    /// Every tenant's record, by id.
    public func records() -> [TenantRecord] {
        state.withLock { state in state.entries.values.map(\.record) }.sorted { $0.id < $1.id }
    }

    /// Creates a tenant (asleep until its first call), created now by the registry's clock; an
    /// empty display name is the id.
    public func create(id: String, displayName: String, quotas: TenantQuotas) async throws(SwitchboardError) -> TenantRecord {
        try TenantRules.validateID(id)
        let record = TenantRecord(id: id, displayName: displayName.isEmpty ? id : displayName, quotas: quotas, createdAt: clock.now())
        try TenantRules.validateName(record.displayName)
        try record.quotas.validate()
        if state.withLock({ $0.entries[record.id] != nil }) {
            throw SwitchboardError(.alreadyExists, "tenant '\(record.id)' already exists")
        }
        // Data left by a deletion cut short is not this new tenant's.
        try await backend.removeData(of: record.id)
        try await catalog.insertTenant(record)
        let now = monotonic()
        state.withLock { state in
            state.entries[record.id] = Entry(
                record: record, phase: .asleep(wakeAt: nil, usage: Usage(), stopping: nil),
                limiter: CallRateLimiter(rate: record.quotas.maxCallsPerSecond, now: now), lastUsed: now
            )
        }
        return record
    }

    /// Changes a tenant's name and/or quotas; they apply to the next calls at once.
    public func update(_ id: String, displayName: String?, quotas: TenantQuotas?) async throws(SwitchboardError) -> TenantRecord {
        guard var record = state.withLock({ $0.entries[id]?.record }) else {
            throw SwitchboardError(.notFound, "tenant '\(id)' does not exist")
        }
        if let displayName {
            try TenantRules.validateName(displayName)
            record.displayName = displayName
        }
        if let quotas {
            try quotas.validate()
            record.quotas = quotas
        }
        try await catalog.updateTenant(record)
        let now = monotonic()
        let runtime: TenantRuntime? = state.withLock { state in
            guard var entry = state.entries[id] else { return nil }
            entry.record = record
            entry.limiter.setRate(record.quotas.maxCallsPerSecond, now: now)
            state.entries[id] = entry
            if case .awake(let runtime) = entry.phase { return runtime }
            return nil
        }
        await runtime?.engine.setQuotas(record.quotas)
        return record
    }

    /// Deletes a tenant and all its data, durably: the catalog forgets it and its keys (one
    /// commit) before its data goes; its routing core stops, its calls in flight fail, its event
    /// streams end. A crash between the two leaves data that the next start removes.
    public func delete(_ id: String, keys: APIKeyRing? = nil) async throws(SwitchboardError) {
        guard id != TenantRules.defaultID else {
            throw SwitchboardError(.failedPrecondition, "the default tenant cannot be deleted")
        }
        guard state.withLock({ $0.entries[id] != nil }) else {
            throw SwitchboardError(.notFound, "tenant '\(id)' does not exist")
        }
        try await catalog.deleteTenant(id: id)
        if let keys { keys.replace(with: try await catalog.apiKeys()) }
        if let phase = state.withLock({ state in state.entries.removeValue(forKey: id)?.phase }) { await Self.stop(phase) }
        try await backend.removeData(of: id)
        logger.info("tenant deleted", metadata: ["tenant": "\(id)"])
    }

    /// Stops every tenant (the server is stopping).
    public func stopAll() async {
        let phases = state.withLock { state in
            state.stopped = true
            return state.entries.values.map(\.phase)
        }
        for phase in phases { await Self.stop(phase) }
    }

    /// Stops a tenant's routing core in whatever phase it is (a wake in progress finishes first).
    private static func stop(_ phase: Phase) async {
        switch phase {
        case .awake(let runtime): runtime.stop()
        case .waking(let task): (try? await task.value)?.stop()
        case .asleep(_, _, let stopping): await stopping?.value
        }
    }

    /// How many tenants are awake.
    public var awakeCount: Int {
        state.withLock { state in
            state.entries.values.filter { if case .awake = $0.phase { true } else { false } }.count
        }
    }
}

/// What a tenant uses, for `GetTenant`.
public struct TenantUsageFigures: Sendable, Hashable {
    public var agents = 0
    public var openSessions = 0
    public var queuedSessions = 0
    public var callsPerSecond = 0
    public var watchers = 0
    public var awake = false
}

/// Runs the registry's sweep every second (sleeping idle tenants, waking due ones), and stops
/// every tenant when the server stops.
public struct TenantSweeper: Service {
    private let registry: TenantRegistry
    private let interval: Duration

    public init(registry: TenantRegistry, interval: Duration = .seconds(1)) {
        self.registry = registry
        self.interval = interval
    }

    public func run() async throws {
        try await runPeriodically(every: interval) { [registry] in await registry.sweep() }
        await registry.stopAll()
    }
}

extension Logger {
    /// This logger with the tenant's id in every message.
    public func with(tenant: String) -> Logger {
        var logger = self
        logger[metadataKey: "tenant"] = "\(tenant)"
        return logger
    }
}
