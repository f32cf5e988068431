import GRDB
import Logging
import PostgresNIO
public import SwitchboardCore

/// The settings' SQL on PostgreSQL.
enum PostgresSettingsSQL {
    static let upsert = PostgresSQL.insert(SettingsRow.self) + """
         ON CONFLICT (tenant_id, id) DO UPDATE SET version = excluded.version, document = excluded.document, \
        updated_at = excluded.updated_at
        """
}

/// A tenant's durable state in PostgreSQL (postgres-nio: a connection pool shared by every
/// tenant, prepared statements, the binary protocol): the production ``SwitchboardStore``.
///
/// Every row is keyed by the tenant's id; the catalog's tables (`tenants`, `api_keys`) are
/// shared. See ``PostgresCommitQueue`` for how writes are committed.
public final class PostgresStore: SwitchboardStore {
    let pool: PostgresPool
    let tenant: String
    private let clock: any WallClock
    private let commits: PostgresCommitQueue

    init(pool: PostgresPool, tenant: String, clock: any WallClock) {
        self.pool = pool
        self.tenant = tenant
        self.clock = clock
        commits = PostgresCommitQueue(pool: pool, tenant: tenant)
    }

    // MARK: Writes

    public func enqueue(_ writes: [StoreWrite], checked: Bool) -> PendingWrite {
        commits.enqueue(writes, checked: checked)
    }

    public func resumeAfterReload() {
        commits.resumeAfterReload()
    }

    /// Nothing to close: the store holds no connection of its own (the backend's pool is shared)
    /// and stays usable; the backend keeps it for the tenant's next wake.
    public func close() {}

    // MARK: Loading

    public func loadState(now: Timestamp) async throws(SwitchboardError) -> LoadedStoreState {
        let tenant = self.tenant
        let pool = self.pool
        // One snapshot, as SQLite's read.
        return try await pool.transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { connection async throws in
            let settings = try await Self.settings(tenant: tenant, pool: pool, on: connection)
            var lastEvents: [String: Int64] = [:]
            for (agent, last) in try await pool.rows(
                "SELECT agent_id, max(sequence) FROM agent_events WHERE tenant_id = $1 GROUP BY agent_id", binds(tenant), on: connection,
                { row in (try row[0].decode(String.self), try row[1].decode(Int64.self)) }
            ) {
                lastEvents[agent] = last
            }
            let memberships = try await Self.memberships(tenant: tenant, agents: nil, pool: pool, on: connection)
            let agents = try await pool.rows(
                PostgresSQL.select(AgentRow.self) + " WHERE tenant_id = $1 ORDER BY id", binds(tenant), on: connection,
                { row in try AgentRow(stored: row) }
            ).map { row in
                var profile = row.profile
                profile.groupIDs = memberships[profile.id] ?? []
                return (profile: profile, lastAssignedAt: row.lastAssignedAt, lastEventSequence: lastEvents[profile.id] ?? 0)
            }
            let groups = try await pool.rows(Self.groupsSQL + " ORDER BY g.id", binds(tenant), on: connection, Self.group(from:))
            let sessions = try await pool.rows(
                PostgresSQL.select(SessionRow.self) + " WHERE tenant_id = $1 AND (state <> \(SessionCodes.state(.closed)) OR rating_deadline >= $2)",
                binds(tenant, now.milliseconds), on: connection, { row in try SessionRow(stored: row).session }
            )
            return LoadedStoreState(settings: settings, agents: agents, groups: groups, sessions: sessions)
        }
    }

    /// Each agent's groups, sorted (of `agents` only, when given).
    private static func memberships(
        tenant: String, agents: [String]?, pool: PostgresPool, on connection: PostgresConnection?
    ) async throws(SwitchboardError) -> [String: [String]] {
        var sql = "SELECT agent_id, group_id FROM group_members WHERE tenant_id = $1"
        var bindings = binds(tenant)
        if let agents {
            sql += " AND agent_id = ANY($2)"
            bindings.append(agents)
        }
        var memberships: [String: [String]] = [:]
        for (agent, group) in try await pool.rows(sql + " ORDER BY group_id", bindings, on: connection, { row in
            (try row[0].decode(String.self), try row[1].decode(String.self))
        }) {
            memberships[agent, default: []].append(group)
        }
        return memberships
    }

