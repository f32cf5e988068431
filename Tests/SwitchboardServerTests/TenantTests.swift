import Foundation
import Synchronization
import SwitchboardClient
import SwitchboardCore
@testable import SwitchboardServer
import SwitchboardStore
import SwitchboardTestSupport
import Testing

/// A monotonic clock the test moves by hand (nanoseconds).
final class ManualMonotonic: Sendable {
    private let nanos = Mutex<UInt64>(1_000_000_000)
    var read: @Sendable () -> UInt64 { { [self] in nanos.withLock { $0 } } }
    func advance(seconds: Double) { nanos.withLock { $0 += UInt64(seconds * 1e9) } }
}

/// A fresh data folder; the catalog is its `switchboard.sqlite`.
private func temporaryCatalog() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-tenants-\(UUID().uuidString)")
        .appendingPathComponent("switchboard.sqlite").path
}

/// The status code `body` fails with; `nil` when it succeeds.
private func code(_ body: () async throws -> Void) async -> RPCError.Code? {
    do {
        try await body()
        return nil
    } catch let error as RPCError {
        return error.code
    } catch {
        return .unknown
    }
}

/// The status code of opening `stream` (its first event or its error).
private func code<T>(_ stream: RPCResponseStream<T>) async -> RPCError.Code? {
    await code {
        for try await _ in stream { return }
    }
}

/// Tenant B's records, which tenant A's callers must never reach.
private struct TenantB {
    static let agent = "bob"
    static let group = "gb"
    var session = ""
}

@Suite("Tenants")
struct TenantTests {
    /// Creates tenant `id` through `operator`, with an agent online, a group and an ACTIVE session.
    private static func populate(
        _ server: TestServer, tenant id: String, agent: String, group: String, token: String? = nil
    ) async throws -> String {
        let client = server.makeClient(token: token, tenant: id)
        defer { Task { await client.close() } }
        _ = try await client.agents.createAgent(CreateAgentRequest(id: agent, displayName: "Agent of \(id)"))
        _ = try await client.agents.createGroup(CreateGroupRequest(id: group, name: "Group of \(id)"))
        _ = try await client.agents.addGroupMember(GroupMemberRequest(groupID: group, agentID: agent))
        _ = try await client.agents.setAgentStatus(SetAgentStatusRequest(id: agent, status: .online))
        var settings = try await client.settings.getSettings(GetSettingsRequest())
        settings.settings?.prompts?.welcome = "Welcome to \(id)"
        _ = try await client.settings.updateSettings(UpdateSettingsRequest(expectedVersion: settings.version, settings: settings.settings))
        let session = try await client.sessions.createSession(CreateSessionRequest(userID: "user-\(id)", channel: "web"))
        let routed = try await client.sessions.requestAgent(RequestAgentRequest(sessionID: session.id))
        #expect(routed.agentID == agent)
        _ = try await client.sessions.sendUserMessage(SendUserMessageRequest(sessionID: session.id, text: "secret of \(id)"))
        return session.id
    }

