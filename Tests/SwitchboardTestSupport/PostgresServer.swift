public import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A private PostgreSQL cluster on `127.0.0.1` and a free port, run by `scripts/pg-cluster` in a
/// folder under `/tmp` (as the `postgres` OS user when the tests run as root).
///
/// Most tests share one cluster per test process (``shared()``) and take a new empty database
/// each (``makeDatabase()``), so they can run in parallel; a test that restarts or stops the
/// server starts its own (``start(fast:)``). Every cluster is stopped and its folder removed when
/// the test process ends: by an `atexit` hook on a normal exit, and by the script's watchdog
/// (`pg-cluster start --watch <pid>`) when the process is killed or crashes.
///
/// Tests that need PostgreSQL are marked
/// `.enabled(if: PostgresServer.isAvailable || PostgresServer.required)`: skipped where it is
/// not installed, except on CI (``required``), where they run and fail, saying what to install.
public final class PostgresServer: Sendable {
    /// The cluster's folder: the data in `data/`, the server's log in `log`, its Unix socket.
    public let directory: URL
    /// The server's TCP port on 127.0.0.1.
    public let port: Int

    /// The URL of the cluster's own database `switchboard` (owned by `switchboard`, the
    /// superuser, who needs no password); ``makeDatabase()``'s URLs differ only in the database.
    public var baseURL: String { url(database: "switchboard") }

    private init(directory: URL, port: Int) {
        self.directory = directory
        self.port = port
    }

    // MARK: Finding PostgreSQL

    /// The repository's root, found from this file's path.
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `scripts/pg-cluster`.
    static let script = repository.appendingPathComponent("scripts/pg-cluster")

