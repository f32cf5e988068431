import Logging
import SwitchboardClient
import SwitchboardCore
@testable import SwitchboardServer
import SwitchboardTestSupport
import Testing

/// Every method of the served API, with whether it streams.
private let allMethods: [(service: String, method: String, streaming: Bool)] = {
    let agent = [
        "CreateAgent", "UpdateAgent", "GetAgent", "ListAgents", "DeleteAgent", "SetAgentStatus",
        "CreateGroup", "RenameGroup", "GetGroup", "DeleteGroup", "ListGroups", "AddGroupMember",
        "RemoveGroupMember", "ListGroupAgents", "AcceptSession", "SendAgentMessage", "CloseSession",
        "TransferSession", "InviteRating", "ListAgentSessions",
    ].map { ("switchboard.v1.AgentService", $0, false) } + [("switchboard.v1.AgentService", "WatchAgent", true)]
    let session = [
        "CreateSession", "SendUserMessage", "RequestAgent", "GetSession", "ListMessages",
        "GetQueuePosition", "CloseSession", "SubmitRating", "ListGroups",
    ].map { ("switchboard.v1.SessionService", $0, false) } + [("switchboard.v1.SessionService", "WatchSession", true)]
    let settings = ["GetSettings", "UpdateSettings"].map { ("switchboard.v1.SettingsService", $0, false) }
    let health = [("switchboard.v1.Health", "Check", false), ("switchboard.v1.Health", "Watch", true)]
    return agent + session + settings + health
}()

/// Keys of each role, in a ring, for one test.
private struct Keys {
    let ring: APIKeyRing
    let admin: String
    let gateway: String
    let alice: String
    let revoked: String
    let unknown: String

    init() {
        let now = Timestamp(milliseconds: 1)
        let admin = APIKeys.make(role: .admin, agentID: nil, description: "", now: now)
        let gateway = APIKeys.make(role: .gateway, agentID: nil, description: "", now: now)
        let alice = APIKeys.make(role: .agent, agentID: "alice", description: "", now: now)
        var revoked = APIKeys.make(role: .admin, agentID: nil, description: "", now: now)
        revoked.record.revokedAt = now
        let unknown = APIKeys.make(role: .admin, agentID: nil, description: "", now: now)
        ring = APIKeyRing([admin.record, gateway.record, alice.record, revoked.record])
        self.admin = admin.token.text
        self.gateway = gateway.token.text
        self.alice = alice.token.text
        self.revoked = revoked.token.text
        self.unknown = unknown.token.text
    }
}

/// An empty message: its encoding (no bytes) is a valid encoding of every request type.
private typealias Empty = GetSettingsRequest

@Suite("Authentication and roles")
struct AuthenticationTests {
    /// Calls `service/method` with an empty request and `authorization`; the status code.
    static func code(
        _ connection: RPCConnection, _ service: String, _ method: String, streaming: Bool
    ) async -> RPCError.Code? {
        let descriptor = MethodDescriptor(service: service, method: method)
        do {
            if streaming {
                // A stream that is let in runs until cancelled: the deadline ends it.
                let stream: RPCResponseStream<Empty> = connection.serverStreaming(
                    Empty(), method: descriptor, options: CallOptions(timeout: .milliseconds(300))
                )
                for try await _ in stream {}
            } else {
                let _: Empty = try await connection.unary(Empty(), method: descriptor)
            }
            return nil
        } catch {
            return error.code
        }
    }