    // MARK: Sessions and events

    public func session(id: String) async throws(SwitchboardError) -> SessionRecord {
        let rows = try await pool.rows(
            PostgresSQL.select(SessionRow.self) + " WHERE tenant_id = $1 AND id = $2", binds(tenant, id), { row in try SessionRow(stored: row).session }
        )
        guard let session = rows.first else { throw SwitchboardError(.notFound, "session '\(id)' not found") }
        return session
    }

    public func messages(sessionID: String, after sequence: Int64, limit: Int) async throws(SwitchboardError) -> (messages: [TranscriptMessage], more: Bool) {
        let rows = try await pool.rows(
            PostgresSQL.select(MessageRow.self) + " WHERE tenant_id = $1 AND session_id = $2 AND sequence > $3 ORDER BY sequence LIMIT $4",
            binds(tenant, sessionID, sequence, Int64(limit + 1)), { row in try MessageRow(stored: row).message }
        )
        return (Array(rows.prefix(limit)), rows.count > limit)
    }

    public func events(of owner: EventOwner, after sequence: Int64, limit: Int) async throws(SwitchboardError) -> [StoredEvent] {
        let (table, key) = switch owner {
        case .session: (SessionEventRow.databaseTableName, "session_id")
        case .agent: (AgentEventRow.databaseTableName, "agent_id")
        }
        return try await pool.rows(
            "SELECT sequence, created_at, payload FROM \(table) WHERE tenant_id = $1 AND \(key) = $2 AND sequence > $3 ORDER BY sequence LIMIT $4",
            binds(tenant, owner.id, sequence, Int64(limit)),
            { row in
                StoredEvent(
                    sequence: try row[0].decode(Int64.self), createdAt: Timestamp(milliseconds: try row[1].decode(Int64.self)),
                    payload: [UInt8](try row[2].decode(ByteBuffer.self).readableBytesView)
                )
            }
        )
    }

    // MARK: Agents and groups

    /// Agent rows with their groups.
    private func agents(_ sql: String, _ bindings: PostgresBindings) async throws(SwitchboardError) -> [AgentProfile] {
        let rows = try await pool.rows(sql, bindings, { row in try AgentRow(stored: row) })
        let memberships = rows.isEmpty ? [:] : try await Self.memberships(tenant: tenant, agents: rows.map(\.profile.id), pool: pool, on: nil)
        return rows.map { row in
            var profile = row.profile
            profile.groupIDs = memberships[profile.id] ?? []
            return profile
        }
    }

    public func agent(id: String) async throws(SwitchboardError) -> AgentProfile {
        guard let agent = try await agents(PostgresSQL.select(AgentRow.self) + " WHERE tenant_id = $1 AND id = $2", binds(tenant, id)).first else {
            throw SwitchboardError(.notFound, "agent '\(id)' not found")
        }
        return agent
    }

    public func agents(_ page: PageRequest) async throws(SwitchboardError) -> Page<AgentProfile> {
        let agents = try await agents(
            PostgresSQL.select(AgentRow.self) + " WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3",
            binds(tenant, page.after ?? "", Int64(page.size + 1))
        )
        return makePage(agents, size: page.size, key: \.id)
    }

    /// Groups with their member counts, from `groups g` of `$1`'s tenant.
    private static let groupsSQL = PostgresSQL.select(GroupRow.self, alias: "g")
        .replacingOccurrences(
            of: " FROM ",
            with: ", (SELECT count(*) FROM group_members m WHERE m.tenant_id = g.tenant_id AND m.group_id = g.id) AS member_count FROM "
        ) + " WHERE g.tenant_id = $1"

    private static func group(from row: PostgresRandomAccessRow) throws -> AgentGroup {
        try GroupRow(stored: row).group(memberCount: try row["member_count"].decode(Int.self))
    }