    @Test("ids are per tenant: the same agent, group and settings in two tenants stay apart")
    func idsPerTenant() async throws {
        try await withTestServer { server in
            let admin = server.makeClient()
            _ = try await admin.tenantClient.createTenant(CreateTenantRequest(id: "a", displayName: "A"))
            _ = try await admin.tenantClient.createTenant(CreateTenantRequest(id: "b"))
            let sessionA = try await Self.populate(server, tenant: "a", agent: "alice", group: "g")
            let sessionB = try await Self.populate(server, tenant: "b", agent: "alice", group: "g")
            let a = server.makeClient(tenant: "a")
            let b = server.makeClient(tenant: "b")
            #expect(try await a.agents.getAgent(GetAgentRequest(id: "alice")).displayName == "Agent of a")
            #expect(try await b.agents.getAgent(GetAgentRequest(id: "alice")).displayName == "Agent of b")
            #expect(try await a.settings.getSettings(GetSettingsRequest()).settings?.prompts?.welcome == "Welcome to a")
            #expect(await code { _ = try await b.sessions.getSession(GetSessionRequest(sessionID: sessionA)) } == .notFound)
            #expect(await code { _ = try await a.sessions.getSession(GetSessionRequest(sessionID: sessionB)) } == .notFound)
            // The default tenant (no metadata) has none of it.
            #expect(await code { _ = try await admin.agents.getAgent(GetAgentRequest(id: "alice")) } == .notFound)
            // An unknown tenant is NOT_FOUND, a malformed one INVALID_ARGUMENT.
            let nowhere = server.makeClient(tenant: "nowhere")
            #expect(await code { _ = try await nowhere.settings.getSettings(GetSettingsRequest()) } == .notFound)
            let bad = server.makeClient(tenant: "Bad Tenant")
            #expect(await code { _ = try await bad.settings.getSettings(GetSettingsRequest()) } == .invalidArgument)
            // Usage counts each tenant's own.
            let usage = try await admin.tenantClient.getTenant(GetTenantRequest(id: "a")).usage
            #expect(usage?.agents == 1 && usage?.openSessions == 1 && usage?.awake == true)
            let list = try await admin.tenantClient.listTenants(ListTenantsRequest())
            #expect(list.tenants.map(\.id) == ["a", "b", "default"])
            for client in [admin, a, b, nowhere, bad] { await client.close() }
        }
    }

    @Test("isolation matrix: tenant A's keys against every method with tenant B's ids get NOT_FOUND or PERMISSION_DENIED, never B's data")
    func isolationMatrix() async throws {
        let now = Timestamp(milliseconds: 1)
        let operatorKey = APIKeys.make(role: .operator, agentID: nil, description: "", now: now)
        let adminA = APIKeys.make(role: .admin, agentID: nil, description: "", now: now, tenantID: "a")
        let gatewayA = APIKeys.make(role: .gateway, agentID: nil, description: "", now: now, tenantID: "a")
        let agentA = APIKeys.make(role: .agent, agentID: "alice", description: "", now: now, tenantID: "a")
        let adminB = APIKeys.make(role: .admin, agentID: nil, description: "", now: now, tenantID: "b")
        let ring = APIKeyRing([operatorKey.record, adminA.record, gatewayA.record, agentA.record, adminB.record])
        try await withTestServer(keys: ring) { server in
            let operatorClient = server.makeClient(token: operatorKey.token.text)
            _ = try await operatorClient.tenantClient.createTenant(CreateTenantRequest(id: "a"))
            _ = try await operatorClient.tenantClient.createTenant(CreateTenantRequest(id: "b"))
            _ = try await Self.populate(server, tenant: "a", agent: "alice", group: "ga", token: operatorKey.token.text)
            let b = TenantB(session: try await Self.populate(server, tenant: "b", agent: TenantB.agent, group: TenantB.group, token: adminB.token.text))

            for (name, key) in [("admin of A", adminA), ("gateway of A", gatewayA), ("agent alice of A", agentA)] {
                for metadataTenant in [nil, "b"] {
                    let client = server.makeClient(token: key.token.text, tenant: metadataTenant)
                    let label = "\(name)\(metadataTenant.map { ", metadata tenant \($0)" } ?? "")"
                    let calls = Self.callsNamingB(client, b)
                    for (method, call) in calls {
                        let result = await code(call)
                        #expect(result == .notFound || result == .permissionDenied, "\(label): \(method) answered \(result.map { "\($0)" } ?? "OK")")
                    }
                    // Lists and reads of the caller's own tenant show nothing of B's.
                    if key.record.role == .admin, metadataTenant == nil {
                        let agents = try await client.agents.listAgents(ListAgentsRequest()).agents.map(\.id)
                        #expect(!agents.contains(TenantB.agent), "\(label): ListAgents")
                        let groups = try await client.agents.listGroups(ListGroupsRequest()).groups.map(\.id)
                        #expect(!groups.contains(TenantB.group), "\(label): ListGroups")
                        let welcome = try await client.settings.getSettings(GetSettingsRequest()).settings?.prompts?.welcome
                        #expect(welcome == "Welcome to a", "\(label): GetSettings")
                    }
                    if key.record.role == .gateway, metadataTenant == nil {
                        let menu = try await client.sessions.listGroups(ListSessionGroupsRequest()).groups.map(\.id)
                        #expect(!menu.contains(TenantB.group), "\(label): the group menu")
                    }
                    // TenantService is the operators'.
                    #expect(await code { _ = try await client.tenantClient.getTenant(GetTenantRequest(id: "b")) } == .permissionDenied, "\(label)")
                    await client.close()
                }
            }
            // B's data is untouched, and B's admin reaches it.
            let clientB = server.makeClient(token: adminB.token.text)
            let session = try await clientB.sessions.getSession(GetSessionRequest(sessionID: b.session))
            #expect(session.state == .active && session.agentID == TenantB.agent)
            #expect(try await clientB.agents.getAgent(GetAgentRequest(id: TenantB.agent)).status == .online)
            #expect(try await clientB.agents.getGroup(GetGroupRequest(id: TenantB.group)).memberCount == 1)
            #expect(try await clientB.settings.getSettings(GetSettingsRequest()).settings?.prompts?.welcome == "Welcome to b")
            // An operator acts in the tenant its metadata names, and only there.
            let operatorInB = server.makeClient(token: operatorKey.token.text, tenant: "b")
            #expect(try await operatorInB.sessions.getSession(GetSessionRequest(sessionID: b.session)).id == b.session)
            let operatorInA = server.makeClient(token: operatorKey.token.text, tenant: "a")
            #expect(await code { _ = try await operatorInA.sessions.getSession(GetSessionRequest(sessionID: b.session)) } == .notFound)
            for client in [operatorClient, clientB, operatorInB, operatorInA] { await client.close() }
        }
    }

