import SwitchboardCore
import GRDB

/// A row of one table: its named columns, read by name, and its values in column order for the
/// store's cached statements.
///
/// Every table has exactly one such record type; mapping to and from the core's types stays in the
/// record's file. Writes on the hot path (sessions, messages, events) bind ``databaseArguments``
/// to a cached statement whose SQL is built once from ``Columns``, so a write costs no more than
/// a hand-written column list.
///
/// `Columns` is GRDB's `TableRecord.Columns`: a `String` enum of the column names, in table order
/// (the order of ``databaseArguments``).
protocol StoreRecord: FetchableRecord, TableRecord where Columns: ColumnExpression & CaseIterable {
    /// The values of `Columns.allCases`, in that order.
    var databaseArguments: StatementArguments { get }
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

    /// `INSERT INTO t (a, b, c) VALUES (?, ?, ?)`, binding ``databaseArguments``.
    static func insertSQL(or conflict: Database.ConflictResolution? = nil) -> String {
        let verb = conflict.map { "INSERT OR \($0.rawValue)" } ?? "INSERT"
        let marks = Array(repeating: "?", count: Columns.allCases.count).joined(separator: ", ")
        return "\(verb) INTO \(databaseTableName) (\(columnList())) VALUES (\(marks))"
    }

    /// Runs the cached statement of `sql` (an ``insertSQL(or:)``) with the record's values.
    func write(_ db: Database, sql: String) throws {
        try db.cachedStatement(sql: sql).execute(arguments: databaseArguments)
    }
}
