public import Logging
import PostgresNIO
import Synchronization
public import SwitchboardCore

/// The PostgreSQL backend: every tenant in one database, each row keyed by its tenant, over one
/// connection pool; the `default` tenant's store holds the catalog's tables too.
///
/// Opening connects and migrates (under an advisory lock) within the deadline: a database that
/// cannot be reached fails the start-up with `UNAVAILABLE` naming it.
public final class PostgresBackend: StoreBackend {
    public let catalog: any SwitchboardStore
    private let pool: PostgresPool
    private let clock: any WallClock
    /// Each tenant's store, kept while the tenant sleeps: its commit queue is the one place its
    /// writes are ordered, also across a sleep and the wake after it.
    private let stores = Mutex<[String: PostgresStore]>([:])

    public init(location: PostgresLocation, clock: any WallClock = SystemWallClock(), logger: Logger) async throws(SwitchboardError) {
        let pool = PostgresPool(location, logger: logger)
        do {
            // One connection of its own first, not the pool's: the pool retries a failed connection
            // until the deadline and keeps its error, while this one fails at once with the reason
            // (refused, no such database, authentication).
            try await pool.within(location.timeout) {
                let connection = try await PostgresConnection.connect(configuration: try location.connectionConfiguration(), id: 0, logger: logger)
                do {
                    try await PostgresSchema.migrate(connection, logger: logger)
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
            }
        } catch {
            pool.shutdown()
            throw SwitchboardError(error.kind, "cannot open the database \(location): \(error.message)")
        }
        self.pool = pool
        self.clock = clock
        catalog = PostgresStore(pool: pool, tenant: TenantRules.defaultID, clock: clock)
    }

    public var description: String { "PostgreSQL \(pool.location)" }

    /// Every tenant's data stays in the database while its routing core sleeps.
    public var tenantsCanSleep: Bool { true }

    public func open(tenant id: String) async throws(SwitchboardError) -> any SwitchboardStore {
        if id == TenantRules.defaultID { return catalog }
        return stores.withLock { stores in
            if let store = stores[id] { return store }
            let store = PostgresStore(pool: pool, tenant: id, clock: clock)
            stores[id] = store
            return store
        }
    }

    /// Deletes a tenant's rows again after its routing core stopped (``PostgresStore/deleteTenant(id:)``
    /// deleted them with the catalog's rows; a commit in flight may have written more).
    public func removeData(of id: String) async throws(SwitchboardError) {
        _ = stores.withLock { $0.removeValue(forKey: id) }
        let logger = pool.logger
        try await pool.transaction { connection in try await Self.deleteData(of: id, on: connection, logger: logger) }
    }

    static func deleteData(of id: String, on connection: PostgresConnection, logger: Logger) async throws {
        for table in PostgresSchema.tenantTables {
            try await connection.query(PostgresQuery(unsafeSQL: "DELETE FROM \(table) WHERE tenant_id = $1", binds: binds(id)), logger: logger)
        }
    }

    /// Tenants with an agent, a group or settings. (A deletion is one transaction here, so none
    /// is left by a deletion cut short but for a commit in flight; the large tables are not scanned.)
    public func tenantsWithData() async throws(SwitchboardError) -> [String] {
        try await pool.rows(
            "SELECT tenant_id FROM agents UNION SELECT tenant_id FROM groups UNION SELECT tenant_id FROM settings",
            PostgresBindings(), { row in try row[0].decode(String.self) }
        ).filter { $0 != TenantRules.defaultID }.sorted()
    }

    public func shutdown() async {
        pool.shutdown()
    }
}

extension StoreLocation {
    /// Opens the backend this location names (creating and migrating what it needs).
    public func openBackend(clock: any WallClock = SystemWallClock(), logger: Logger) async throws(SwitchboardError) -> any StoreBackend {
        switch self {
        case .sqlite(let path): try await SQLiteBackend(location: .file(path), clock: clock)
        case .sqliteInMemory: try await SQLiteBackend(location: .inMemory, clock: clock)
        case .postgres(let location): try await PostgresBackend(location: location, clock: clock, logger: logger)
        }
    }
}
