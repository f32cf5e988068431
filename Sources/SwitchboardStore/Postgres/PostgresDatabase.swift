import GRDB
import Logging
import NIOCore
import NIOSSL
import PostgresNIO
import Synchronization
public import SwitchboardCore

/// The connection pool every tenant's ``PostgresStore`` shares, and how operations on it run:
/// each within the configured deadline (a database that went away fails calls with
/// `UNAVAILABLE` instead of holding them), its errors mapped to Switchboard's codes.
///
/// postgres-nio's pool reconnects with backoff by itself; nothing here blocks a thread.
final class PostgresPool: Sendable {
    let client: PostgresClient
    let location: PostgresLocation
    let logger: Logger
    private let running: Task<Void, Never>

    init(_ location: PostgresLocation, logger: Logger) {
        let tls: PostgresClient.Configuration.TLS = switch location.tls {
        case .disable: .disable
        case .prefer: .prefer(.makeClientConfiguration())
        case .require: .require(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.username, password: location.password,
            database: location.database, tls: tls
        )
        configuration.options.maximumConnections = location.poolSize
        configuration.options.connectTimeout = location.timeout
        // PostgreSQL itself cancels a statement (a commit waiting on a lock, say) before our
        // deadline gives up on it: a commit reported failed must not land later, after the
        // engine's reload read the database without it.
        let milliseconds = location.timeout.components.seconds * 1000 + location.timeout.components.attoseconds / 1_000_000_000_000_000
        configuration.options.additionalStartupParameters = [
            ("statement_timeout", "\(max(milliseconds * 8 / 10, 50))"),
            ("idle_in_transaction_session_timeout", "\(max(milliseconds, 100))"),
        ]
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        self.location = location
        self.logger = logger
        running = Task { await client.run() }
    }

    /// Closes every connection; later operations fail with `UNAVAILABLE`.
    func shutdown() {
        running.cancel()
    }

    /// Runs `body` on a pooled connection within the deadline.
    func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws(SwitchboardError) -> T {
        let client = self.client
        return try await within(location.timeout) { try await client.withConnection(body) }
    }

    /// Runs `body` in a transaction on a pooled connection within the deadline: committed when
    /// it returns, rolled back when it throws.
    func transaction<T: Sendable>(
        _ begin: String = "BEGIN", _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws(SwitchboardError) -> T {
        let logger = self.logger
        return try await withConnection { connection in
            try await connection.query(PostgresQuery(unsafeSQL: begin), logger: logger)
            do {
                let value = try await body(connection)
                try await connection.query("COMMIT", logger: logger)
                return value
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    /// Every row of `sql` with `binds`, each read by `make`.
    func rows<R: Sendable>(
        _ sql: String, _ binds: PostgresBindings, on connection: PostgresConnection? = nil,
        _ make: @escaping @Sendable (PostgresRandomAccessRow) throws -> R
    ) async throws(SwitchboardError) -> [R] {
        let logger = self.logger
        let query = PostgresQuery(unsafeSQL: sql, binds: binds)
        let read: @Sendable (PostgresConnection) async throws -> [R] = { connection in
            var rows: [R] = []
            for try await row in try await connection.query(query, logger: logger) { rows.append(try make(row.makeRandomAccess())) }
            return rows
        }
        if let connection {
            do { return try await read(connection) } catch { throw Self.map(error) }
        }
        return try await withConnection(read)
    }

    /// Runs `work` until `timeout`; then fails with `UNAVAILABLE` (`work` is cancelled and its
    /// result, should it come, dropped).
    func within<T: Sendable>(_ timeout: Duration, _ work: @escaping @Sendable () async throws -> T) async throws(SwitchboardError) -> T {
        let location = self.location
        let result: Result<T, SwitchboardError> = await withCheckedContinuation { continuation in
            let once = Mutex<CheckedContinuation<Result<T, SwitchboardError>, Never>?>(continuation)
            let finish: @Sendable (Result<T, SwitchboardError>) -> Bool = { result in
                guard let continuation = once.withLock({ $0.take() }) else { return false }
                continuation.resume(returning: result)
                return true
            }
            let task = Task {
                do { _ = finish(.success(try await work())) } catch { _ = finish(.failure(Self.map(error))) }
            }
            Task {
                try? await Task.sleep(for: timeout)
                if finish(.failure(SwitchboardError(.unavailable, "storage failed: PostgreSQL at \(location) did not answer within \(timeout)"))) {
                    task.cancel()
                }
            }
        }
        return try result.get()
    }

    /// A database error as Switchboard's: a domain error passes; a broken constraint is
    /// `INTERNAL` (the code should have checked); everything else `UNAVAILABLE`.
    static func map(_ error: any Error) -> SwitchboardError {
        if let error = error as? SwitchboardError { return error }
        if let error = error as? PSQLError {
            if let state = error.serverInfo?[.sqlState] {
                let message = error.serverInfo?[.message] ?? ""
                switch state.prefix(2) {
                case "23": return SwitchboardError(.internal, "storage constraint failed: \(message)")
                case "08", "28", "3D", "40", "53", "57", "58": return SwitchboardError(.unavailable, "storage failed: PostgreSQL \(state): \(message)")
                default: return SwitchboardError(.internal, "storage failed: PostgreSQL \(state): \(message)")
                }
            }
            let reason = error.underlying.map { "\($0)" } ?? "\(error.code)"
            return SwitchboardError(.unavailable, "storage failed: PostgreSQL unreachable (\(reason))")
        }
        if let error = error as? NIOSSLError {
            return SwitchboardError(.unavailable, "storage failed: TLS to PostgreSQL failed (\(error))")
        }
        if error is CancellationError { return SwitchboardError(.unavailable, "storage failed: cancelled") }
        return SwitchboardError(.unavailable, "storage failed: \(error)")
    }
}

/// Binds one row's values as a statement's parameters, in order.
struct BindingsSink: ColumnSink {
    var bindings: PostgresBindings

    init(_ bindings: PostgresBindings = PostgresBindings()) {
        self.bindings = bindings
    }

    mutating func add(_ value: String) { bindings.append(value) }
    mutating func add(_ value: Int64) { bindings.append(value) }
    mutating func add(blob: [UInt8]) { bindings.append(ByteBuffer(bytes: blob)) }
    mutating func addNull() { bindings.appendNull() }
}

/// Parameters from values: `binds("t", 3)`.
func binds(_ values: any PostgresDynamicTypeEncodable...) -> PostgresBindings {
    var bindings = PostgresBindings(capacity: values.count)
    for value in values { bindings.append(value) }
    return bindings
}

/// A PostgreSQL row as the records read it.
extension PostgresLocation {
    /// A single connection's configuration (the pool's is built in ``PostgresPool``).
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS = switch self.tls {
        case .disable: .disable
        case .prefer: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
        return PostgresConnection.Configuration(host: host, port: port, username: username, password: password, database: database, tls: tls)
    }
}

extension PostgresRandomAccessRow: StoredRow {
    func value<Value: StoredValue>(_ column: some ColumnExpression) throws -> Value {
        try self[column.name].decode(Value.self)
    }
}
