import Logging
import PostgresNIO
import SwitchboardCore

/// The PostgreSQL schema's history: named migrations, never edited once shipped (changes are new
/// migrations), run at start-up in one transaction under an advisory lock, so that servers
/// starting at once migrate once.
///
/// Every tenant's rows are in the same tables, keyed by `tenant_id` first; `tenants` and
/// `api_keys` are the catalog's. Column names and stored codes are the SQLite store's (the
/// records are shared); integers are `bigint`, times milliseconds since 1970.
///
/// `sessions` and `agents`, rewritten at almost every change, leave room in their pages
/// (`fillfactor`) so that an update stays on its page without touching the index (a HOT update);
/// like SQLite's v5, no index but the primary key is kept on them: loading a tenant reads its
/// sessions by the key's prefix, and every other index would be rewritten at each change of state.
enum PostgresSchema {
    /// The advisory lock key of migrations ("switchbd" in ASCII).
    static let migrationLock: Int64 = 0x7377_6974_6368_6264

    static let migrations: [(name: String, statements: [String])] = [
        (
            "pg-v1-schema",
            [
                """
                CREATE TABLE tenants (
                    id text PRIMARY KEY,
                    display_name text NOT NULL,
                    max_agents bigint NOT NULL,
                    max_open_sessions bigint NOT NULL,
                    max_calls_per_second bigint NOT NULL,
                    max_watchers bigint NOT NULL,
                    created_at bigint NOT NULL
                )
                """,
                """
                CREATE TABLE api_keys (
                    id text PRIMARY KEY,
                    role text NOT NULL,
                    agent_id text,
                    secret_hash bytea NOT NULL,
                    description text NOT NULL,
                    created_at bigint NOT NULL,
                    revoked_at bigint,
                    tenant_id text
                )
                """,
                """
                CREATE TABLE settings (
                    tenant_id text NOT NULL,
                    id bigint NOT NULL CHECK (id = 1),
                    version bigint NOT NULL,
                    document bytea NOT NULL,
                    updated_at bigint NOT NULL,
                    PRIMARY KEY (tenant_id, id)
                )
                """,
                """
                CREATE TABLE agents (
                    tenant_id text NOT NULL,
                    id text NOT NULL,
                    display_name text NOT NULL,
                    max_sessions bigint,
                    status bigint NOT NULL,
                    status_changed_at bigint NOT NULL,
                    created_at bigint NOT NULL,
                    last_assigned_at bigint NOT NULL DEFAULT 0,
                    PRIMARY KEY (tenant_id, id)
                ) WITH (fillfactor = 50)
                """,
                """
                CREATE TABLE groups (
                    tenant_id text NOT NULL,
                    id text NOT NULL,
                    name text NOT NULL,
                    created_at bigint NOT NULL,
                    PRIMARY KEY (tenant_id, id)
                )
                """,
                """
                CREATE TABLE group_members (
                    tenant_id text NOT NULL,
                    group_id text NOT NULL,
                    agent_id text NOT NULL,
                    PRIMARY KEY (tenant_id, group_id, agent_id),
                    FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id) ON DELETE CASCADE,
                    FOREIGN KEY (tenant_id, agent_id) REFERENCES agents (tenant_id, id) ON DELETE CASCADE
                )
                """,
                "CREATE INDEX group_members_by_agent ON group_members (tenant_id, agent_id, group_id)",
                """
                CREATE TABLE sessions (
                    tenant_id text NOT NULL,
                    id text NOT NULL,
                    user_id text NOT NULL,
                    channel text NOT NULL,
                    attributes text NOT NULL,
                    state bigint NOT NULL,
                    created_at bigint NOT NULL,
                    target text,
                    agent_id text,
                    queue_ticket bigint,
                    offer_deadline bigint,
                    missed_agents text NOT NULL,
                    user_timeout_at bigint,
                    next_queue_message_at bigint,
                    last_queue_message_position bigint,
                    close_reason bigint,
                    closed_at bigint,
                    rating_deadline bigint,
                    rating_score bigint,
                    rating_comment text,
                    rated_at bigint,
                    last_sequence bigint NOT NULL,
                    last_event_sequence bigint NOT NULL DEFAULT 0,
                    bot_idle_deadline bigint,
                    PRIMARY KEY (tenant_id, id)
                ) WITH (fillfactor = 70)
                """,
                """
                CREATE TABLE messages (
                    tenant_id text NOT NULL,
                    session_id text NOT NULL,
                    sequence bigint NOT NULL,
                    sender bigint NOT NULL,
                    agent_id text,
                    prompt bigint,
                    text text NOT NULL,
                    created_at bigint NOT NULL,
                    PRIMARY KEY (tenant_id, session_id, sequence)
                )
                """,
                """
                CREATE TABLE session_events (
                    tenant_id text NOT NULL,
                    session_id text NOT NULL,
                    sequence bigint NOT NULL,
                    created_at bigint NOT NULL,
                    payload bytea NOT NULL,
                    PRIMARY KEY (tenant_id, session_id, sequence)
                )
                """,
                """
                CREATE TABLE agent_events (
                    tenant_id text NOT NULL,
                    agent_id text NOT NULL,
                    sequence bigint NOT NULL,
                    created_at bigint NOT NULL,
                    payload bytea NOT NULL,
                    PRIMARY KEY (tenant_id, agent_id, sequence)
                )
                """,
            ]
        ),
    ]

    /// The tables that hold a tenant's data, keyed by `tenant_id`.
    static let tenantTables = ["group_members", "agents", "groups", "sessions", "messages", "session_events", "agent_events", "settings"]

    /// Applies the migrations missing from the database, in order, in one transaction under the
    /// advisory lock; refuses a database migrated by a newer version.
    static func migrate(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("BEGIN", logger: logger)
        do {
            try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLock))", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS switchboard_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                logger: logger
            )
            var applied = Set<String>()
            for try await name in try await connection.query("SELECT name FROM switchboard_migrations", logger: logger).decode(String.self) {
                applied.insert(name)
            }
            let known = Set(migrations.map(\.name))
            let unknown = applied.subtracting(known)
            guard unknown.isEmpty else {
                throw SwitchboardError(
                    .unavailable,
                    "its schema is newer than this version of Switchboard knows (migrations \(unknown.sorted().joined(separator: ", ")))"
                )
            }
            for migration in migrations where !applied.contains(migration.name) {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO switchboard_migrations (name) VALUES (\(migration.name))", logger: logger)
                logger.info("database migrated", metadata: ["migration": "\(migration.name)"])
            }
            try await connection.query("COMMIT", logger: logger)
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
    }
}