    @Test("each role against each method of each service")
    func matrix() async throws {
        let keys = Keys()
        try await withTestServer(keys: keys.ring) { server in
            let admin = server.makeClient(token: keys.admin)
            _ = try await admin.agents.createAgent(CreateAgentRequest(id: "alice", displayName: "Alice"))
            let credentials: [(name: String, header: String?, role: APIRole?)] = [
                ("no key", nil, nil), ("not bearer", "Basic \(keys.admin)", nil), ("garbage", "Bearer nope", nil),
                ("unknown key", "Bearer \(keys.unknown)", nil), ("revoked key", "Bearer \(keys.revoked)", nil),
                ("admin", "Bearer \(keys.admin)", .admin), ("gateway", "Bearer \(keys.gateway)", .gateway),
                ("agent alice", "Bearer \(keys.alice)", .agent),
            ]
            for credential in credentials {
                var metadata = Metadata()
                if let header = credential.header { metadata.add("authorization", header) }
                let connection = RPCConnection(host: "127.0.0.1", port: server.port, configuration: .init(metadata: metadata))
                for (service, method, streaming) in allMethods {
                    let code = await Self.code(connection, service, method, streaming: streaming)
                    let decision = AccessPolicy.decision(service: service, method: method)
                    let label = "\(credential.name) -> \(service)/\(method): \(code.map { "\($0)" } ?? "OK")"
                    switch (decision, credential.role) {
                    case (.open, _):
                        #expect(code != .unauthenticated && code != .permissionDenied, "\(label)")
                    case (.roles, nil):
                        #expect(code == .unauthenticated, "\(label)")
                    case (.roles(let roles), let role?):
                        if roles.contains(role) {
                            #expect(code != .unauthenticated && code != .permissionDenied, "\(label)")
                        } else {
                            #expect(code == .permissionDenied, "\(label)")
                        }
                    }
                }
                await connection.close()
            }
        }
    }

    @Test("the policy: admin everything, gateway sessions, agents their own desk calls, Health open, operators all and TenantService alone")
    func policy() {
        #expect(AccessPolicy.decision(service: "switchboard.v1.Health", method: "Check") == .open)
        #expect(AccessPolicy.decision(service: "switchboard.v1.SettingsService", method: "UpdateSettings") == .roles([.admin, .operator]))
        #expect(AccessPolicy.decision(service: "switchboard.v1.SessionService", method: "CreateSession") == .roles([.admin, .operator, .gateway]))
        #expect(AccessPolicy.decision(service: "switchboard.v1.AgentService", method: "CreateAgent") == .roles([.admin, .operator]))
        #expect(AccessPolicy.decision(service: "switchboard.v1.AgentService", method: "SendAgentMessage") == .roles([.admin, .operator, .agent]))
        #expect(AccessPolicy.decision(service: "switchboard.testing.v1.Echo", method: "Echo") == .roles([.admin, .operator]))
        for method in ["CreateTenant", "GetTenant", "ListTenants", "UpdateTenant", "DeleteTenant"] {
            #expect(AccessPolicy.decision(service: "switchboard.v1.TenantService", method: method) == .roles([.operator]))
        }
    }