    /// A call of every method of the tenant services, each naming tenant B's ids where it takes
    /// ids (or, for the methods that take none, changing something: they must then be refused
    /// for a key of A naming tenant B, and act in A otherwise — checked by the caller).
    private static func callsNamingB(_ client: SwitchboardClient, _ b: TenantB) -> [(String, () async throws -> Void)] {
        let agents = client.agents
        let sessions = client.sessions
        let bob = TenantB.agent
        let group = TenantB.group
        let session = b.session
        return [
            ("UpdateAgent", { _ = try await agents.updateAgent(UpdateAgentRequest(id: bob, displayName: "Mallory")) }),
            ("GetAgent", { _ = try await agents.getAgent(GetAgentRequest(id: bob)) }),
            ("DeleteAgent", { _ = try await agents.deleteAgent(DeleteAgentRequest(id: bob)) }),
            ("SetAgentStatus", { _ = try await agents.setAgentStatus(SetAgentStatusRequest(id: bob, status: .offline)) }),
            ("RenameGroup", { _ = try await agents.renameGroup(RenameGroupRequest(id: group, name: "Mallory")) }),
            ("GetGroup", { _ = try await agents.getGroup(GetGroupRequest(id: group)) }),
            ("DeleteGroup", { _ = try await agents.deleteGroup(DeleteGroupRequest(id: group)) }),
            ("AddGroupMember", { _ = try await agents.addGroupMember(GroupMemberRequest(groupID: group, agentID: bob)) }),
            ("RemoveGroupMember", { _ = try await agents.removeGroupMember(GroupMemberRequest(groupID: group, agentID: bob)) }),
            ("ListGroupAgents", { _ = try await agents.listGroupAgents(ListGroupAgentsRequest(groupID: group)) }),
            ("AcceptSession", { _ = try await agents.acceptSession(AgentSessionRequest(agentID: bob, sessionID: session)) }),
            ("SendAgentMessage", { _ = try await agents.sendAgentMessage(SendAgentMessageRequest(agentID: bob, sessionID: session, text: "hi")) }),
            ("AgentService/CloseSession", { _ = try await agents.closeSession(AgentSessionRequest(agentID: bob, sessionID: session)) }),
            ("TransferSession", {
                _ = try await agents.transferSession(TransferSessionRequest(agentID: bob, sessionID: session, target: .toAgentID("alice")))
            }),
            ("InviteRating", { _ = try await agents.inviteRating(AgentSessionRequest(agentID: bob, sessionID: session)) }),
            ("ListAgentSessions", { _ = try await agents.listAgentSessions(ListAgentSessionsRequest(agentID: bob)) }),
            ("WatchAgent", {
                for try await _ in agents.watchAgent(WatchAgentRequest(agentID: bob), options: CallOptions(timeout: .seconds(2))) { return }
            }),
            ("SendUserMessage", { _ = try await sessions.sendUserMessage(SendUserMessageRequest(sessionID: session, text: "hi")) }),
            ("RequestAgent", { _ = try await sessions.requestAgent(RequestAgentRequest(sessionID: session)) }),
            ("GetSession", { _ = try await sessions.getSession(GetSessionRequest(sessionID: session)) }),
            ("ListMessages", { _ = try await sessions.listMessages(ListMessagesRequest(sessionID: session)) }),
            ("GetQueuePosition", { _ = try await sessions.getQueuePosition(GetQueuePositionRequest(sessionID: session)) }),
            ("SessionService/CloseSession", { _ = try await sessions.closeSession(CloseSessionRequest(sessionID: session)) }),
            ("SubmitRating", { _ = try await sessions.submitRating(SubmitRatingRequest(sessionID: session, score: 1)) }),
            ("WatchSession", {
                for try await _ in sessions.watchSession(WatchSessionRequest(sessionID: session), options: CallOptions(timeout: .seconds(2))) { return }
            }),
        ]
    }

