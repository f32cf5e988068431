import GRDB

extension SQLiteStore {
    /// The schema's history. A shipped migration is never edited: changes are new migrations.
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-settings-agents-groups") { db in
            try db.execute(
                sql: """
                    CREATE TABLE settings (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        version INTEGER NOT NULL,
                        document BLOB NOT NULL,
                        updated_at INTEGER NOT NULL
                    );
                    CREATE TABLE agents (
                        id TEXT PRIMARY KEY NOT NULL,
                        display_name TEXT NOT NULL,
                        max_sessions INTEGER,
                        status INTEGER NOT NULL,
                        status_changed_at INTEGER NOT NULL,
                        created_at INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE TABLE groups (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        created_at INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE TABLE group_members (
                        group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
                        agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
                        PRIMARY KEY (group_id, agent_id)
                    ) WITHOUT ROWID;
                    CREATE INDEX group_members_by_agent ON group_members(agent_id, group_id);
                    """
            )
        }
        migrator.registerMigration("v2-sessions-messages") { db in
            try db.execute(
                sql: """
                    ALTER TABLE agents ADD COLUMN last_assigned_at INTEGER NOT NULL DEFAULT 0;
                    CREATE TABLE sessions (
                        id TEXT PRIMARY KEY NOT NULL,
                        user_id TEXT NOT NULL,
                        channel TEXT NOT NULL,
                        attributes TEXT NOT NULL,
                        state INTEGER NOT NULL,
                        created_at INTEGER NOT NULL,
                        target TEXT,
                        agent_id TEXT,
                        queue_ticket INTEGER,
                        offer_deadline INTEGER,
                        missed_agents TEXT NOT NULL,
                        user_timeout_at INTEGER,
                        next_queue_message_at INTEGER,
                        last_queue_message_position INTEGER,
                        close_reason INTEGER,
                        closed_at INTEGER,
                        rating_deadline INTEGER,
                        rating_score INTEGER,
                        rating_comment TEXT,
                        rated_at INTEGER,
                        last_sequence INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX sessions_open ON sessions(state) WHERE state <> 4;
                    CREATE INDEX sessions_by_agent ON sessions(agent_id) WHERE agent_id IS NOT NULL;
                    CREATE TABLE messages (
                        session_id TEXT NOT NULL,
                        sequence INTEGER NOT NULL,
                        sender INTEGER NOT NULL,
                        agent_id TEXT,
                        prompt INTEGER,
                        text TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        PRIMARY KEY (session_id, sequence)
                    ) WITHOUT ROWID;
                    """
            )
        }
        migrator.registerMigration("v3-events") { db in
            try db.execute(
                sql: """
                    ALTER TABLE sessions ADD COLUMN last_event_sequence INTEGER NOT NULL DEFAULT 0;
                    CREATE TABLE session_events (
                        session_id TEXT NOT NULL,
                        sequence INTEGER NOT NULL,
                        created_at INTEGER NOT NULL,
                        payload BLOB NOT NULL,
                        PRIMARY KEY (session_id, sequence)
                    ) WITHOUT ROWID;
                    CREATE TABLE agent_events (
                        agent_id TEXT NOT NULL,
                        sequence INTEGER NOT NULL,
                        created_at INTEGER NOT NULL,
                        payload BLOB NOT NULL,
                        PRIMARY KEY (agent_id, sequence)
                    ) WITHOUT ROWID;
                    """
            )
        }
        migrator.registerMigration("v4-api-keys") { db in
            try db.execute(
                sql: """
                    CREATE TABLE api_keys (
                        id TEXT PRIMARY KEY NOT NULL,
                        role TEXT NOT NULL,
                        agent_id TEXT,
                        secret_hash BLOB NOT NULL,
                        description TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        revoked_at INTEGER
                    ) WITHOUT ROWID;
                    """
            )
        }
        migrator.registerMigration("v5-drop-unused-session-indexes") { db in
            // No query used them (loading open sessions scans the table: its condition ORs in the
            // closed sessions whose rating window is open), while every write of a session, which
            // replaces its row, removed and re-added their entries: about half of its cost.
            try db.execute(
                sql: """
                    DROP INDEX sessions_open;
                    DROP INDEX sessions_by_agent;
                    """
            )
        }
        migrator.registerMigration("v6-tenants") { db in
            // The catalog of tenants. The database named at start-up holds it, the API keys of
            // every tenant and the `default` tenant's data (everything a database made before
            // tenants holds: its keys belong to `default`); every other tenant's data is in a file
            // of its own with the same schema (see `TenantFiles`), whose `tenants` and `api_keys`
            // tables stay empty.
            try db.execute(
                sql: """
                    CREATE TABLE tenants (
                        id TEXT PRIMARY KEY NOT NULL,
                        display_name TEXT NOT NULL,
                        max_agents INTEGER NOT NULL,
                        max_open_sessions INTEGER NOT NULL,
                        max_calls_per_second INTEGER NOT NULL,
                        max_watchers INTEGER NOT NULL,
                        created_at INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    ALTER TABLE api_keys ADD COLUMN tenant_id TEXT;
                    UPDATE api_keys SET tenant_id = 'default';
                    """
            )
        }
        migrator.registerMigration("v7-session-bot-idle-deadline") { db in
            // Stored so that a session with the bot idles out on time across restarts and a
            // tenant's sleep (each load used to give it a whole idle period again, so the
            // sessions of a tenant woken by that very timer never idled out).
            try db.execute(sql: "ALTER TABLE sessions ADD COLUMN bot_idle_deadline INTEGER")
        }
        return migrator
    }()
}
