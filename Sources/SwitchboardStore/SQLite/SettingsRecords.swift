import Foundation
import GRDB
public import SwitchboardCore

/// A row of `settings`: the one stored document (`id` 1).
struct SettingsRow: StoreRecord {
    static let databaseTableName = "settings"

    enum Columns: String, ColumnExpression, CaseIterable {
        /// Always 1.
        case id
        case version
        case document
        case updatedAt = "updated_at"
    }

    static let selectCurrent = selectSQL() + " WHERE \(Columns.id.name) = 1"
    static let selectVersion = "SELECT \(Columns.version.name) FROM \(databaseTableName) WHERE \(Columns.id.name) = 1"
    static let upsert = insertSQL() + """
         ON CONFLICT(\(Columns.id.name)) DO UPDATE SET \(Columns.version.name) = excluded.\(Columns.version.name), \
        \(Columns.document.name) = excluded.\(Columns.document.name), \(Columns.updatedAt.name) = excluded.\(Columns.updatedAt.name)
        """

    var settings: StoredSettings

    init(_ settings: StoredSettings) {
        self.settings = settings
    }

    init(row: Row) throws {
        try self.init(stored: row)
    }

    init(stored row: some StoredRow) throws {
        settings = StoredSettings(
            version: try row.value(Columns.version), document: [UInt8](try row.value(Columns.document) as Data),
            updatedAt: Timestamp(milliseconds: try row.value(Columns.updatedAt))
        )
    }

    func bind<Sink: ColumnSink>(_ row: inout Sink) {
        row.add(1)
        row.add(settings.version)
        row.add(blob: settings.document)
        row.add(settings.updatedAt.milliseconds)
    }
}

extension SQLiteStore {
    /// The stored settings document, or `nil` before the first update (the defaults apply).
    public func settings() async throws(SwitchboardError) -> StoredSettings? {
        try await read { db in
            try SettingsRow.fetchOne(db, sql: SettingsRow.selectCurrent)?.settings
        }
    }

    /// Stores `document` as the next version when the stored version is still `expectedVersion`
    /// (0: nothing stored yet).
    ///
    /// - Throws: `ABORTED` when another update came first.
    public func replaceSettings(_ document: [UInt8], expectedVersion: Int64) async throws(SwitchboardError) -> StoredSettings {
        let now = clock.now()
        return try await write { db in
            let current = try Int64.fetchOne(db, sql: SettingsRow.selectVersion) ?? 0
            guard current == expectedVersion else {
                throw SwitchboardError(
                    .aborted,
                    "the settings changed since version \(expectedVersion) was read (now version \(current)); read them again and retry"
                )
            }
            let stored = StoredSettings(version: current + 1, document: document, updatedAt: now)
            try SettingsRow(stored).write(db, sql: SettingsRow.upsert)
            return stored
        }
    }
}
