public import Logging
import Synchronization
public import SwitchboardCore
public import SwitchboardStore

/// The stores the tests run on: SQLite by default; PostgreSQL when `SWITCHBOARD_TEST_STORE` is
/// `postgres` (`scripts/test` runs the end-to-end suites both ways).
///
/// On PostgreSQL, each distinct `database` name a test passes (a file path, to test restarts)
/// stands for one private database of the shared test cluster, made at its first use; `nil`
/// is a new database each time (SQLite: in memory).
public enum TestStores {
    /// Whether the tests run on PostgreSQL.
    public static var onPostgres: Bool { env("SWITCHBOARD_TEST_STORE") == "postgres" }

    private static let databases = Mutex<[String: String]>([:])

    /// The backend for `database` (see the type's description).
    public static func open(_ database: String?, clock: any WallClock, logger: Logger) async throws -> any StoreBackend {
        guard onPostgres else {
            return try await SQLiteBackend(location: database.map { .file($0) } ?? .inMemory, clock: clock)
        }
        var location = try PostgresLocation(url: try await url(for: database))
        // Many test servers run at once, each with its own pool.
        location.poolSize = 4
        return try await PostgresBackend(location: location, clock: clock, logger: logger)
    }

    /// The PostgreSQL URL standing for `database` (a new database for `nil`).
    public static func url(for database: String?) async throws -> String {
        if let database, let known = databases.withLock({ $0[database] }) { return known }
        let url = try await PostgresServer.shared().makeDatabase()
        guard let database else { return url }
        return databases.withLock { databases in
            if let known = databases[database] { return known }
            databases[database] = url
            return url
        }
    }

    private static func env(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }
}

#if canImport(Glibc)
import Glibc
#endif
