import Foundation
import GRDB
public import SwitchboardCore

/// The stored settings document: its encoding (opaque to the store), version and time.
public struct StoredSettings: Sendable, Hashable {
    /// Increases by one with every update; the first stored document is version 1.
    public var version: Int64
    /// The encoded settings.
    public var document: [UInt8]
    /// When it was stored.
    public var updatedAt: Timestamp

    /// Creates a stored document.
    public init(version: Int64, document: [UInt8], updatedAt: Timestamp) {
        self.version = version
        self.document = document
        self.updatedAt = updatedAt
    }
}

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

    init(row: Row) {
        settings = StoredSettings(
            version: row[Columns.version], document: [UInt8](row[Columns.document] as Data),
            updatedAt: Timestamp(milliseconds: row[Columns.updatedAt])
        )
    }

    func bind(_ row: inout RowBinder) {
        row.add(1)
        row.add(settings.version)
        row.add(blob: settings.document)
        row.add(settings.updatedAt.milliseconds)
    }
}

extension SwitchboardStore {
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