    @Test("an agent key acts for its own agent only; its id comes from the key")
    func agentBinding() async throws {
        let keys = Keys()
        try await withTestServer(keys: keys.ring) { server in
            let admin = server.makeClient(token: keys.admin)
            let gateway = server.makeClient(token: keys.gateway)
            let alice = server.makeClient(token: keys.alice)
            for id in ["alice", "bob"] {
                _ = try await admin.agents.createAgent(CreateAgentRequest(id: id, displayName: id))
            }
            // Alice sets herself online without naming herself; she cannot touch bob.
            let online = try await alice.agents.setAgentStatus(SetAgentStatusRequest(id: "", status: .online))
            #expect(online.id == "alice" && online.status == .online)
            await expectRPCError(.permissionDenied, containing: "field 'id': this key acts for agent 'alice', not 'bob'") {
                _ = try await alice.agents.setAgentStatus(SetAgentStatusRequest(id: "bob", status: .online))
            }
            _ = try await admin.agents.setAgentStatus(SetAgentStatusRequest(id: "bob", status: .online))

            let session = try await gateway.sessions.createSession(CreateSessionRequest(userID: "u1"))
            let routed = try await gateway.sessions.requestAgent(RequestAgentRequest(sessionID: session.id))
            let owner = routed.agentID
            #expect(owner == "alice" || owner == "bob")
            if owner == "alice" {
                _ = try await alice.agents.sendAgentMessage(SendAgentMessageRequest(agentID: "", sessionID: session.id, text: "hi"))
                let mine = try await alice.agents.listAgentSessions(ListAgentSessionsRequest(agentID: ""))
                #expect(mine.sessions.map(\.id) == [session.id])
            } else {
                // Her own id on bob's session: the engine's rule (not hers to act on).
                await expectRPCError(.permissionDenied, containing: "'alice'") {
                    _ = try await alice.agents.sendAgentMessage(SendAgentMessageRequest(agentID: "alice", sessionID: session.id, text: "hi"))
                }
            }
            await expectRPCError(.permissionDenied, containing: "field 'agent_id'") {
                _ = try await alice.agents.sendAgentMessage(SendAgentMessageRequest(agentID: "bob", sessionID: session.id, text: "hi"))
            }
            await expectRPCError(.permissionDenied, containing: "not 'bob'") {
                for try await _ in alice.connection.serverStreaming(
                    WatchAgentRequest(agentID: "bob"), method: AgentService.Method.WatchAgent.descriptor
                ) as RPCResponseStream<AgentEvent> {}
            }
            // The gateway may not act as an agent, nor an agent as the gateway.
            await expectRPCError(.permissionDenied, containing: "role 'gateway'") {
                _ = try await gateway.agents.listAgentSessions(ListAgentSessionsRequest(agentID: "alice"))
            }
            await expectRPCError(.permissionDenied, containing: "role 'agent'") {
                _ = try await alice.sessions.getSession(GetSessionRequest(sessionID: session.id))
            }
            await expectRPCError(.unauthenticated, containing: "authorization") {
                _ = try await server.makeClient().sessions.getSession(GetSessionRequest(sessionID: session.id))
            }
            // Health needs no key.
            #expect(try await server.makeClient().health.check(HealthCheckRequest()).status == .serving)
        }
    }

    @Test("a refused stream takes no place under the stream limit")
    func refusedStreamsTakeNoPlace() async throws {
        let keys = Keys()
        let configuration = RPCServer.Configuration(host: "127.0.0.1", port: 0, maximumStreams: 1)
        try await withTestServer(configuration: configuration, keys: keys.ring) { server in
            let admin = server.makeClient(token: keys.admin)
            _ = try await admin.agents.createAgent(CreateAgentRequest(id: "alice", displayName: "Alice"))
            let anonymous = server.makeClient()
            for _ in 0..<3 {
                await expectRPCError(.unauthenticated, containing: "missing credentials") {
                    for try await _ in anonymous.agents.watchAgent(WatchAgentRequest(agentID: "alice")) {}
                }
            }
            #expect(server.server.openStreams == 0)
            // The one place is still free for a caller who is let in.
            var events = admin.agents.watchAgent(WatchAgentRequest(agentID: "alice")).makeAsyncIterator()
            _ = try await admin.agents.setAgentStatus(SetAgentStatusRequest(id: "alice", status: .online))
            _ = try await admin.sessions.requestAgent(RequestAgentRequest(
                sessionID: try await admin.sessions.createSession(CreateSessionRequest(userID: "u")).id))
            let first = try await events.next()
            #expect(first?.sequence == 1)
            #expect(server.server.openStreams == 1)
        }
    }

