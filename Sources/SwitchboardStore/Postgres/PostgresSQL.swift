import GRDB
import PostgresNIO

/// SQL of the PostgreSQL store, built from the records' columns (the SQLite store's names).
enum PostgresSQL {
    /// `a, b, c`, or `x.a, x.b, x.c` with an alias.
    static func columns<R: StoreRecord>(_: R.Type, alias: String? = nil) -> String {
        R.Columns.allCases.map { (alias.map { "\($0)." } ?? "") + $0.name }.joined(separator: ", ")
    }

    /// `SELECT a, b, c FROM t` (`t x` with an alias).
    static func select<R: StoreRecord>(_ record: R.Type, alias: String? = nil) -> String {
        "SELECT \(columns(record, alias: alias)) FROM \(R.databaseTableName)" + (alias.map { " \($0)" } ?? "")
    }

    /// `INSERT INTO t (tenant_id, a, b) VALUES ($1, $2, $3)`: the tenant first, then the
    /// record's ``StoreRecord/bind(_:)`` values; without the tenant for the catalog's tables.
    static func insert<R: StoreRecord>(_: R.Type, tenant: Bool = true) -> String {
        let names = (tenant ? ["tenant_id"] : []) + R.Columns.allCases.map(\.name)
        let marks = names.indices.map { "$\($0 + 1)" }.joined(separator: ", ")
        return "INSERT INTO \(R.databaseTableName) (\(names.joined(separator: ", "))) VALUES (\(marks))"
    }

    /// `$first::type[], ...` for `unnest`, and the next free parameter number.
    static func arrays(_ elements: [ColumnArray.Element], from first: Int) -> (sql: String, next: Int) {
        let sql: String = elements.enumerated().map { index, element -> String in
            let type: String = switch element {
            case .text: "text"
            case .int8: "bigint"
            case .bytea: "bytea"
            }
            return "$\(first + index)::\(type)[]"
        }.joined(separator: ", ")
        return (sql, first + elements.count)
    }
}

/// The element types of the tables the hot path writes, in the order of their records' columns.
enum HotColumns {
    static let sessions: [ColumnArray.Element] = [
        .text, .text, .text, .text, .int8, .int8, .text, .text, .int8, .int8, .text, .int8, .int8, .int8, .int8, .int8,
        .int8, .int8, .text, .int8, .int8, .int8, .int8,
    ]
    static let messages: [ColumnArray.Element] = [.text, .int8, .int8, .text, .int8, .text, .int8]
    static let events: [ColumnArray.Element] = [.text, .int8, .int8, .bytea]
    /// id, status, status_changed_at, last_assigned_at.
    static let agentStates: [ColumnArray.Element] = [.text, .int8, .int8, .int8]
}

/// The hot path's whole batch in one statement: sessions upserted, messages and events
/// inserted, agents' states updated, each table's rows as column arrays (`unnest`); one round
/// trip, atomic without a transaction of its own.
struct HotBatchStatement: PostgresPreparedStatement {
    typealias Row = Int

    let bindings: PostgresBindings

    func makeBindings() -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) throws -> Int { try row.decode(Int.self) }

    static let sql: String = {
        var next = 2
        func part(_ elements: [ColumnArray.Element]) -> String {
            let (sql, after) = PostgresSQL.arrays(elements, from: next)
            next = after
            return sql
        }
        let sessionColumns = SessionRow.Columns.allCases.map(\.name)
        let sessions = """
            s AS (INSERT INTO sessions (tenant_id, \(sessionColumns.joined(separator: ", "))) \
            SELECT $1::text, * FROM unnest(\(part(HotColumns.sessions))) \
            ON CONFLICT (tenant_id, id) DO UPDATE SET \
            \(sessionColumns.dropFirst().map { "\($0) = excluded.\($0)" }.joined(separator: ", ")) RETURNING 1)
            """
        let messages = """
            m AS (INSERT INTO messages (tenant_id, \(PostgresSQL.columns(MessageRow.self))) \
            SELECT $1::text, * FROM unnest(\(part(HotColumns.messages))) RETURNING 1)
            """
        let sessionEvents = """
            se AS (INSERT INTO session_events (tenant_id, \(PostgresSQL.columns(SessionEventRow.self))) \
            SELECT $1::text, * FROM unnest(\(part(HotColumns.events))) RETURNING 1)
            """
        let agentEvents = """
            ae AS (INSERT INTO agent_events (tenant_id, \(PostgresSQL.columns(AgentEventRow.self))) \
            SELECT $1::text, * FROM unnest(\(part(HotColumns.events))) RETURNING 1)
            """
        let agents = """
            a AS (UPDATE agents SET status = u.status, status_changed_at = u.changed, last_assigned_at = u.assigned \
            FROM unnest(\(part(HotColumns.agentStates))) AS u(id, status, changed, assigned) \
            WHERE agents.tenant_id = $1::text AND agents.id = u.id RETURNING 1)
            """
        return "WITH \([sessions, messages, sessionEvents, agentEvents, agents].joined(separator: ", ")) SELECT 1"
    }()
}
