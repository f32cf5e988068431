import Foundation
import SwitchboardTestSupport
import Testing

/// The PostgreSQL test clusters themselves (scripts/pg-cluster through PostgresServer).
@Suite("PostgreSQL test clusters", .enabled(if: PostgresServer.isAvailable || PostgresServer.required))
struct PostgresServerTests {
    /// Runs `SELECT 1` through psql against `url`; its output, or the error.
    func selectOne(_ url: String) async throws -> (status: Int32, output: String) {
        let result = try await runProgram(try PostgresServer.psql, arguments: ["-X", "-tA", "-d", url, "-c", "SELECT 1"])
        return (result.status, result.output.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test("the shared cluster makes new, distinct, empty databases that answer queries")
    func sharedDatabases() async throws {
        let server = try await PostgresServer.shared()
        #expect(try await PostgresServer.shared() === server)
        let first = try await server.makeDatabase()
        let second = try await server.makeDatabase()
        #expect(first != second)
        #expect(first.hasPrefix("postgres://switchboard@127.0.0.1:\(server.port)/"))
        #expect(try await selectOne(first) == (0, "1"))
        #expect(try await selectOne(second) == (0, "1"))
        let tables = try await runProgram(
            try PostgresServer.psql,
            arguments: ["-X", "-tA", "-d", first, "-c", "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"])
        #expect(tables.output.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
    }

    @Test("a private cluster restarts on the same port with its data, and stopping it removes its folder")
    func privateCluster() async throws {
        let server = try await PostgresServer.start(fast: false)
        do {
            #expect(FileManager.default.fileExists(atPath: server.directory.appendingPathComponent("data").path))
            let database = try await server.makeDatabase()
            let psql = try PostgresServer.psql
            let create = try await runProgram(
                psql, arguments: ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", database, "-c", "CREATE TABLE t (x int); INSERT INTO t VALUES (42)"])
            #expect(create.status == 0, "\(create.output)")

            try await server.restart()
            let after = try await runProgram(psql, arguments: ["-X", "-tA", "-d", database, "-c", "SELECT x FROM t"])
            #expect(after.status == 0 && after.output.trimmingCharacters(in: .whitespacesAndNewlines) == "42", "\(after.output)")
            #expect(try await selectOne(server.baseURL) == (0, "1"))

            try await server.stop()
            #expect(!FileManager.default.fileExists(atPath: server.directory.path))
            #expect(try await selectOne(database).status != 0)
        } catch {
            try? await server.stop()
            throw error
        }
    }
}