    @Test("quotas: agents, open sessions, calls per second and watchers, each RESOURCE_EXHAUSTED naming it; raised at once")
    func quotas() async throws {
        let monotonic = ManualMonotonic()
        try await withTestServer(monotonic: monotonic.read) { server in
            let admin = server.makeClient()
            let quotas = TenantQuotas_(maxAgents: 1, maxOpenSessions: 1, maxCallsPerSecond: 0, maxWatchers: 1)
            _ = try await admin.tenantClient.createTenant(CreateTenantRequest(id: "q", quotas: quotas))
            let q = server.makeClient(tenant: "q")
            _ = try await q.agents.createAgent(CreateAgentRequest(id: "a1", displayName: "A"))
            await expectExhausted("max_agents") { _ = try await q.agents.createAgent(CreateAgentRequest(id: "a2", displayName: "B")) }
            let first = try await q.sessions.createSession(CreateSessionRequest(userID: "u1"))
            await expectExhausted("max_open_sessions") { _ = try await q.sessions.createSession(CreateSessionRequest(userID: "u2")) }
            // One watcher at a time.
            let watch = Task {
                try await withThrowingTaskGroup(of: Void.self) { _ in
                    for try await _ in q.sessions.watchSession(WatchSessionRequest(sessionID: first.id)) {}
                }
            }
            #expect(try await eventually { try await admin.tenantClient.getTenant(GetTenantRequest(id: "q")).usage?.watchers == 1 })
            await expectExhausted("max_watchers") {
                for try await _ in q.agents.watchAgent(WatchAgentRequest(agentID: "a1")) { return }
            }
            watch.cancel()
            #expect(try await eventually { try await admin.tenantClient.getTenant(GetTenantRequest(id: "q")).usage?.watchers == 0 })
            // Closing frees a place; a raised quota applies at once.
            _ = try await q.sessions.closeSession(CloseSessionRequest(sessionID: first.id))
            _ = try await q.sessions.createSession(CreateSessionRequest(userID: "u2"))
            _ = try await admin.tenantClient.updateTenant(UpdateTenantRequest(id: "q", quotas: TenantQuotas_(maxAgents: 2, maxCallsPerSecond: 5)))
            _ = try await q.agents.createAgent(CreateAgentRequest(id: "a2", displayName: "B"))
            // Calls per second: the bucket holds 5; the clock does not move.
            var refused = 0
            for _ in 0..<8 {
                if await code({ _ = try await q.settings.getSettings(GetSettingsRequest()) }) == .resourceExhausted { refused += 1 }
            }
            #expect(refused == 8 - 5 + 1)  // the a2 call took one token
            await expectExhausted("max_calls_per_second") { _ = try await q.settings.getSettings(GetSettingsRequest()) }
            // Another tenant is not slowed.
            _ = try await admin.settings.getSettings(GetSettingsRequest())
            monotonic.advance(seconds: 1)
            _ = try await q.settings.getSettings(GetSettingsRequest())
            // Bad quotas name their field.
            let error = await errorOf { _ = try await admin.tenantClient.updateTenant(UpdateTenantRequest(id: "q", quotas: TenantQuotas_(maxAgents: 200_000_000))) }
            #expect(error?.code == .invalidArgument && error?.message.contains("quotas.max_agents") == true)
            await q.close()
            await admin.close()
        }
    }

