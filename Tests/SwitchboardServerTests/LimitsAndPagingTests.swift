import SwitchboardClient
import SwitchboardCore
@testable import SwitchboardServer
import SwitchboardTestSupport
import Testing

/// One letter and `accents` combining acute accents: one character of `1 + 2 * accents` bytes.
func accented(_ accents: Int = 100_000) -> String {
    "e" + String(repeating: "\u{301}", count: accents)
}

/// A text input that a call refuses when it is too large, and the field the error must name.
struct OversizedInput: Sendable, CustomTestStringConvertible {
    let field: String
    let unit: String
    let call: @Sendable (SwitchboardClient, String) async throws -> Void

    var testDescription: String { "\(field) (\(unit))" }

    static let all: [OversizedInput] = [
        OversizedInput(field: "'display_name'", unit: "800 bytes") { client, text in
            _ = try await client.agents.createAgent(CreateAgentRequest(id: "x", displayName: text))
        },
        OversizedInput(field: "'display_name'", unit: "800 bytes") { client, text in
            _ = try await client.agents.updateAgent(UpdateAgentRequest(id: "x", displayName: text))
        },
        OversizedInput(field: "'name'", unit: "800 bytes") { client, text in
            _ = try await client.agents.createGroup(CreateGroupRequest(id: "g", name: text))
        },
        OversizedInput(field: "'name'", unit: "800 bytes") { client, text in
            _ = try await client.agents.renameGroup(RenameGroupRequest(id: "g", name: text))
        },
        OversizedInput(field: "'channel'", unit: "64 bytes") { client, text in
            _ = try await client.sessions.createSession(CreateSessionRequest(userID: "u", channel: text))
        },
        OversizedInput(field: "'attributes'", unit: "1 to 64 bytes") { client, text in
            _ = try await client.sessions.createSession(CreateSessionRequest(userID: "u", attributes: [text: "v"]))
        },
        OversizedInput(field: "'attributes[plan]'", unit: "1024 bytes") { client, text in
            _ = try await client.sessions.createSession(CreateSessionRequest(userID: "u", attributes: ["plan": text]))
        },
        OversizedInput(field: "'text'", unit: "40000 bytes") { client, text in
            _ = try await client.sessions.sendUserMessage(SendUserMessageRequest(sessionID: "s1", text: text))
        },
        OversizedInput(field: "'text'", unit: "40000 bytes") { client, text in
            _ = try await client.agents.sendAgentMessage(SendAgentMessageRequest(agentID: "x", sessionID: "s1", text: text))
        },
        OversizedInput(field: "'comment'", unit: "8000 bytes") { client, text in
            _ = try await client.sessions.submitRating(SubmitRatingRequest(sessionID: "s1", score: 5, comment: text))
        },
        OversizedInput(field: "'settings.prompts.welcome'", unit: "8000 bytes") { client, text in
            try await updateSettings(client) { $0.prompts?.welcome = text }
        },
        OversizedInput(field: "'settings.rating.labels[0]'", unit: "400 bytes") { client, text in
            try await updateSettings(client) { $0.rating?.labels[0] = text }
        },
        OversizedInput(field: "'settings.allocation.hook_address'", unit: "259 bytes") { client, text in
            try await updateSettings(client) { $0.allocation?.hookAddress = text + ":7500" }
        },
        OversizedInput(field: "'settings.working_hours.time_zone'", unit: "64 bytes") { client, text in
            try await updateSettings(client) { $0.workingHours?.timeZone = text }
        },
    ]
}

func updateSettings(_ client: SwitchboardClient, _ change: (inout Settings) -> Void) async throws {
    let document = try await client.settings.getSettings(GetSettingsRequest())
    var settings = try #require(document.settings)
    change(&settings)
    _ = try await client.settings.updateSettings(UpdateSettingsRequest(expectedVersion: document.version, settings: settings))
}

@Suite("Limits in bytes, and pages of every list")
struct LimitsAndPagingTests {
    @Test("one character of 100,000 combining accents is refused in bytes, naming the field", arguments: OversizedInput.all)
    func oversizedInputIsRefused(input: OversizedInput) async throws {
        try await withTestServer { server in
            let client = server.makeClient()
            _ = try await client.agents.createAgent(CreateAgentRequest(id: "x", displayName: "X"))
            _ = try await client.agents.createGroup(CreateGroupRequest(id: "g", name: "G"))
            await expectRPCError(.invalidArgument, containing: input.field) {
                try await input.call(client, accented())
            }
            await expectRPCError(.invalidArgument, containing: input.unit) {
                try await input.call(client, accented())
            }
            await client.close()
        }
    }