    public func group(id: String) async throws(SwitchboardError) -> AgentGroup {
        guard let group = try await pool.rows(Self.groupsSQL + " AND g.id = $2", binds(tenant, id), Self.group(from:)).first else {
            throw SwitchboardError(.notFound, "group '\(id)' not found")
        }
        return group
    }

    public func groups(_ page: PageRequest) async throws(SwitchboardError) -> Page<AgentGroup> {
        let groups = try await pool.rows(
            Self.groupsSQL + " AND g.id > $2 ORDER BY g.id LIMIT $3", binds(tenant, page.after ?? "", Int64(page.size + 1)), Self.group(from:)
        )
        return makePage(groups, size: page.size, key: \.id)
    }

    public func groupAgents(groupID: String, _ page: PageRequest) async throws(SwitchboardError) -> Page<AgentProfile> {
        _ = try await group(id: groupID)
        let agents = try await agents(
            PostgresSQL.select(AgentRow.self, alias: "a")
                + " JOIN group_members m ON m.tenant_id = a.tenant_id AND m.agent_id = a.id"
                + " WHERE a.tenant_id = $1 AND m.group_id = $2 AND a.id > $3 ORDER BY a.id LIMIT $4",
            binds(tenant, groupID, page.after ?? "", Int64(page.size + 1))
        )
        return makePage(agents, size: page.size, key: \.id)
    }

    // MARK: Settings

    private static func settings(tenant: String, pool: PostgresPool, on connection: PostgresConnection?) async throws(SwitchboardError) -> StoredSettings? {
        try await pool.rows(
            PostgresSQL.select(SettingsRow.self) + " WHERE tenant_id = $1 AND id = 1", binds(tenant), on: connection,
            { row in try SettingsRow(stored: row).settings }
        ).first
    }

    public func settings() async throws(SwitchboardError) -> StoredSettings? {
        try await Self.settings(tenant: tenant, pool: pool, on: nil)
    }

    public func replaceSettings(_ document: [UInt8], expectedVersion: Int64) async throws(SwitchboardError) -> StoredSettings {
        let now = clock.now()
        let (tenant, pool) = (self.tenant, self.pool)
        return try await pool.transaction { connection in
            let current = try await pool.rows(
                "SELECT version FROM settings WHERE tenant_id = $1 AND id = 1 FOR UPDATE", binds(tenant), on: connection,
                { row in try row[0].decode(Int64.self) }
            ).first ?? 0
            let stale = SwitchboardError(
                .aborted, "the settings changed since version \(expectedVersion) was read (now version \(current)); read them again and retry"
            )
            guard current == expectedVersion else { throw stale }
            let stored = StoredSettings(version: current + 1, document: document, updatedAt: now)
            var sink = BindingsSink()
            sink.add(tenant)
            SettingsRow(stored).bind(&sink)
            sink.add(expectedVersion)
            // A first version stored meanwhile by another server conflicts and is kept.
            let written = try await pool.rows(
                PostgresSettingsSQL.upsert + " WHERE settings.version = $\(sink.bindings.count) RETURNING version", sink.bindings,
                on: connection, { row in try row[0].decode(Int64.self) }
            )
            guard !written.isEmpty else { throw stale }
            return stored
        }
    }

    // MARK: API keys

    public func insertAPIKey(_ key: APIKeyRecord) async throws(SwitchboardError) {
        var sink = BindingsSink()
        APIKeyRow(key).bind(&sink)
        let inserted = try await pool.rows(
            PostgresSQL.insert(APIKeyRow.self, tenant: false) + " ON CONFLICT (id) DO NOTHING RETURNING id", sink.bindings,
            { row in try row[0].decode(String.self) }
        )
        if inserted.isEmpty { throw SwitchboardError(.alreadyExists, "API key '\(key.id)' already exists") }
    }

    public func apiKeys() async throws(SwitchboardError) -> [APIKeyRecord] {
        try await pool.rows(
            PostgresSQL.select(APIKeyRow.self) + " ORDER BY created_at, id", PostgresBindings(), { row in try APIKeyRow(stored: row).key }
        )
    }