    /// The folder of the PostgreSQL binaries `scripts/pg-cluster` uses (`pg-cluster bindir`),
    /// or nil when PostgreSQL is not installed.
    public static let binDirectory: URL? = {
        let process = Process()
        process.executableURL = script
        process.arguments = ["bindir"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let path = String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0, !path.isEmpty else { return nil }
        return URL(fileURLWithPath: path, isDirectory: true)
    }()

    /// Whether the PostgreSQL binaries are installed (`scripts/install-deps --test` installs them).
    public static var isAvailable: Bool { binDirectory != nil }

    /// Whether PostgreSQL must be there: on CI (the environment variable `CI` is `true`) a missing
    /// PostgreSQL is a test failure, not a skip. Hence
    /// `.enabled(if: PostgresServer.isAvailable || PostgresServer.required)`: on CI the test
    /// runs, and ``shared()`` or ``start(fast:)`` throws, saying to run `scripts/install-deps --test`.
    public static var required: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// The `psql` program, to run queries against the URLs.
    public static var psql: URL {
        get throws {
            guard let binDirectory else { throw PostgresServerError(message: notInstalled) }
            return binDirectory.appendingPathComponent("psql")
        }
    }

    private static let notInstalled = "PostgreSQL is not installed: run scripts/install-deps --test"

    // MARK: Clusters

    /// The test process's shared cluster, started on first use in fast mode (no fsync: its data
    /// need not survive a crash of the machine). Do not stop or restart it: other tests use it.
    public static func shared() async throws -> PostgresServer {
        let task = sharedServer.withLock { task in
            if let task { return task }
            let started = Task { try await start(fast: true) }
            task = started
            return started
        }
        return try await task.value
    }

    private static let sharedServer = Mutex<Task<PostgresServer, any Error>?>(nil)

    /// A new cluster of the test's own, ready to accept connections, with an empty database
    /// `switchboard` (``baseURL``). With `fast`, fsync, synchronous_commit and full_page_writes
    /// are off (`PG_FAST=1`): quicker, and durable across restarts of the server but not of the
    /// machine. ``stop()`` ends it; the end of the test process does too.
    public static func start(fast: Bool) async throws -> PostgresServer {
        guard isAvailable else { throw PostgresServerError(message: notInstalled) }
        _ = stopAtExit
        var template = Array("/tmp/switchboard-pg-XXXXXX".utf8CString)
        let path = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!).map { String(cString: $0) } }
        guard let path else { throw PostgresServerError(message: "mkdtemp: \(String(cString: strerror(errno)))") }
        let directory = URL(fileURLWithPath: path, isDirectory: true)
        live.withLock { _ = $0.insert(directory.path) }
        var environment = ProcessInfo.processInfo.environment
        environment["PORT"] = nil  // a free port, whatever the environment says
        environment["PG_FAST"] = fast ? "1" : nil
        let pid = ProcessInfo.processInfo.processIdentifier
        do {
            let result = try await runProgram(
                script, arguments: ["start", "--watch", "\(pid)", directory.path], environment: environment)
            guard result.status == 0 else {
                throw PostgresServerError(message: "scripts/pg-cluster start failed:\n\(result.output)")
            }
            let text = try String(contentsOf: directory.appendingPathComponent("port"), encoding: .utf8)
            guard let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw PostgresServerError(message: "scripts/pg-cluster start wrote no port")
            }
            return PostgresServer(directory: directory, port: port)
        } catch {
            try? await PostgresServer(directory: directory, port: 0).stop()
            throw error
        }
    }

    /// A new empty database (a unique name, owned by `switchboard`) and its URL.
    public func makeDatabase() async throws -> String {
        let name = "test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await sql("CREATE DATABASE \(name)")
        return url(database: name)
    }

    /// Restarts the server (`pg_ctl restart -m fast`: sessions are ended) on the same port and
    /// data; returns once it accepts connections again.
    public func restart() async throws {
        try await pgCluster("restart", directory.path)
    }

    /// Stops the server and removes its folder (and its watchdog). Stopping a stopped cluster
    /// does nothing.
    public func stop() async throws {
        try await pgCluster("stop", "--remove", directory.path)
        _ = Self.live.withLock { $0.remove(directory.path) }
    }

    private func url(database: String) -> String {
        "postgres://switchboard@127.0.0.1:\(port)/\(database)"
    }

    /// Runs SQL in the `switchboard` database through psql.
    private func sql(_ statement: String) async throws {
        let result = try await runProgram(
            try Self.psql, arguments: ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", baseURL, "-c", statement])
        guard result.status == 0 else {
            throw PostgresServerError(message: "psql \(statement): \(result.output)")
        }
    }

    private func pgCluster(_ arguments: String...) async throws {
        let result = try await runProgram(Self.script, arguments: arguments)
        guard result.status == 0 else {
            throw PostgresServerError(message: "scripts/pg-cluster \(arguments.joined(separator: " ")) failed:\n\(result.output)")
        }
    }

    // MARK: Stopping at exit

    /// The folders of the clusters this process started and has not stopped.
    private static let live = Mutex<Set<String>>([])

    /// Registers (once) the `atexit` hook that stops the clusters still running.
    private static let stopAtExit: Void = {
        atexit { PostgresServer.stopLiveClusters() }
    }()

    /// Runs `pg-cluster stop --remove` for each live cluster and waits for it. Called while the
    /// process exits, so with posix_spawn and waitpid rather than Foundation's Process.
    private static func stopLiveClusters() {
        let directories = live.withLock { live in
            defer { live.removeAll() }
            return live
        }
        for directory in directories {
            let arguments = [script.path, "stop", "--remove", directory]
            let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
            defer { argv.forEach { free($0) } }
            var pid = pid_t()
            #if canImport(Darwin)
            let environment = _NSGetEnviron().pointee
            #else
            let environment = environ
            #endif
            guard posix_spawn(&pid, script.path, nil, nil, argv, environment) == 0 else { continue }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        }
    }
}

/// A PostgreSQL cluster that did not start, restart or stop, or a statement that failed; the
/// message has the program's output.
public struct PostgresServerError: Error, CustomStringConvertible {
    /// What went wrong.
    public let message: String
    public var description: String { message }
}
