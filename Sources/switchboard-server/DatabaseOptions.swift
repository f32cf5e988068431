import ArgumentParser
import Logging
import SwitchboardCore
import SwitchboardStore

/// Where the data is: `--database` (a SQLite file or a PostgreSQL URL), else `--data-dir`'s
/// `switchboard.sqlite`; shared by `serve`, `keys` and `copy-data`.
struct DatabaseOptions: ParsableArguments {
    @Option(help: "Folder of the default database, switchboard.sqlite, when --database is not given (SWITCHBOARD_DATA_DIR).")
    var dataDir: String = env("SWITCHBOARD_DATA_DIR") ?? "./data"

    @Option(help: "The database: a SQLite file path, or postgres://user:password@host:port/database[?sslmode=disable|prefer|require] (SWITCHBOARD_DATABASE). Default: <data-dir>/switchboard.sqlite.")
    var database: String? = env("SWITCHBOARD_DATABASE")

    @Option(help: "PostgreSQL only: connections to the database at most (SWITCHBOARD_DATABASE_POOL_SIZE).")
    var databasePoolSize: Int = env("SWITCHBOARD_DATABASE_POOL_SIZE").flatMap(Int.init) ?? 10

    @Option(help: "PostgreSQL only: seconds a connection, query or commit may take before the call fails UNAVAILABLE (SWITCHBOARD_DATABASE_TIMEOUT_SECONDS).")
    var databaseTimeoutSeconds: Double = env("SWITCHBOARD_DATABASE_TIMEOUT_SECONDS").flatMap(Double.init) ?? 10

    func validate() throws {
        guard (1...1000).contains(databasePoolSize) else {
            throw ValidationError("--database-pool-size must be between 1 and 1000, got \(databasePoolSize)")
        }
        guard databaseTimeoutSeconds >= 0.1, databaseTimeoutSeconds <= 3600 else {
            throw ValidationError("--database-timeout-seconds must be between 0.1 and 3600, got \(databaseTimeoutSeconds)")
        }
        _ = try parsedLocation()
    }

    /// The SQLite file when the database is one.
    var sqlitePath: String? {
        guard case .sqlite(let path)? = try? parsedLocation() else { return nil }
        return path
    }

    /// A failure to open or load the database, in words naming it (`description`: the backend's).
    func describe(_ error: SwitchboardError, description: String? = nil) -> String {
        if let path = sqlitePath { return DatabaseChecks.describe(error, databasePath: path) }
        return description.map { "cannot load \($0): \(error)" } ?? error.message
    }

    private func parsedLocation() throws -> StoreLocation {
        guard let database else { return .sqlite(path: databasePath(dataDir: dataDir)) }
        do {
            return try StoreLocation(parsing: database)
        } catch {
            throw ValidationError(error.message)
        }
    }

    /// The location, with the pool's settings for PostgreSQL.
    func location() throws -> StoreLocation {
        var location = try parsedLocation()
        if case .postgres(var postgres) = location {
            postgres.poolSize = databasePoolSize
            postgres.timeout = .milliseconds(Int64(databaseTimeoutSeconds * 1000))
            location = .postgres(postgres)
        }
        return location
    }

    /// Opens the backend; a failure is a message naming the database.
    func open(logger: Logger) async throws(DatabaseOpenError) -> any StoreBackend {
        let location: StoreLocation
        do { location = try self.location() } catch { throw DatabaseOpenError("\(error)") }
        if let path = sqlitePath, let problem = DatabaseChecks.problem(dataDir: dataDir, databasePath: path, explicit: database != nil) {
            throw DatabaseOpenError(problem)
        }
        do {
            return try await location.openBackend(logger: logger)
        } catch {
            throw DatabaseOpenError(describe(error))
        }
    }
}

/// Why the database cannot be opened, in words naming it.
struct DatabaseOpenError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
