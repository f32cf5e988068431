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

    @Test("tenants: create, get, list, update, delete; --tenant and SWITCHBOARD_TENANT route calls; a quota exceeded exits 108")
    func tenants() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build the package first")
        try await withTestServer { server in
            let port = server.port
            #expect(try await cli(port, "tenant", "create", "acme", "--name", "Acme Corp", "--max-agents", "1").status == 0)
            let tenant = try json(try await cli(port, "tenant", "get", "acme", "--output", "json").output)
            #expect(tenant["displayName"] as? String == "Acme Corp")
            #expect((tenant["quotas"] as? [String: Any])?["maxAgents"] as? Int == 1)
            #expect(try await cli(port, "agent", "create", "alice", "--name", "Alice of Acme", "--tenant", "acme").status == 0)
            let full = try await cli(port, "agent", "create", "bob", "--name", "Bob", "--tenant", "acme")
            #expect(full.status == 108 && full.output.contains("max_agents"))
            // The default tenant has no alice; SWITCHBOARD_TENANT routes like --tenant.
            #expect(try await cli(port, "agent", "get", "alice").status == 105)
            let listed = try await runProgram(
                Self.binary, arguments: ["agent", "list", "--server", "127.0.0.1:\(port)"], environment: ["SWITCHBOARD_TENANT": "acme"]
            )
            #expect(listed.status == 0 && listed.output.contains("Alice of Acme"))
            #expect(try await cli(port, "tenant", "list").output.contains("acme"))
            #expect(try await cli(port, "tenant", "update", "acme", "--max-agents", "2").status == 0)
            #expect(try await cli(port, "agent", "create", "bob", "--name", "Bob", "--tenant", "acme").status == 0)
            #expect(try await cli(port, "tenant", "delete", "acme").status == 0)
            #expect(try await cli(port, "agent", "list", "--tenant", "acme").status == 105)
            #expect(try await cli(port, "tenant", "delete", "default").status == 109)
        }
    }

    @Test("settings edit: the edit is written with the version read; an unchanged file, bad JSON, a bad value and a concurrent change")
    func settingsEdit() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build the package first")
        // The editors are scripts; TMPDIR points the CLI's temporary files here too, to check
        // which are kept.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-edit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func script(_ name: String, _ body: String) throws -> String {
            let url = directory.appendingPathComponent(name)
            try Data("#!/bin/sh\n\(body)\n".utf8).write(to: url)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
            return url.path
        }
        func keptFiles() throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("switchboard-settings-") }
        }
        func kept(_ output: String) -> String? {
            output.split(separator: "\n").first { $0.hasPrefix("your edits are kept in ") }.map { String($0.dropFirst("your edits are kept in ".count)) }
        }
        // Like `code --wait`: the variable holds arguments, the file comes last.
        let setSeven = try script("set-seven", """
            [ "$1" = "--wait" ] || exit 9
            sed -i 's/"maxSessionsPerAgent" : 5,/"maxSessionsPerAgent" : 7,/' "$2"
            """)
        let setZero = try script("set-zero", #"sed -i 's/"maxSessionsPerAgent" : 7,/"maxSessionsPerAgent" : 0,/' "$1""#)
        let breakJSON = try script("break-json", #"sed -i 's/"queue" : {/"queue" : [/' "$1""#)
        let misspell = try script("misspell", #"sed -i 's/maxSessionsPerAgent/maxSessionPerAgent/' "$1""#)
        try await withTestServer { server in
            let port = server.port
            let concurrent = try script("concurrent", """
                "\(Self.binary.path)" settings set queue.maxSessionsPerAgent 4 --server 127.0.0.1:\(port) >/dev/null || exit 8
                sed -i 's/"maxSessionsPerAgent" : 7,/"maxSessionsPerAgent" : 9,/' "$1"
                """)
            func edit(visual: String? = nil, editor: String) async throws -> (status: Int32, output: String) {
                var environment = ProcessInfo.processInfo.environment
                environment["VISUAL"] = visual
                environment["EDITOR"] = editor
                environment["TMPDIR"] = directory.path
                return try await runProgram(Self.binary, arguments: ["settings", "edit", "--server", "127.0.0.1:\(port)"], environment: environment, timeout: .seconds(30))
            }
            func maxSessions() async throws -> (version: String?, value: Int?) {
                let settings = try json(try await cli(port, "settings", "get", "--output", "json").output)
                let values = settings["settings"] as? [String: [String: Any]]
                return (settings["version"] as? String, values?["queue"]?["maxSessionsPerAgent"] as? Int)
            }

            // Saved without a change: nothing is written, the file is removed.
            let unchanged = try await edit(editor: "true")
            #expect(unchanged.status == 0 && unchanged.output == "settings unchanged\n", "\(unchanged.output)")
            #expect(try await maxSessions() == (nil, 5))  // version 0 is left out of the JSON
            #expect(try keptFiles().isEmpty)

            // $VISUAL wins over $EDITOR; an edit is written with the version read.
            let edited = try await edit(visual: "\(setSeven) --wait", editor: "false")
            #expect(edited.status == 0 && edited.output == "version  1\n", "\(edited.output)")
            #expect(try await maxSessions() == ("1", 7))
            #expect(try keptFiles().isEmpty)

            // A value the server refuses: 103, the edit kept, the server still serving.
            let invalid = try await edit(editor: setZero)
            #expect(invalid.status == 103, "\(invalid.output)")
            #expect(invalid.output.contains("error: INVALID_ARGUMENT: ") && invalid.output.contains("'settings.queue.max_sessions_per_agent'"))
            let invalidFile = try #require(kept(invalid.output), "no kept file in:\n\(invalid.output)")
            #expect(try String(contentsOfFile: invalidFile, encoding: .utf8).contains(#""maxSessionsPerAgent" : 0,"#))
            #expect(try await cli(port, "health").output.contains("SERVING_STATUS_SERVING"))
            #expect(try await maxSessions() == ("1", 7))

            // Not JSON, or a field the settings do not have: 64, the edit kept, nothing sent.
            let broken = try await edit(editor: breakJSON)
            #expect(broken.status == 64 && broken.output.contains("error: the edited file is not valid settings JSON"), "\(broken.output)")
            #expect(kept(broken.output).map { FileManager.default.fileExists(atPath: $0) } == true)
            let misspelt = try await edit(editor: misspell)
            #expect(misspelt.status == 64 && misspelt.output.contains("unknown field 'queue.maxSessionPerAgent'"), "\(misspelt.output)")
            #expect(try await maxSessions() == ("1", 7))

            // Someone else changes the settings while the editor is open: ABORTED (110), their
            // change stays, the edit is kept.
            let raced = try await edit(editor: concurrent)
            #expect(raced.status == 110 && raced.output.contains("error: ABORTED: "), "\(raced.output)")
            let racedFile = try #require(kept(raced.output), "no kept file in:\n\(raced.output)")
            #expect(try String(contentsOfFile: racedFile, encoding: .utf8).contains(#""maxSessionsPerAgent" : 9,"#))
            #expect(try await maxSessions() == ("2", 4))
            #expect(try keptFiles().count == 4)
        }
    }

    @Test("no server at --server: says what failed and what to do, without NIO's internals; exits with 114 UNAVAILABLE")
    func nothingListening() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build the package first")
        let port = try await unusedPort()
        for command in [["health"], ["agent", "list"], ["settings", "edit"]] {
            let result = try await runProgram(Self.binary, arguments: command + ["--server", "127.0.0.1:\(port)"])
            #expect(result.status == 114, "\(command): \(result.output)")
            #expect(
                result.output == """
                    error: UNAVAILABLE: cannot connect to Switchboard at 127.0.0.1:\(port): connection refused. \
                    Is the server running there? Start it with scripts/serve, or pass --server HOST:PORT.

                    """,
                "\(command)"
            )
            #expect(!result.output.contains("SingleConnectionFailure") && !result.output.contains("IPv4"))
        }
    }

    @Test("a --server that is not host:port is a usage error naming the option")
    func badServer() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build the package first")
        let result = try await runProgram(Self.binary, arguments: ["health", "--server", "localhost"])
        #expect(result.status == 64)
        #expect(result.output.contains("--server must be host:port, got 'localhost'"), "\(result.output)")
    }

    @Test(
        "a --tenant (or SWITCHBOARD_TENANT) that is not a tenant id is a usage error naming the option",
        arguments: ["Acme", "-acme", "acme_eu", "acme eu", String(repeating: "a", count: 64)]
    )
    func badTenant(tenant: String) async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build the package first")
        let option = try await runProgram(Self.binary, arguments: ["agent", "list", "--tenant=\(tenant)", "--server", "127.0.0.1:1"])
        #expect(option.status == 64, "\(option.output)")
        #expect(option.output.contains("--tenant must be a tenant id") && option.output.contains("'\(tenant)'"), "\(option.output)")
        var environment = ProcessInfo.processInfo.environment
        environment["SWITCHBOARD_TENANT"] = tenant
        let variable = try await runProgram(Self.binary, arguments: ["health", "--server", "127.0.0.1:1"], environment: environment)
        #expect(variable.status == 64 && variable.output.contains("--tenant must be a tenant id"), "\(variable.output)")
    }

    @Test("a well-formed --tenant passes the CLI's checks (it is the server that knows the tenants)")
    func goodTenant() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build the package first")
        let port = try await unusedPort()
        for tenant in ["acme", "9-lives", String(repeating: "a", count: 63), ""] {
            let result = try await runProgram(Self.binary, arguments: ["agent", "list", "--tenant", tenant, "--server", "127.0.0.1:\(port)"])
            #expect(result.status == 114, "\(tenant): \(result.output)")  // UNAVAILABLE: nothing listens there
        }
    }

    @Test("tenant update needs --name or a quota; tenant commands parse their quotas")
    func tenantUsage() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build the package first")
        let nothing = try await runProgram(Self.binary, arguments: ["tenant", "update", "acme"])
        #expect(nothing.status == 64 && nothing.output.contains("give --name or a quota"), "\(nothing.output)")
        let negative = try await runProgram(Self.binary, arguments: ["tenant", "create", "acme", "--max-agents", "-1"])
        #expect(negative.status == 64, "\(negative.output)")
        let help = try await runProgram(Self.binary, arguments: ["--help"])
        #expect(help.output.contains("tenant") && help.output.contains("--tenant"), "\(help.output)")
    }

    @Test("an unreachable server exits with 114 UNAVAILABLE")
    func unreachable() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build the package first")
        let result = try await runProgram(Self.binary, arguments: ["health", "--server", "127.0.0.1:1"])
        #expect(result.status == 114)
        #expect(result.output.contains("UNAVAILABLE"))
    }
}
