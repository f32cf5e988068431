import Foundation
import SwitchboardClient
import SwitchboardServer
import SwitchboardTestSupport
import Testing

/// The example hook of clients/swift, as built by `swift build`, against a Switchboard server.
@Suite("Example hook")
struct ExampleHookTests {
    static let binary = repository.appendingPathComponent(".build/debug/switchboard-example-hook")

    @Test("vip users go to group vip, blocked users are refused, others are allocated automatically")
    func exampleHook() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build the package first (swift build)")
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = ["--port", "0", "--log-level", "warning"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            try #require(!chunk.isEmpty, "the example hook exited before it was ready")
            line.append(chunk)
        }
        let ready = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let address = try #require(ready.split(separator: " ").last.map(String.init))
        try await withTestServer(hook: NetworkAllocationHook()) { server in
            let client = server.makeClient()
            for id in ["ann", "bob"] {
                _ = try await client.agents.createAgent(CreateAgentRequest(id: id, displayName: id))
                _ = try await client.agents.setAgentStatus(SetAgentStatusRequest(id: id, status: .online))
            }
            _ = try await client.agents.createGroup(CreateGroupRequest(id: "vip", name: "VIP"))
            _ = try await client.agents.addGroupMember(GroupMemberRequest(groupID: "vip", agentID: "bob"))
            let current = try await client.settings.getSettings(GetSettingsRequest())
            _ = try await client.settings.updateSettings(UpdateSettingsRequest(
                expectedVersion: current.version,
                settings: Settings(allocation: .init(policy: .businessServer, hookAddress: address, hookDeadlineMs: 5000, fallback: .transferFailed))
            ))
            func ask(_ attributes: [String: String]) async throws -> Session {
                let session = try await client.sessions.createSession(CreateSessionRequest(userID: "u", attributes: attributes))
                return try await client.sessions.requestAgent(RequestAgentRequest(sessionID: session.id))
            }
            let vip = try await ask(["tier": "vip"])
            #expect(vip.agentID == "bob" && vip.groupID == "vip")
            let regular = try await ask([:])
            #expect(regular.agentID == "ann")
            let blocked = try await ask(["blocked": "true"])
            #expect(blocked.state == .bot)
            await client.close()
        }
    }
}