    public func revokeAPIKey(id: String) async throws(SwitchboardError) {
        let now = clock.now().milliseconds
        let revoked = try await pool.rows(
            "UPDATE api_keys SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2 RETURNING id", binds(now, id),
            { row in try row[0].decode(String.self) }
        )
        if revoked.isEmpty { throw SwitchboardError(.notFound, "API key '\(id)' not found") }
    }

    // MARK: Tenants

    public func tenants() async throws(SwitchboardError) -> [TenantRecord] {
        var sink = BindingsSink()
        TenantRow(TenantRecord(id: TenantRules.defaultID, displayName: "Default", createdAt: clock.now())).bind(&sink)
        let pool = self.pool
        let bindings = sink.bindings
        return try await pool.transaction { connection in
            try await connection.query(
                PostgresQuery(unsafeSQL: PostgresSQL.insert(TenantRow.self, tenant: false) + " ON CONFLICT (id) DO NOTHING", binds: bindings),
                logger: pool.logger
            )
            return try await pool.rows(
                PostgresSQL.select(TenantRow.self) + " ORDER BY id", PostgresBindings(), on: connection, { row in try TenantRow(stored: row).tenant }
            )
        }
    }

    public func insertTenant(_ tenant: TenantRecord) async throws(SwitchboardError) {
        var sink = BindingsSink()
        TenantRow(tenant).bind(&sink)
        let inserted = try await pool.rows(
            PostgresSQL.insert(TenantRow.self, tenant: false) + " ON CONFLICT (id) DO NOTHING RETURNING id", sink.bindings,
            { row in try row[0].decode(String.self) }
        )
        if inserted.isEmpty { throw SwitchboardError(.alreadyExists, "tenant '\(tenant.id)' already exists") }
    }

    public func updateTenant(_ tenant: TenantRecord) async throws(SwitchboardError) {
        var sink = BindingsSink()
        TenantRow(tenant).bind(&sink)
        let updated = try await pool.rows(
            TenantRow.updateByKeySQL(mark: "$") + " RETURNING id", sink.bindings, { row in try row[0].decode(String.self) }
        )
        if updated.isEmpty { throw SwitchboardError(.notFound, "tenant '\(tenant.id)' does not exist") }
    }

    /// Deletes the tenant, its API keys and its data in one transaction.
    public func deleteTenant(id: String) async throws(SwitchboardError) {
        let pool = self.pool
        try await pool.transaction { connection in
            let deleted = try await pool.rows("DELETE FROM tenants WHERE id = $1 RETURNING id", binds(id), on: connection) { row in
                try row[0].decode(String.self)
            }
            if deleted.isEmpty { throw SwitchboardError(.notFound, "tenant '\(id)' does not exist") }
            try await connection.query("DELETE FROM api_keys WHERE tenant_id = \(id)", logger: pool.logger)
            try await PostgresBackend.deleteData(of: id, on: connection, logger: pool.logger)
        }
    }

    // MARK: Maintenance

    public func appliedMigrations() async throws(SwitchboardError) -> [String] {
        try await pool.rows("SELECT name FROM switchboard_migrations ORDER BY name", PostgresBindings(), { row in try row[0].decode(String.self) })
    }

    public func counts() async throws(SwitchboardError) -> StoreCounts {
        let tables = StoreCounts.tables
        let sql = "SELECT " + tables.map { "(SELECT count(*) FROM \($0) WHERE tenant_id = $1)" }.joined(separator: ", ")
        let values = try await pool.rows(sql, binds(tenant), { row in try tables.indices.map { try row[$0].decode(Int.self) } }).first
        return values.map(StoreCounts.init(inTableOrder:)) ?? StoreCounts()
    }

