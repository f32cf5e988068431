import GRDB
@testable import SwitchboardStore
import Testing

/// Every table has one record type whose `Columns` are the table's columns, in table order.
@Suite("Store records")
struct StoreRecordTests {
    struct Table: Sendable, CustomTestStringConvertible {
        var name: String
        var columns: [String]
        var testDescription: String { name }

        init<R: StoreRecord>(_ record: R.Type) {
            name = R.databaseTableName
            columns = R.Columns.allCases.map(\.name)
        }
    }

    static let tables = [
        Table(SettingsRow.self), Table(AgentRow.self), Table(GroupRow.self), Table(GroupMemberRow.self),
        Table(SessionRow.self), Table(MessageRow.self), Table(SessionEventRow.self), Table(AgentEventRow.self),
        Table(APIKeyRow.self), Table(TenantRow.self),
    ]

    @Test("the record's columns are the migrated table's", arguments: tables)
    func columns(table: Table) throws {
        let db = try DatabaseQueue()
        try SQLiteStore.migrator.migrate(db)
        let columns = try db.read { db in try db.columns(in: table.name).map(\.name) }
        #expect(table.columns == columns)
    }

    @Test("every table has its record")
    func everyTable() throws {
        let db = try DatabaseQueue()
        try SQLiteStore.migrator.migrate(db)
        let names = try db.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'grdb_migrations'")
        }
        #expect(Set(names) == Set(Self.tables.map(\.name)))
    }
}
