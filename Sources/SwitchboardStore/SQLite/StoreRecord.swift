import Foundation
import GRDB
import GRDBSQLite
import SwitchboardCore

/// A row of one table: its named columns, read by name, and its values in column order for the
/// store's cached statements.
///
/// Every table has exactly one such record type; mapping to and from the core's types stays in the
/// record's file. Writes bind ``bind(_:)``'s values straight to a cached statement whose SQL is
/// built once from ``Columns`` (see ``RowBinder``).
///
/// `Columns` is GRDB's `TableRecord.Columns`: a `String` enum of the column names, in table order
/// (the order ``bind(_:)`` adds them in).
protocol StoreRecord: FetchableRecord, TableRecord where Columns: ColumnExpression & CaseIterable {
    /// Adds the values of `Columns.allCases`, in that order (to a SQLite statement, or to
    /// PostgreSQL's column arrays).
    func bind<Sink: ColumnSink>(_ row: inout Sink)

    /// Reads a row of either store.
    init(stored row: some StoredRow) throws
}

extension StoreRecord {
    /// `a, b, c`: every column, for a `SELECT` or an `INSERT`.
    static func columnList() -> String {
        Columns.allCases.map(\.name).joined(separator: ", ")
    }

    /// `SELECT a, b, c FROM t`, or with an `alias` for joins: `SELECT x.a AS a, ... FROM t x`.
    static func selectSQL(alias: String? = nil, extra: String = "") -> String {
        guard let alias else { return "SELECT \(columnList())\(extra) FROM \(databaseTableName)" }
        let columns = Columns.allCases.map { "\(alias).\($0.name) AS \($0.name)" }.joined(separator: ", ")
        return "SELECT \(columns)\(extra) FROM \(databaseTableName) \(alias)"
    }

    /// `INSERT INTO t (a, b, c) VALUES (?, ?, ?)`, binding ``bind(_:)``.
    static func insertSQL(or conflict: Database.ConflictResolution? = nil) -> String {
        let verb = conflict.map { "INSERT OR \($0.rawValue)" } ?? "INSERT"
        let marks = Array(repeating: "?", count: Columns.allCases.count).joined(separator: ", ")
        return "\(verb) INTO \(databaseTableName) (\(columnList())) VALUES (\(marks))"
    }

    /// `UPDATE t SET b = ?2, c = ?3 WHERE a = ?1`: every column of the row whose key is the first
    /// column, binding ``bind(_:)`` as it is (numbered parameters: `?N` for SQLite, `$N` for
    /// PostgreSQL with `mark` "$").
    static func updateByKeySQL(mark: String = "?") -> String {
        let columns = Columns.allCases.map(\.name)
        let assignments = columns.enumerated().dropFirst().map { "\($1) = \(mark)\($0 + 1)" }.joined(separator: ", ")
        return "UPDATE \(databaseTableName) SET \(assignments) WHERE \(columns[0]) = \(mark)1"
    }

    /// Runs the cached statement of `sql` (an ``insertSQL(or:)``) with the record's values.
    func write(_ db: Database, sql: String) throws {
        try db.run(sql) { bind(&$0) }
    }
}

extension Database {
    /// Runs the cached statement of `sql`, a write, with the values `bind` adds (every parameter,
    /// in order).
    ///
    /// The values go straight to SQLite (`sqlite3_bind_*`), without GRDB's `StatementArguments`,
    /// which boxes every value, and its per-statement bookkeeping for observation and read
    /// regions: on the write path these cost more than SQLite's own work. That bookkeeping is not
    /// needed here: the store registers no transaction observers, and these statements only
    /// insert or update rows inside the writer's transaction.
    func run(_ sql: String, _ bind: (inout RowBinder) -> Void) throws {
        let statement = try cachedStatement(sql: sql)
        let handle = statement.sqliteStatement
        // The previous run of this statement completed (or failed and was reset): ready.
        sqlite3_reset(handle)
        try withUnsafeTemporaryAllocation(byteCount: RowBinder.scratchBytes, alignment: 8) { scratch in
            var binder = RowBinder(handle, scratch: scratch)
            bind(&binder)
            precondition(binder.count == sqlite3_bind_parameter_count(handle), "\(binder.count) values bound to: \(sql)")
            let code = sqlite3_step(handle)
            // Nothing may point into the scratch once it is gone.
            sqlite3_clear_bindings(handle)
            guard code == SQLITE_DONE else {
                let message = String(cString: sqlite3_errmsg(sqliteConnection))
                sqlite3_reset(handle)
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: sql)
            }
        }
    }
}

/// Binds a statement's parameters in order.
///
/// Text and blobs are copied into a scratch buffer on the stack, which outlives the statement's
/// step, and bound without a copy (`SQLITE_STATIC`); what does not fit is copied by SQLite
/// (`SQLITE_TRANSIENT`, a malloc and a free per value).
struct RowBinder: ColumnSink {
    /// A row's text and blobs up to this size need no allocation; stack-allocated (at most 1 KiB,
    /// see ``withUnsafeTemporaryAllocation``'s limit on Linux).
    static let scratchBytes = 1024

    private let handle: OpaquePointer
    private let scratch: UnsafeMutableRawBufferPointer
    private var used = 0
    private(set) var count: Int32 = 0

    fileprivate init(_ handle: OpaquePointer, scratch: UnsafeMutableRawBufferPointer) {
        self.handle = handle
        self.scratch = scratch
    }

    /// SQLite's "copy the value now" destructor.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// `bytes` in the scratch, or `nil` when they do not fit.
    private mutating func keep(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawPointer? {
        guard bytes.count <= scratch.count - used, let base = scratch.baseAddress else { return nil }
        let start = base + used
        start.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        used += bytes.count
        return UnsafeRawPointer(start)
    }

    mutating func add(_ value: String) {
        count += 1
        var text = value
        text.withUTF8 { utf8 in
            let bytes = UnsafeRawBufferPointer(utf8)
            guard !bytes.isEmpty else {
                // An empty string is text, not NULL: SQLite needs a non-null pointer.
                _ = sqlite3_bind_text(handle, count, "", 0, Self.transient)
                return
            }
            if let kept = keep(bytes) {
                _ = sqlite3_bind_text(handle, count, kept.assumingMemoryBound(to: CChar.self), Int32(bytes.count), nil)
            } else {
                _ = sqlite3_bind_text(handle, count, bytes.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(bytes.count), Self.transient)
            }
        }
    }

    mutating func add(_ value: Int64) {
        count += 1
        sqlite3_bind_int64(handle, count, value)
    }

    /// A blob (never `NULL`, even when empty).
    mutating func add(blob: [UInt8]) {
        count += 1
        guard !blob.isEmpty else {
            sqlite3_bind_zeroblob(handle, count, 0)
            return
        }
        blob.withUnsafeBytes { bytes in
            if let kept = keep(bytes) {
                _ = sqlite3_bind_blob(handle, count, kept, Int32(bytes.count), nil)
            } else {
                _ = sqlite3_bind_blob(handle, count, bytes.baseAddress, Int32(bytes.count), Self.transient)
            }
        }
    }

    mutating func addNull() {
        count += 1
        sqlite3_bind_null(handle, count)
    }
}