    @Test("one tenant's slow hook does not slow another tenant: its routing waits, the other's calls go on")
    func slowHookIsolation() async throws {
        let hook = GatedHook()
        try await withTestServer(hook: hook) { server in
            let admin = server.makeClient()
            _ = try await admin.tenantClient.createTenant(CreateTenantRequest(id: "slow"))
            _ = try await admin.tenantClient.createTenant(CreateTenantRequest(id: "fast"))
            _ = try await Self.populate(server, tenant: "slow", agent: "alice", group: "g")
            _ = try await Self.populate(server, tenant: "fast", agent: "alice", group: "g")
            let slow = server.makeClient(tenant: "slow")
            var settings = try await slow.settings.getSettings(GetSettingsRequest())
            settings.settings?.allocation = Settings.Allocation(
                policy: .businessServer, hookAddress: "127.0.0.1:9", hookDeadlineMs: 30_000, fallback: .automatic
            )
            _ = try await slow.settings.updateSettings(UpdateSettingsRequest(expectedVersion: settings.version, settings: settings.settings))
            let waiting = try await slow.sessions.createSession(CreateSessionRequest(userID: "waits"))
            let routing = Task { try await slow.sessions.requestAgent(RequestAgentRequest(sessionID: waiting.id)) }
            #expect(try await eventually { hook.waiting })
            // The hook holds the slow tenant's routing; the fast tenant's whole lifecycle goes on.
            let fast = server.makeClient(tenant: "fast")
            let start = ContinuousClock.now
            for index in 0..<20 {
                let session = try await fast.sessions.createSession(CreateSessionRequest(userID: "u\(index)"))
                let routed = try await fast.sessions.requestAgent(RequestAgentRequest(sessionID: session.id))
                #expect(routed.state == .active)
                _ = try await fast.sessions.closeSession(CloseSessionRequest(sessionID: session.id))
            }
            #expect(ContinuousClock.now - start < .seconds(5))
            #expect(hook.waiting, "the slow tenant's hook call was still pending")
            // The slow tenant's other calls are not held either.
            _ = try await slow.agents.getAgent(GetAgentRequest(id: "alice"))
            hook.release()
            #expect(try await routing.value.state != .unspecified)
            for client in [admin, slow, fast] { await client.close() }
        }
    }

