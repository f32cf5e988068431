import GRDB

extension SwitchboardStore {
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
        return migrator
    }()
}