    @Test("multibyte texts within the limits are accepted and kept as they are")
    func multibyteWithinLimits() async throws {
        try await withTestServer { server in
            let client = server.makeClient()
            let name = String(repeating: "😀", count: 200)  // 200 characters, 800 bytes
            let agent = try await client.agents.createAgent(CreateAgentRequest(id: "ann", displayName: name))
            #expect(agent.displayName == name)
            await expectRPCError(.invalidArgument, containing: "at most 200 characters, got 201") {
                // 201 two-byte characters: 402 bytes, within the bytes, over the characters.
                _ = try await client.agents.createAgent(CreateAgentRequest(id: "bob", displayName: String(repeating: "é", count: 201)))
            }
            _ = try await client.agents.setAgentStatus(SetAgentStatusRequest(id: "ann", status: .online))
            let attributes = ["plan": String(repeating: "é", count: 512), "城市": "北京"]  // 1024 bytes; 6 + 6
            let created = try await client.sessions.createSession(
                CreateSessionRequest(userID: "u1", attributes: attributes, channel: String(repeating: "渠", count: 21))
            )
            #expect(created.attributes == attributes && created.channel.utf8.count == 63)
            let text = String(repeating: "é", count: 10_000)  // 10,000 characters, 20,000 bytes
            let message = try await client.sessions.sendUserMessage(SendUserMessageRequest(sessionID: created.id, text: text))
            #expect(message.text == text)
            _ = try await client.sessions.requestAgent(RequestAgentRequest(sessionID: created.id))
            let reply = String(repeating: "😀", count: 10_000)  // 10,000 characters, 40,000 bytes
            #expect(try await client.agents.sendAgentMessage(SendAgentMessageRequest(agentID: "ann", sessionID: created.id, text: reply)).text == reply)
            await expectRPCError(.invalidArgument, containing: "at most 10000 characters, got 10001") {
                _ = try await client.sessions.sendUserMessage(SendUserMessageRequest(sessionID: created.id, text: text + "e"))
            }
            try await updateSettings(client) { $0.prompts?.welcome = String(repeating: "ü", count: 2000) }
            await client.close()
        }
    }

    @Test("the attributes together hold at most 16,384 bytes")
    func attributesTotal() async throws {
        try await withTestServer { server in
            let client = server.makeClient()
            let value = String(repeating: "v", count: 1000)
            let fits = Dictionary(uniqueKeysWithValues: (0..<16).map { ("k\($0)", String(value.prefix(1000 - 3))) })
            _ = try await client.sessions.createSession(CreateSessionRequest(userID: "u", attributes: fits))
            let over = Dictionary(uniqueKeysWithValues: (0..<17).map { ("k\($0)", value) })
            await expectRPCError(.invalidArgument, containing: "at most 16384 bytes (UTF-8) of keys and values, got 17") {
                _ = try await client.sessions.createSession(CreateSessionRequest(userID: "u", attributes: over))
            }
            await client.close()
        }
    }

    @Test("a business server's rejection message is held to the limits of a prompt")
    func hookRejection() {
        let fits = String(repeating: "😀", count: 2000)
        #expect(NetworkAllocationHook.answer(HookAllocateResponse(decision: .reject(HookRejection(message: fits)))) == .reject(fits))
        let answer = NetworkAllocationHook.answer(HookAllocateResponse(decision: .reject(HookRejection(message: accented()))))
        #expect(answer == .failed("the business server's answer is out of bounds: field 'reject.message' must be at most 8000 bytes (UTF-8), got 200001"))
    }

    /// Sessions as large as the limits allow: user id, channel, attributes and a rating comment.
    static func createMaximalSession(_ client: SwitchboardClient, number: Int, agentID: String) async throws -> Session {
        let userID = String(String(repeating: "u", count: 128).dropLast(4)) + String(number + 1000)
        // 64 entries of a 64-byte key and a 192-byte value: 16,384 bytes.
        let attributes = Dictionary(uniqueKeysWithValues: (0..<64).map { index in
            (String(repeating: "k", count: 60) + String(index + 1000), String(repeating: "😀", count: 48))
        })
        let channel = String(repeating: "渠", count: 21) + "a"
        let session = try await client.sessions.createSession(CreateSessionRequest(userID: userID, attributes: attributes, channel: channel))
        _ = try await client.sessions.requestAgent(RequestAgentRequest(sessionID: session.id))
        _ = try await client.agents.inviteRating(AgentSessionRequest(agentID: agentID, sessionID: session.id))
        let comment = String(repeating: "😀", count: 2000)  // 8,000 bytes
        return try await client.sessions.submitRating(SubmitRatingRequest(sessionID: session.id, score: 4, comment: comment))
    }