    @Test("TenantService: bad ids and names, taken ids, unknown tenants, and default cannot be deleted")
    func management() async throws {
        try await withTestServer { server in
            let client = server.makeClient()
            let tenants = client.tenantClient
            #expect(await errorOf { _ = try await tenants.createTenant(CreateTenantRequest(id: "Not OK")) }?.message.contains("'id'") == true)
            #expect(await code { _ = try await tenants.createTenant(CreateTenantRequest(id: "x", displayName: "  ")) } == .invalidArgument)
            let created = try await tenants.createTenant(CreateTenantRequest(id: "x"))
            #expect(created.displayName == "x" && created.quotas == TenantQuotas_())
            #expect(await code { _ = try await tenants.createTenant(CreateTenantRequest(id: "x")) } == .alreadyExists)
            #expect(await code { _ = try await tenants.getTenant(GetTenantRequest(id: "y")) } == .notFound)
            #expect(await code { _ = try await tenants.updateTenant(UpdateTenantRequest(id: "y", displayName: "Y")) } == .notFound)
            #expect(await code { _ = try await tenants.updateTenant(UpdateTenantRequest(id: "x")) } == .invalidArgument)
            #expect(try await tenants.updateTenant(UpdateTenantRequest(id: "x", displayName: "Ex")).displayName == "Ex")
            #expect(await code { _ = try await tenants.deleteTenant(DeleteTenantRequest(id: "default")) } == .failedPrecondition)
            #expect(await code { _ = try await tenants.deleteTenant(DeleteTenantRequest(id: "y")) } == .notFound)
            _ = try await tenants.deleteTenant(DeleteTenantRequest(id: "x"))
            #expect(await code { _ = try await tenants.getTenant(GetTenantRequest(id: "x")) } == .notFound)
            // Pages.
            for index in 0..<5 { _ = try await tenants.createTenant(CreateTenantRequest(id: "t\(index)")) }
            var ids: [String] = []
            var token = ""
            repeat {
                let page = try await tenants.listTenants(ListTenantsRequest(pageSize: 2, pageToken: token))
                #expect(page.tenants.count <= 2)
                ids += page.tenants.map(\.id)
                token = page.nextPageToken
            } while !token.isEmpty
            #expect(ids == ["default", "t0", "t1", "t2", "t3", "t4"])
            await client.close()
        }
    }

    @Test("an idle tenant sleeps (its database closed), keeps everything, wakes at its next call, and at its next timer")
    func sleepAndWake() async throws {
        let catalog = temporaryCatalog()
        let monotonic = ManualMonotonic()
        let clock = ManualClock()
        try await withTestServer(database: catalog, clock: clock, monotonic: monotonic.read, tenantIdleAfter: .seconds(60)) { server in
            let admin = server.makeClient()
            _ = try await admin.tenantClient.createTenant(CreateTenantRequest(id: "s"))
            let s = server.makeClient(tenant: "s")
            let sessionID = try await Self.populate(server, tenant: "s", agent: "alice", group: "g")
            let botSession = try await s.sessions.createSession(CreateSessionRequest(userID: "waiting"))
            #expect(server.tenants.awakeCount == 2)
            // Not idle long enough: stays awake.
            monotonic.advance(seconds: 30)
            await server.tenants.sweep()
            #expect(server.tenants.awakeCount == 2)
            monotonic.advance(seconds: 31)
            await server.tenants.sweep()
            #expect(server.tenants.awakeCount == 1)
            let usage = try await admin.tenantClient.getTenant(GetTenantRequest(id: "s")).usage
            #expect(usage?.awake == false && usage?.agents == 1 && usage?.openSessions == 2)
            if !TestStores.onPostgres {   // a tenant of its own file on SQLite only
                #expect(FileManager.default.fileExists(atPath: URL(fileURLWithPath: catalog).deletingLastPathComponent().path + "/tenants/s.sqlite"))
            }
            // The next call wakes it, with everything.
            let session = try await s.sessions.getSession(GetSessionRequest(sessionID: sessionID))
            #expect(session.state == .active && session.agentID == "alice")
            #expect(server.tenants.awakeCount == 2)
            // Asleep again; its next timer (the BOT idle timeout of the waiting session) wakes it.
            monotonic.advance(seconds: 61)
            await server.tenants.sweep()
            #expect(server.tenants.awakeCount == 1)
            clock.advance(.seconds(3601))
            await server.tenants.sweep()
            let closed = try await s.sessions.getSession(GetSessionRequest(sessionID: botSession.id))
            #expect(closed.state == .closed && closed.closeReason == .botIdle)
            await s.close()
            await admin.close()
        }
    }

