import Foundation
import GRDB
public import SwitchboardCore

extension SwitchboardStore {
    /// Stores a new API key.
    ///
    /// - Throws: `ALREADY_EXISTS` when the id is taken.
    public func insertAPIKey(_ key: APIKeyRecord) async throws(SwitchboardError) {
        try await write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM api_keys WHERE id = ?", arguments: [key.id]) == true {
                throw SwitchboardError(.alreadyExists, "API key '\(key.id)' already exists")
            }
            try db.execute(
                sql: """
                    INSERT INTO api_keys (id, role, agent_id, secret_hash, description, created_at, revoked_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    key.id, key.role.rawValue, key.agentID, Data(key.secretHash), key.description,
                    key.createdAt.milliseconds, key.revokedAt?.milliseconds,
                ]
            )
        }
    }

    /// Every API key, revoked ones included, by creation time.
    public func apiKeys() async throws(SwitchboardError) -> [APIKeyRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM api_keys ORDER BY created_at, id").map { row in
                guard let role = APIRole(rawValue: row["role"]) else {
                    throw SwitchboardError(.internal, "API key '\(row["id"] as String)' has an unknown role '\(row["role"] as String)'")
                }
                return APIKeyRecord(
                    id: row["id"], role: role, agentID: row["agent_id"], secretHash: [UInt8](row["secret_hash"] as Data),
                    description: row["description"], createdAt: Timestamp(milliseconds: row["created_at"]),
                    revokedAt: (row["revoked_at"] as Int64?).map(Timestamp.init(milliseconds:))
                )
            }
        }
    }

    /// Revokes an API key (it stays listed, marked revoked); revoking twice keeps the first time.
    ///
    /// - Throws: `NOT_FOUND` when no key has that id.
    public func revokeAPIKey(id: String) async throws(SwitchboardError) {
        let now = clock.now().milliseconds
        try await write { db in
            try db.execute(sql: "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?", arguments: [now, id])
            if db.changesCount == 0 {
                throw SwitchboardError(.notFound, "API key '\(id)' not found")
            }
        }
    }
}
