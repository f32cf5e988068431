import Foundation
import GRDB
public import SwitchboardCore

/// A tenant's durable state in a SQLite database (through GRDB): the embedded ``SwitchboardStore``.
///
/// Opening migrates the schema. Every change is committed before its method returns; concurrent
/// changes share transactions (group commit). All SQLite work runs on GRDB's own dispatch queues,
/// never on an event loop or the cooperative thread pool.
public final class SQLiteStore: SwitchboardStore {
    /// Where the store keeps its data.
    public enum Location: Sendable, Hashable {
        /// A database file (WAL mode); its folder is created when missing.
        case file(String)
        /// A private in-memory database, gone when the store is.
        case inMemory
    }

    let writer: any DatabaseWriter
    let commits: GroupCommitWriter
    let clock: any WallClock

    /// Opens (creating and migrating when needed) the store at `location`.
    ///
    /// - Throws: `SwitchboardError` `UNAVAILABLE` naming the file when it cannot be opened, is not a
    ///   database, or has a schema newer than this version knows.
    public init(location: Location, clock: any WallClock = SystemWallClock()) throws(SwitchboardError) {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.label = "switchboard"
        // Another connection (a previous process still closing) may hold a lock for a moment.
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            // Durable commits: WAL with a sync of the log at every commit. (A pool's writer is
            // set to NORMAL by GRDB after this runs; see below.)
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            switch location {
            case .file(let path):
                let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                writer = try DatabasePool(path: path, configuration: configuration)
            case .inMemory:
                writer = try DatabaseQueue(configuration: configuration)
            }
            // A database written by a newer version: migrating would not make it readable here.
            if try writer.read({ db in try Self.migrator.hasBeenSuperseded(db) }) {
                throw SwitchboardError(.unavailable, "its schema is newer than this version of Switchboard knows")
            }
            try Self.migrator.migrate(writer)
            // GRDB's DatabasePool sets `synchronous = NORMAL` on its writer when it switches the
            // file to WAL, after `prepareDatabase`: commits were then not synced, and an
            // acknowledged change could be lost to a power failure (not to a crash of the
            // process). The writer is set back to FULL, and checked.
            let synchronous = try writer.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                return try Int.fetchOne(db, sql: "PRAGMA synchronous")
            }
            guard synchronous == Self.synchronousFull else {
                throw SwitchboardError(.unavailable, "SQLite refused synchronous = FULL (it is \(synchronous.map(String.init) ?? "unknown"))")
            }
        } catch {
            let place = if case .file(let path) = location { "'\(path)'" } else { "in memory" }
            throw SwitchboardError(.unavailable, "cannot open the database \(place): \(error)")
        }
        self.commits = GroupCommitWriter(writer: writer)
        self.clock = clock
    }

    /// `PRAGMA synchronous`'s value for FULL: the log is synced at every commit.
    static let synchronousFull = 2

    /// The writer connection's `PRAGMA synchronous` (2 is FULL).
    func writerSynchronous() async throws(SwitchboardError) -> Int {
        try await write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// Runs `work` in a (possibly shared) write transaction; see ``GroupCommitWriter``.
    func write<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws(SwitchboardError) -> T {
        try await commits.write(work)
    }

    /// Runs `work` on a read-only snapshot.
    func read<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws(SwitchboardError) -> T {
        do {
            return try await writer.read(work)
        } catch {
            throw StoreErrors.map(error)
        }
    }

    /// Closes the database; later calls fail with `UNAVAILABLE`.
    public func close() {
        do {
            if let pool = writer as? DatabasePool {
                try pool.close()
            } else if let queue = writer as? DatabaseQueue {
                try queue.close()
            }
        } catch {
            // Statements still running keep it open; it closes when released.
        }
    }

    /// The names of the migrations applied, oldest first.
    public func appliedMigrations() async throws(SwitchboardError) -> [String] {
        try await read { db in try Self.migrator.appliedIdentifiers(db).sorted() }
    }
}