    @Test("a tenant's data and keys survive a restart; files of a tenant deleted halfway are removed at start-up")
    func restart() async throws {
        let catalog = temporaryCatalog()
        let tenantsFolder = URL(fileURLWithPath: catalog).deletingLastPathComponent().path + "/tenants"
        let sessionID: String = try await withTestServer(database: catalog) { server in
            let admin = server.makeClient()
            _ = try await admin.tenantClient.createTenant(CreateTenantRequest(id: "r", displayName: "Restarted", quotas: TenantQuotas_(maxAgents: 3)))
            defer { Task { await admin.close() } }
            return try await Self.populate(server, tenant: "r", agent: "alice", group: "g")
        }
        // A deletion cut short after the catalog forgot the tenant: its file stays behind (SQLite only:
        // on PostgreSQL a tenant is rows of the one database, deleted in one transaction).
        if !TestStores.onPostgres {
            #expect(FileManager.default.createFile(atPath: tenantsFolder + "/gone.sqlite", contents: Data("x".utf8)))
        }
        try await withTestServer(database: catalog) { server in
            #expect(!FileManager.default.fileExists(atPath: tenantsFolder + "/gone.sqlite"))
            let admin = server.makeClient()
            let tenant = try await admin.tenantClient.getTenant(GetTenantRequest(id: "r"))
            #expect(tenant.displayName == "Restarted" && tenant.quotas?.maxAgents == 3)
            // Counted although no call woke it since the start.
            #expect(tenant.usage?.agents == 1 && tenant.usage?.openSessions == 1)
            let r = server.makeClient(tenant: "r")
            let session = try await r.sessions.getSession(GetSessionRequest(sessionID: sessionID))
            #expect(session.state == .active)
            let messages = try await r.sessions.listMessages(ListMessagesRequest(sessionID: sessionID)).messages
            #expect(messages.contains { $0.text == "secret of r" })
            await r.close()
            await admin.close()
        }
    }