    @Test("an agent with 180 maximal sessions (4.5 MB) lists them in pages under the frame limit")
    func agentSessionsPages() async throws {
        try await withTestServer { server in
            let client = server.makeClient()
            _ = try await client.agents.createAgent(CreateAgentRequest(id: "ann", displayName: "Ann", maxSessions: 200))
            _ = try await client.agents.setAgentStatus(SetAgentStatusRequest(id: "ann", status: .online))
            var expected: [String] = []
            var total = 0
            for number in 0..<180 {
                let session = try await Self.createMaximalSession(client, number: number, agentID: "ann")
                #expect(session.state == .active && session.rating != nil)
                expected.append(session.id)
                total += try session.serializedSize()
            }
            #expect(total > 4 << 20, "all sessions together are over a frame: \(total) bytes")

            var listed: [String] = []
            var token = ""
            var pages = 0
            repeat {
                let page = try await client.agents.listAgentSessions(ListAgentSessionsRequest(agentID: "ann", pageToken: token))
                let size = try page.serializedSize()
                #expect(size <= ResponseBudget.bytes, "page \(pages): \(size) bytes")
                #expect(page.sessions.count == min(40, 180 - listed.count))
                listed += page.sessions.map(\.id)
                token = page.nextPageToken
                pages += 1
            } while !token.isEmpty
            #expect(pages == 5)
            #expect(listed == expected.sorted())

            var iterated: [String] = []
            for try await session in client.agents.allAgentSessions(agentID: "ann", pageSize: 7) { iterated.append(session.id) }
            #expect(iterated == expected.sorted())
            await client.close()
        }
    }

    @Test("page tokens that are not the server's, and pages too large, are INVALID_ARGUMENT")
    func invalidPages() async throws {
        try await withTestServer { server in
            let client = server.makeClient()
            _ = try await client.agents.createAgent(CreateAgentRequest(id: "ann", displayName: "Ann"))
            for token in ["not-a-token", "p1.zz", "p1.", "p1.ff"] {
                await expectRPCError(.invalidArgument, containing: "'page_token'") {
                    _ = try await client.agents.listAgentSessions(ListAgentSessionsRequest(agentID: "ann", pageToken: token))
                }
                await expectRPCError(.invalidArgument, containing: "'page_token'") {
                    _ = try await client.sessions.listGroups(ListSessionGroupsRequest(pageToken: token))
                }
                await expectRPCError(.invalidArgument, containing: "'page_token'") {
                    _ = try await client.agents.listGroupAgents(ListGroupAgentsRequest(groupID: "g", pageToken: token))
                }
            }
            await expectRPCError(.invalidArgument, containing: "'page_size' must be at most 40, got 41") {
                _ = try await client.agents.listAgentSessions(ListAgentSessionsRequest(agentID: "ann", pageSize: 41))
            }
            await expectRPCError(.invalidArgument, containing: "'page_size' must be at most 1000, got 1001") {
                _ = try await client.sessions.listGroups(ListSessionGroupsRequest(pageSize: 1001))
            }
            await client.close()
        }
    }

    @Test("the user's group menu comes in pages; no page_size gives the first page of 100")
    func sessionGroupPages() async throws {
        try await withTestServer { server in
            let client = server.makeClient()
            let ids = (0..<105).map { "g\($0 + 100)" }
            for id in ids { _ = try await client.agents.createGroup(CreateGroupRequest(id: id, name: "Group \(id)")) }
            let first = try await client.sessions.listGroups(ListSessionGroupsRequest())
            #expect(first.groups.map(\.id) == Array(ids.prefix(100)) && !first.nextPageToken.isEmpty)
            let rest = try await client.sessions.listGroups(ListSessionGroupsRequest(pageToken: first.nextPageToken))
            #expect(rest.groups.map(\.id) == Array(ids.suffix(5)) && rest.nextPageToken.isEmpty)
            var all: [String] = []
            for try await group in client.sessions.allGroups(pageSize: 10) { all.append(group.id) }
            #expect(all == ids)
            await client.close()
        }
    }

    @Test("a transcript of maximal messages comes in answers of at most 1 MiB")
    func messagesStopAtTheBudget() async throws {
        try await withTestServer { server in
            let client = server.makeClient()
            let session = try await client.sessions.createSession(CreateSessionRequest(userID: "u"))
            let text = String(repeating: "😀", count: 10_000)  // 40,000 bytes
            for _ in 0..<40 { _ = try await client.sessions.sendUserMessage(SendUserMessageRequest(sessionID: session.id, text: text)) }
            let first = try await client.sessions.listMessages(ListMessagesRequest(sessionID: session.id, limit: 1000))
            #expect(try first.serializedSize() <= ResponseBudget.bytes)
            #expect(first.more && first.messages.count < 41 && first.messages.count > 20)
            var sequences: [Int64] = []
            for try await message in client.sessions.allMessages(sessionID: session.id, limit: 1000) { sequences.append(message.sequence) }
            #expect(sequences == Array(1...41))  // the welcome message and the 40
            await client.close()
        }
    }
}
