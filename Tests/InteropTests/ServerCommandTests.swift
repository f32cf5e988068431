import Foundation
import SwitchboardClient
import SwitchboardTestSupport
import SwitchboardTesting
import Testing

/// The server executable's command line: its options are documented, and its `keys` command works
/// on a database.
@Suite("switchboard-server command")
struct ServerCommandTests {
    static let binary = repository.appendingPathComponent(".build/debug/switchboard-server")

    @Test("every option of `serve --help` is in docs/CONFIGURATION.md")
    func optionsDocumented() async throws {
        let help = try await runProgram(Self.binary, arguments: ["serve", "--help"])
        #expect(help.status == 0)
        let options = Set(help.output.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," })
            .filter { $0.hasPrefix("--") && $0.count > 2 }
            .map { String($0.prefix { $0 == "-" || $0.isLetter }) })
            .subtracting(["--help", "--version", "--"])
        #expect(options.count >= 13, "\(options)")
        let document = try String(contentsOf: repository.appendingPathComponent("docs/CONFIGURATION.md"), encoding: .utf8)
        for option in options.sorted() {
            #expect(document.contains("`\(option)`"), "\(option) is not documented in docs/CONFIGURATION.md")
        }
    }

    @Test("keys create, list and revoke work offline; bad input is a usage error")
    func keys() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-keys-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let created = try await runProgram(Self.binary, arguments: ["keys", "create", "--role", "agent", "--agent", "alice", "--data-dir", folder, "--description", "alice's desk"])
        #expect(created.status == 0, "\(created.output)")
        let lines: [Substring] = created.output.split(separator: "\n")
        let key: Substring = try #require(lines.first { $0.hasPrefix("sbk_") })
        #expect(key.count == 81)
        let id = String(key.dropFirst(4).prefix(12))
        #expect(created.output.contains("keep it secret"))

        let listed = try await runProgram(Self.binary, arguments: ["keys", "list", "--data-dir", folder])
        #expect(listed.status == 0)
        let listing: String = listed.output
        #expect(listing.contains(id))
        #expect(listing.contains("alice's desk"))
        #expect(!listed.output.contains(String(key.suffix(64))), "a listing must not show the secret")

        let revoked = try await runProgram(Self.binary, arguments: ["keys", "revoke", id, "--data-dir", folder])
        #expect(revoked.status == 0 && revoked.output.contains("revoked key '\(id)'"))
        let again = try await runProgram(Self.binary, arguments: ["keys", "list", "--data-dir", folder])
        let row = again.output.split(separator: "\n").first { $0.hasPrefix(id) }.map(String.init) ?? ""
        let year = "\(Calendar.current.component(.year, from: Date()))"
        let dates = row.components(separatedBy: year).count - 1
        #expect(dates == 2, "created and revoked times expected in: \(row)")

        let unknown = try await runProgram(Self.binary, arguments: ["keys", "revoke", "ffffffffffff", "--data-dir", folder])
        #expect(unknown.status != 0 && unknown.output.contains("API key 'ffffffffffff' not found"))
        for arguments in [["--role", "root"], ["--role", "agent"], ["--role", "admin", "--agent", "bob"], ["--role", "agent", "--agent", "no spaces"]] {
            let bad = try await runProgram(Self.binary, arguments: ["keys", "create", "--data-dir", folder] + arguments)
            #expect(bad.status == 64, "\(arguments): \(bad.output)")
        }
    }

    @Test("the production server does not serve the testing protos' echo service")
    func noEchoService() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build the package first")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-echo-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let port = try await unusedPort()
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = ["--port", "\(port)", "--data-dir", folder, "--log-level", "error"]
        try process.run()
        defer { process.terminate(); process.waitUntilExit() }
        let client = SwitchboardClient(host: "127.0.0.1", port: port)
        defer { Task { await client.close() } }
        var serving = false
        for _ in 0..<300 where !serving {
            serving = (try? await client.health.check(HealthCheckRequest()))?.status == .serving
            if !serving { try await Task.sleep(for: .milliseconds(100)) }
        }
        try #require(serving, "switchboard-server did not start on port \(port)")
        let error = await #expect(throws: RPCError.self) {
            _ = try await TestingEchoService.Client(connection: client.connection).echo(TestingEchoRequest(text: "x"))
        }
        #expect(error?.code == .unimplemented)
    }

    @Test("without keys the server refuses a non-loopback address unless told")
    func secureByDefault() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-open-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let refused = try await runProgram(Self.binary, arguments: ["--host", "0.0.0.0", "--port", "0", "--data-dir", folder], timeout: .seconds(30))
        #expect(refused.status == 2)
        #expect(refused.output.contains("refusing to listen on 0.0.0.0 without API keys"))
        #expect(refused.output.contains("--allow-unauthenticated"))
    }
}
