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

extension SwitchboardStore {
    /// The stored settings document, or `nil` before the first update (the defaults apply).
    public func settings() async throws(SwitchboardError) -> StoredSettings? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT version, document, updated_at FROM settings WHERE id = 1").map { row in
                StoredSettings(
                    version: row[0], document: [UInt8](row[1] as Data),
                    updatedAt: Timestamp(milliseconds: row[2])
                )
            }
        }
    }

    /// Stores `document` as the next version when the stored version is still `expectedVersion`
    /// (0: nothing stored yet).
    ///
    /// - Throws: `ABORTED` when another update came first.
    public func replaceSettings(_ document: [UInt8], expectedVersion: Int64) async throws(SwitchboardError) -> StoredSettings {
        let now = clock.now()
        return try await write { db in
            let current = try Int64.fetchOne(db, sql: "SELECT version FROM settings WHERE id = 1") ?? 0
            guard current == expectedVersion else {
                throw SwitchboardError(
                    .aborted,
                    "the settings changed since version \(expectedVersion) was read (now version \(current)); read them again and retry"
                )
            }
            let next = current + 1
            try db.execute(
                sql: """
                    INSERT INTO settings (id, version, document, updated_at) VALUES (1, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET version = excluded.version, document = excluded.document,
                    updated_at = excluded.updated_at
                    """,
                arguments: [next, Data(document), now.milliseconds]
            )
            return StoredSettings(version: next, document: document, updatedAt: now)
        }
    }
}