    public func export(pageSize: Int, _ receive: @Sendable ([StoreWrite]) async throws(SwitchboardError) -> Void) async throws(SwitchboardError) {
        if let settings = try await settings() { try await receive([.settings(settings)]) }
        try await pages(
            PostgresSQL.select(AgentRow.self) + " WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3", start: .text(""), pageSize, receive,
            row: { try AgentRow(stored: $0) }, next: { .text($0.profile.id) },
            writes: { row in
                [
                    .insertAgent(row.profile),
                    .agentState(id: row.profile.id, status: row.profile.status, statusChangedAt: row.profile.statusChangedAt, lastAssignedAt: row.lastAssignedAt),
                ]
            }
        )
        try await pages(
            PostgresSQL.select(GroupRow.self) + " WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3", start: .text(""), pageSize, receive,
            row: { try GroupRow(stored: $0) }, next: { .text($0.id) }, writes: { [.insertGroup($0.group(memberCount: 0))] }
        )
        try await pages(
            PostgresSQL.select(GroupMemberRow.self) + " WHERE tenant_id = $1 AND (group_id, agent_id) > ($2, $3) ORDER BY group_id, agent_id LIMIT $4",
            start: .texts("", ""), pageSize, receive,
            row: { try GroupMemberRow(stored: $0) }, next: { .texts($0.groupID, $0.agentID) },
            writes: { [.addMember(groupID: $0.groupID, agentID: $0.agentID)] }
        )
        try await pages(
            PostgresSQL.select(SessionRow.self) + " WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3", start: .text(""), pageSize, receive,
            row: { try SessionRow(stored: $0) }, next: { .text($0.session.id) }, writes: { [.session($0.session)] }
        )
        try await pages(
            PostgresSQL.select(MessageRow.self) + " WHERE tenant_id = $1 AND (session_id, sequence) > ($2, $3) ORDER BY session_id, sequence LIMIT $4",
            start: .textAndNumber("", .min), pageSize, receive,
            row: { try MessageRow(stored: $0) }, next: { .textAndNumber($0.message.sessionID, $0.message.sequence) },
            writes: { [.message($0.message)] }
        )
        try await pages(
            PostgresSQL.select(SessionEventRow.self) + " WHERE tenant_id = $1 AND (session_id, sequence) > ($2, $3) ORDER BY session_id, sequence LIMIT $4",
            start: .textAndNumber("", .min), pageSize, receive,
            row: { try SessionEventRow(stored: $0) }, next: { .textAndNumber($0.sessionID, $0.event.sequence) },
            writes: { [.event(.session($0.sessionID), $0.event)] }
        )
        try await pages(
            PostgresSQL.select(AgentEventRow.self) + " WHERE tenant_id = $1 AND (agent_id, sequence) > ($2, $3) ORDER BY agent_id, sequence LIMIT $4",
            start: .textAndNumber("", .min), pageSize, receive,
            row: { try AgentEventRow(stored: $0) }, next: { .textAndNumber($0.agentID, $0.event.sequence) },
            writes: { [.event(.agent($0.agentID), $0.event)] }
        )
    }

    /// A page's starting key.
    private enum Key {
        case text(String)
        case texts(String, String)
        case textAndNumber(String, Int64)

        func append(to bindings: inout PostgresBindings) {
            switch self {
            case .text(let text): bindings.append(text)
            case .texts(let first, let second):
                bindings.append(first)
                bindings.append(second)
            case .textAndNumber(let text, let number):
                bindings.append(text)
                bindings.append(number)
            }
        }
    }

    private func pages<R: Sendable>(
        _ sql: String, start: Key, _ pageSize: Int, _ receive: @Sendable ([StoreWrite]) async throws(SwitchboardError) -> Void,
        row make: @escaping @Sendable (PostgresRandomAccessRow) throws -> R, next: (R) -> Key, writes: (R) -> [StoreWrite]
    ) async throws(SwitchboardError) {
        var after = start
        while true {
            var bindings = binds(tenant)
            after.append(to: &bindings)
            bindings.append(Int64(pageSize))
            let rows = try await pool.rows(sql, bindings, make)
            guard let last = rows.last else { return }
            try await receive(rows.flatMap(writes))
            if rows.count < pageSize { return }
            after = next(last)
        }
    }
}