    @Test("deleting a tenant under load: its calls fail cleanly, its streams end, its files and keys go; others are served throughout")
    func deleteUnderLoad() async throws {
        let catalog = temporaryCatalog()
        let now = Timestamp(milliseconds: 1)
        let operatorKey = APIKeys.make(role: .operator, agentID: nil, description: "", now: now)
        let adminD = APIKeys.make(role: .admin, agentID: nil, description: "", now: now, tenantID: "d")
        try await withTestServer(database: catalog, keys: APIKeyRing([operatorKey.record, adminD.record])) { server in
            // In the catalog too: deleting a tenant reloads the keys from there.
            try await server.tenants.catalog.insertAPIKey(operatorKey.record)
            try await server.tenants.catalog.insertAPIKey(adminD.record)
            let operatorClient = server.makeClient(token: operatorKey.token.text)
            _ = try await operatorClient.tenantClient.createTenant(CreateTenantRequest(id: "d"))
            let d = server.makeClient(token: adminD.token.text)
            let sessionID = try await Self.populate(server, tenant: "d", agent: "alice", group: "g", token: adminD.token.text)
            let watcher = Task { () -> RPCError.Code? in
                await code(d.sessions.watchSession(WatchSessionRequest(sessionID: sessionID, afterSequence: 1_000)))
            }
            #expect(try await eventually { try await operatorClient.tenantClient.getTenant(GetTenantRequest(id: "d")).usage?.watchers == 1 })
            let load = LoadCounters()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        var round = 0
                        while !load.stop.load(ordering: .relaxed) {
                            round += 1
                            let result = await code {
                                let session = try await d.sessions.createSession(CreateSessionRequest(userID: "u\(worker)-\(round)"))
                                _ = try await d.sessions.sendUserMessage(SendUserMessageRequest(sessionID: session.id, text: "hello"))
                            }
                            load.outcomes.withLock { $0[result, default: 0] += 1 }
                            if result != nil { try await Task.sleep(for: .milliseconds(1)) }
                        }
                    }
                }
                group.addTask {
                    let other = server.makeClient(token: operatorKey.token.text)
                    while !load.stop.load(ordering: .relaxed) {
                        _ = try await other.sessions.createSession(CreateSessionRequest(userID: "default-user"))
                        load.defaultOK.add(1, ordering: .relaxed)
                    }
                    await other.close()
                }
                #expect(try await eventually { load.outcomes.withLock { $0[nil, default: 0] } >= 50 })
                _ = try await operatorClient.tenantClient.deleteTenant(DeleteTenantRequest(id: "d"))
                try await Task.sleep(for: .milliseconds(200))
                load.stop.store(true, ordering: .relaxed)
                try await group.waitForAll()
            }
            let counts = load.outcomes.withLock { $0 }
            // Before: successes; after: its key is gone (UNAUTHENTICATED) or the tenant is (NOT_FOUND);
            // a call caught in the middle may fail UNAVAILABLE (its store closed). Nothing else.
            let allowed: Set<RPCError.Code?> = [nil, .unauthenticated, .notFound, .unavailable]
            #expect(Set(counts.keys).isSubset(of: allowed), "\(counts)")
            #expect((counts[.unauthenticated] ?? 0) + (counts[.notFound] ?? 0) > 0, "\(counts)")
            #expect(load.defaultOK.load(ordering: .relaxed) > 0)
            #expect(await watcher.value == .notFound)
            #expect(!FileManager.default.fileExists(atPath: URL(fileURLWithPath: catalog).deletingLastPathComponent().path + "/tenants/d.sqlite"))
            #expect(await code { _ = try await d.settings.getSettings(GetSettingsRequest()) } == .unauthenticated)
            // Created again, it starts empty.
            _ = try await operatorClient.tenantClient.createTenant(CreateTenantRequest(id: "d"))
            let again = server.makeClient(token: operatorKey.token.text, tenant: "d")
            #expect(try await again.agents.listAgents(ListAgentsRequest()).agents.isEmpty)
            #expect(await code { _ = try await again.sessions.getSession(GetSessionRequest(sessionID: sessionID)) } == .notFound)
            for client in [operatorClient, d, again] { await client.close() }
        }
    }
}

/// Expects `body` to fail `RESOURCE_EXHAUSTED` naming `quota`.
private func expectExhausted(_ quota: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void) async {
    let error = await errorOf(body)
    #expect(error?.code == .resourceExhausted, "\(quota): \(error.map { "\($0)" } ?? "succeeded")", sourceLocation: sourceLocation)
    #expect(error?.message.contains(quota) == true, "\(error?.message ?? "")", sourceLocation: sourceLocation)
}

private func errorOf(_ body: () async throws -> Void) async -> RPCError? {
    do {
        try await body()
        return nil
    } catch {
        return error as? RPCError
    }
}

extension SwitchboardClient {
    /// `switchboard.v1.TenantService` on this client's connection.
    fileprivate var tenantClient: TenantService.Client { TenantService.Client(connection: connection) }
}

/// What the load of ``TenantTests/deleteUnderLoad()`` shares between its tasks.
private final class LoadCounters: Sendable {
    let stop = Atomic<Bool>(false)
    let outcomes = Mutex<[RPCError.Code?: Int]>([:])
    let defaultOK = Atomic<Int>(0)
}

/// A business server's hook that holds every call until released.
private final class GatedHook: AllocationHook {
    private let state = Mutex<(waiting: Bool, gate: [CheckedContinuation<Void, Never>], open: Bool)>((false, [], false))

    var waiting: Bool { state.withLock { $0.waiting } }

    func allocate(_ query: AllocationQuery) async -> RoutingState.HookAnswer {
        await withCheckedContinuation { continuation in
            let open = state.withLock { state in
                if state.open { return true }
                state.waiting = true
                state.gate.append(continuation)
                return false
            }
            if open { continuation.resume() }
        }
        return .automatic
    }

    func release() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.gate = [] }
            return state.gate
        }
        for waiter in waiters { waiter.resume() }
    }
}