    @Test("revoking every key locks the server rather than opening it; new keys work at once")
    func revocation() async throws {
        let now = Timestamp(milliseconds: 1)
        let first = APIKeys.make(role: .admin, agentID: nil, description: "", now: now)
        let ring = APIKeyRing([first.record])
        try await withTestServer(keys: ring) { server in
            let client = server.makeClient(token: first.token.text)
            _ = try await client.settings.getSettings(GetSettingsRequest())
            var revoked = first.record
            revoked.revokedAt = now
            ring.replace(with: [revoked])
            #expect(ring.isRequired)
            await expectRPCError(.unauthenticated, containing: "invalid API key") {
                _ = try await client.settings.getSettings(GetSettingsRequest())
            }
            await expectRPCError(.unauthenticated, containing: "missing credentials") {
                _ = try await server.makeClient().settings.getSettings(GetSettingsRequest())
            }
            let second = APIKeys.make(role: .admin, agentID: nil, description: "", now: now)
            ring.replace(with: [revoked, second.record])
            _ = try await server.makeClient(token: second.token.text).settings.getSettings(GetSettingsRequest())
        }
    }

    @Test("keys: text form, hashing, verification")
    func keys() {
        let made = APIKeys.make(role: .gateway, agentID: nil, description: "d", now: Timestamp(milliseconds: 5))
        let text = made.token.text
        #expect(text.hasPrefix("sbk_") && text.count == 4 + 12 + 1 + 64)
        #expect(APIKeyToken(text) == made.token)
        #expect(made.record.secretHash == APIKeys.hash(secret: made.token.secret) && made.record.secretHash.count == 32)
        #expect(!made.record.secretHash.elementsEqual(made.token.secret.utf8))  // the secret is not stored
        for bad in ["", "sbk_", text.uppercased(), String(text.dropLast()), text + "0", "xbk" + text.dropFirst(3),
                    text.replacingOccurrences(of: "_", with: "-")] {
            #expect(APIKeyToken(bad) == nil, "\(bad)")
        }
        let ring = APIKeyRing([made.record])
        #expect(ring.verify(text) == made.record)
        var wrongSecret = Array(made.token.secret)
        wrongSecret[0] = wrongSecret[0] == "a" ? "b" : "a"
        #expect(ring.verify(APIKeyToken(id: made.token.id, secret: String(wrongSecret)).text) == nil)
        #expect(!APIKeyRing().isRequired && ring.isRequired)
    }

    @Test("the hook call carries the configured token; a hook server with a token refuses others")
    func hookToken() async throws {
        var quiet = Logger(label: "test.hook")
        quiet.logLevel = .critical
        let hook = AllocationHookServer(port: 0, token: "hook-secret", logger: quiet) { _ in .group("vip") }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await hook.run() }
            let port = try await hook.server.listeningAddress.port!
            let request = HookAllocateRequest(sessionID: "s-1", userID: "u")
            let good = HookAllocationHook.Client(connection: RPCConnection(
                host: "127.0.0.1", port: port, configuration: .init(metadata: ["authorization": "Bearer hook-secret"])))
            #expect(try await good.allocate(request).decision == .groupID("vip"))
            let bad = HookAllocationHook.Client(connection: RPCConnection(
                host: "127.0.0.1", port: port, configuration: .init(metadata: ["authorization": "Bearer other"])))
            await expectRPCError(.unauthenticated, containing: "invalid token") { _ = try await bad.allocate(request) }
            let none = HookAllocationHook.Client(connection: RPCConnection(host: "127.0.0.1", port: port))
            await expectRPCError(.unauthenticated, containing: "missing credentials") { _ = try await none.allocate(request) }

            // Switchboard's hook client with the token is let in; without it, the fallback applies.
            for (token, expected) in [("hook-secret", true), ("wrong", false)] {
                let client = NetworkAllocationHook(token: token, logger: quiet)
                let call = HookCall(sessionID: "s-1", userID: "u", groupID: nil, attributes: [:], eventTime: Timestamp(milliseconds: 1), idempotencyKey: "k")
                let answer = await client.allocate(AllocationQuery(call: call, address: "127.0.0.1:\(port)", deadline: .seconds(2)))
                #expect((answer == .group("vip")) == expected, "\(token): \(answer)")
            }
            hook.server.beginGracefulShutdown()
            try await group.waitForAll()
        }
    }
}
