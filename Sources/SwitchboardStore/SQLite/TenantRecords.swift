import Foundation
import GRDB
public import SwitchboardCore

/// A row of `tenants` (in the catalog: the database named at start-up): a ``TenantRecord``.
struct TenantRow: StoreRecord {
    static let databaseTableName = "tenants"

    enum Columns: String, ColumnExpression, CaseIterable {
        case id
        case displayName = "display_name"
        case maxAgents = "max_agents"
        case maxOpenSessions = "max_open_sessions"
        case maxCallsPerSecond = "max_calls_per_second"
        case maxWatchers = "max_watchers"
        case createdAt = "created_at"
    }

    static let insert = insertSQL()
    static let insertIfMissing = insertSQL(or: .ignore)
    static let selectAll = selectSQL() + " ORDER BY \(Columns.id.name)"
    static let update = updateByKeySQL()
    static let delete = "DELETE FROM \(databaseTableName) WHERE \(Columns.id.name) = ?"
    static let deleteKeys = "DELETE FROM \(APIKeyRow.databaseTableName) WHERE \(APIKeyRow.Columns.tenantID.name) = ?"

    var tenant: TenantRecord

    init(_ tenant: TenantRecord) {
        self.tenant = tenant
    }

    init(row: Row) throws {
        try self.init(stored: row)
    }

    init(stored row: some StoredRow) throws {
        tenant = TenantRecord(
            id: try row.value(Columns.id), displayName: try row.value(Columns.displayName),
            quotas: TenantQuotas(
                maxAgents: try row.value(Columns.maxAgents), maxOpenSessions: try row.value(Columns.maxOpenSessions),
                maxCallsPerSecond: try row.value(Columns.maxCallsPerSecond), maxWatchers: try row.value(Columns.maxWatchers)
            ),
            createdAt: Timestamp(milliseconds: try row.value(Columns.createdAt))
        )
    }

    func bind<Sink: ColumnSink>(_ row: inout Sink) {
        row.add(tenant.id)
        row.add(tenant.displayName)
        row.add(tenant.quotas.maxAgents)
        row.add(tenant.quotas.maxOpenSessions)
        row.add(tenant.quotas.maxCallsPerSecond)
        row.add(tenant.quotas.maxWatchers)
        row.add(tenant.createdAt.milliseconds)
    }
}

extension SQLiteStore {
    /// Every tenant, by id; the `default` tenant is added (created now) when missing, so a
    /// database made before tenants has it.
    public func tenants() async throws(SwitchboardError) -> [TenantRecord] {
        let now = clock.now()
        return try await write { db in
            let defaultTenant = TenantRecord(id: TenantRules.defaultID, displayName: "Default", createdAt: now)
            try TenantRow(defaultTenant).write(db, sql: TenantRow.insertIfMissing)
            return try TenantRow.fetchAll(db, sql: TenantRow.selectAll).map(\.tenant)
        }
    }

    /// Stores a new tenant.
    ///
    /// - Throws: `ALREADY_EXISTS` when the id is taken.
    public func insertTenant(_ tenant: TenantRecord) async throws(SwitchboardError) {
        try await write { db in
            try TenantRow(tenant).write(db, sql: TenantRow.insertIfMissing)
            if db.changesCount == 0 { throw SwitchboardError(.alreadyExists, "tenant '\(tenant.id)' already exists") }
        }
    }

    /// Stores a tenant as given: its name, quotas and creation time.
    ///
    /// - Throws: `NOT_FOUND` when there is no such tenant.
    public func updateTenant(_ tenant: TenantRecord) async throws(SwitchboardError) {
        try await write { db in
            try TenantRow(tenant).write(db, sql: TenantRow.update)
            if db.changesCount == 0 { throw SwitchboardError(.notFound, "tenant '\(tenant.id)' does not exist") }
        }
    }

    /// Deletes a tenant and its API keys in one transaction (its data lives in its own file).
    ///
    /// - Throws: `NOT_FOUND` when there is no such tenant.
    public func deleteTenant(id: String) async throws(SwitchboardError) {
        try await write { db in
            try db.run(TenantRow.delete) { $0.add(id) }
            if db.changesCount == 0 { throw SwitchboardError(.notFound, "tenant '\(id)' does not exist") }
            try db.run(TenantRow.deleteKeys) { $0.add(id) }
        }
    }
}
