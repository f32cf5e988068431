import Foundation
import SwitchboardTestSupport
import Testing

/// The built `switchboard-cli` against a real server: output and exit codes.
@Suite("switchboard-cli")
struct CLITests {
    static let binary = repository.appendingPathComponent(".build/debug/switchboard-cli")

    func cli(_ port: Int, _ arguments: String...) async throws -> (status: Int32, output: String) {
        try await runProgram(Self.binary, arguments: arguments + ["--server", "127.0.0.1:\(port)"])
    }

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test("a session from creation to transcript, in tables and JSON; errors exit with 100 + the status code")
    func walkthrough() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build the package first")
        try await withTestServer { server in
            let port = server.port
            let health = try await cli(port, "health")
            #expect(health.status == 0 && health.output.contains("SERVING_STATUS_SERVING"))
            #expect(try await cli(port, "agent", "create", "alice", "--name", "Alice Smith").status == 0)
            #expect(try await cli(port, "agent", "status", "alice", "online").status == 0)
            let list = try await cli(port, "agent", "list")
            #expect(list.output.contains("alice  Alice Smith  AGENT_STATUS_ONLINE"))
            let created = try await cli(port, "session", "create", "user-1", "--attribute", "tier=vip", "--output", "json")
            let session = try #require(try json(created.output)["id"] as? String)
            #expect(try json(created.output)["attributes"] as? [String: String] == ["tier": "vip"])
            let routed = try await cli(port, "session", "request-agent", session, "--output", "json")
            #expect(try json(routed.output)["state"] as? String == "SESSION_STATE_ACTIVE")
            #expect(try await cli(port, "desk", "send", "alice", session, "Hello!").status == 0)
            let transcript = try await cli(port, "session", "messages", session)
            #expect(transcript.output.contains("SENDER_AGENT   alice    Hello!"))
            let watched = try await cli(port, "watch", "session", session, "--count", "4", "--output", "json")
            let lines = watched.output.split(separator: "\n")
            #expect(lines.count == 4)
            #expect(try lines.map { try json(String($0))["sequence"] as? String } == ["1", "2", "3", "4"])
            let missing = try await cli(port, "agent", "get", "nobody")
            #expect(missing.status == 105)
            #expect(missing.output.contains("error: NOT_FOUND: agent 'nobody' not found"))
            let bad = try await cli(port, "agent", "create", "with space", "--name", "x")
            #expect(bad.status == 103)
            #expect(bad.output.contains("INVALID_ARGUMENT") && bad.output.contains("'id'"))
            let usage = try await runProgram(Self.binary, arguments: ["agent", "status", "alice", "sleeping"])
            #expect(usage.status == 64)
            // settings set: dotted paths, JSON or plain values, validation by the server.
            #expect(try await cli(port, "settings", "set", "queue.maxSessionsPerAgent", "3").output.contains("version  1"))
            #expect(try await cli(port, "settings", "set", "service_mode.mode", "MODE_MANUAL").status == 0)
            #expect(try await cli(port, "settings", "set", "prompts.welcome", "Hi there!").status == 0)
            let settings = try json(try await cli(port, "settings", "get", "--output", "json").output)
            #expect(settings["version"] as? String == "3")
            let values = try #require(settings["settings"] as? [String: [String: Any]])
            #expect(values["queue"]?["maxSessionsPerAgent"] as? Int == 3)
            #expect(values["serviceMode"]?["mode"] as? String == "MODE_MANUAL")
            #expect(values["prompts"]?["welcome"] as? String == "Hi there!")
            let invalid = try await cli(port, "settings", "set", "queue.maxSessionsPerAgent", "0")
            #expect(invalid.status == 103 && invalid.output.contains("'settings.queue.max_sessions_per_agent'"))
        }
    }

    @Test("an unreachable server exits with 114 UNAVAILABLE")
    func unreachable() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build the package first")
        let result = try await runProgram(Self.binary, arguments: ["health", "--server", "127.0.0.1:1"])
        #expect(result.status == 114)
        #expect(result.output.contains("UNAVAILABLE"))
    }
}
