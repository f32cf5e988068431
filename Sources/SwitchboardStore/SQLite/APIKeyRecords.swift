import Foundation
import GRDB
public import SwitchboardCore

/// A row of `api_keys`: an ``APIKeyRecord``.
struct APIKeyRow: StoreRecord {
    static let databaseTableName = "api_keys"

    enum Columns: String, ColumnExpression, CaseIterable {
        case id
        /// `APIRole.rawValue`.
        case role
        case agentID = "agent_id"
        case secretHash = "secret_hash"
        case description
        case createdAt = "created_at"
        case revokedAt = "revoked_at"
        /// NULL for an `operator` key.
        case tenantID = "tenant_id"
    }

    static let insert = insertSQL()
    static let selectExists = "SELECT 1 FROM \(databaseTableName) WHERE \(Columns.id.name) = ?"
    static let selectAll = selectSQL() + " ORDER BY \(Columns.createdAt.name), \(Columns.id.name)"
    /// Sets the revocation time unless one is set.
    static let revoke = """
        UPDATE \(databaseTableName) SET \(Columns.revokedAt.name) = coalesce(\(Columns.revokedAt.name), ?) WHERE \(Columns.id.name) = ?
        """

    var key: APIKeyRecord

    init(_ key: APIKeyRecord) {
        self.key = key
    }

    init(row: Row) throws {
        try self.init(stored: row)
    }

    init(stored row: some StoredRow) throws {
        let id: String = try row.value(Columns.id)
        let storedRole: String = try row.value(Columns.role)
        guard let role = APIRole(rawValue: storedRole) else {
            throw SwitchboardError(.internal, "API key '\(id)' has an unknown role '\(storedRole)'")
        }
        key = APIKeyRecord(
            id: id, role: role, agentID: try row.value(Columns.agentID), secretHash: [UInt8](try row.value(Columns.secretHash) as Data),
            description: try row.value(Columns.description), createdAt: Timestamp(milliseconds: try row.value(Columns.createdAt)),
            revokedAt: (try row.value(Columns.revokedAt) as Int64?).map(Timestamp.init(milliseconds:)),
            tenantID: try row.value(Columns.tenantID)
        )
    }

    func bind<Sink: ColumnSink>(_ row: inout Sink) {
        row.add(key.id)
        row.add(key.role.rawValue)
        row.add(key.agentID)
        row.add(blob: key.secretHash)
        row.add(key.description)
        row.add(key.createdAt.milliseconds)
        row.add(key.revokedAt?.milliseconds)
        row.add(key.tenantID)
    }
}

extension SQLiteStore {
    /// Stores a new API key.
    ///
    /// - Throws: `ALREADY_EXISTS` when the id is taken.
    public func insertAPIKey(_ key: APIKeyRecord) async throws(SwitchboardError) {
        try await write { db in
            if try Bool.fetchOne(db, sql: APIKeyRow.selectExists, arguments: [key.id]) == true {
                throw SwitchboardError(.alreadyExists, "API key '\(key.id)' already exists")
            }
            try APIKeyRow(key).write(db, sql: APIKeyRow.insert)
        }
    }

    /// Every API key, revoked ones included, by creation time.
    public func apiKeys() async throws(SwitchboardError) -> [APIKeyRecord] {
        try await read { db in
            try APIKeyRow.fetchAll(db, sql: APIKeyRow.selectAll).map(\.key)
        }
    }

    /// Revokes an API key (it stays listed, marked revoked); revoking twice keeps the first time.
    ///
    /// - Throws: `NOT_FOUND` when no key has that id.
    public func revokeAPIKey(id: String) async throws(SwitchboardError) {
        let now = clock.now().milliseconds
        try await write { db in
            try db.execute(sql: APIKeyRow.revoke, arguments: [now, id])
            if db.changesCount == 0 {
                throw SwitchboardError(.notFound, "API key '\(id)' not found")
            }
        }
    }
}
