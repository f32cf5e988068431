import SwitchboardCore
import Testing

@Suite("Tenant rules")
struct TenantRulesTests {
    @Test("tenant ids: lowercase letters, digits and '-', 1 to 63 bytes, not starting with '-'")
    func ids() {
        for good in ["default", "a", "acme-eu-1", "0", String(repeating: "x", count: 63)] {
            #expect(throws: Never.self) { try TenantRules.validateID(good) }
        }
        for bad in ["", "-a", "Acme", "a_b", "a.b", "a/b", "..", "é", String(repeating: "x", count: 64)] {
            #expect(throws: SwitchboardError.self, "\(bad)") { try TenantRules.validateID(bad) }
        }
    }

    @Test("which tenant a call acts in: the key's own; an operator's or no key's, the metadata's or default")
    func resolution() throws {
        // No keys on the server.
        #expect(try TenantRules.tenant(requested: nil, role: nil, keyTenant: nil) == "default")
        #expect(try TenantRules.tenant(requested: "", role: nil, keyTenant: nil) == "default")
        #expect(try TenantRules.tenant(requested: "acme", role: nil, keyTenant: nil) == "acme")
        // Operators act in any tenant.
        #expect(try TenantRules.tenant(requested: nil, role: .operator, keyTenant: nil) == "default")
        #expect(try TenantRules.tenant(requested: "acme", role: .operator, keyTenant: nil) == "acme")
        // A tenant's key acts in its own tenant only.
        for role in [APIRole.admin, .gateway, .agent] {
            #expect(try TenantRules.tenant(requested: nil, role: role, keyTenant: "acme") == "acme")
            #expect(try TenantRules.tenant(requested: "acme", role: role, keyTenant: "acme") == "acme")
            let error = #expect(throws: SwitchboardError.self) { try TenantRules.tenant(requested: "other", role: role, keyTenant: "acme") }
            #expect(error?.kind == .permissionDenied)
            #expect(error?.message.contains("tenant 'acme', not 'other'") == true)
        }
        // A malformed tenant in the metadata names the metadata.
        let error = #expect(throws: SwitchboardError.self) { try TenantRules.tenant(requested: "Bad!", role: nil, keyTenant: nil) }
        #expect(error?.kind == .invalidArgument)
        #expect(error?.message.contains("switchboard-tenant") == true)
    }

    @Test("quotas are 0 (none) to 100,000,000; a bad one names its field")
    func quotas() {
        #expect(throws: Never.self) { try TenantQuotas(maxAgents: 0, maxOpenSessions: 5, maxCallsPerSecond: 100, maxWatchers: 2).validate() }
        let error = #expect(throws: SwitchboardError.self) { try TenantQuotas(maxWatchers: -1).validate() }
        #expect(error?.message.contains("quotas.max_watchers") == true)
        #expect(throws: SwitchboardError.self) { try TenantQuotas(maxAgents: 100_000_001).validate() }
    }

    @Test("calls per second: a burst of one second's worth, then the refill rate; counted per whole second")
    func rateLimiter() {
        let second: UInt64 = 1_000_000_000
        var limiter = CallRateLimiter(rate: 10, now: 0)
        func admit(_ now: UInt64) -> Bool { limiter.admit(now: now) }
        func calls(_ now: UInt64) -> Int { limiter.callsLastSecond(now: now) }
        for _ in 0..<10 { #expect(admit(0)) }
        #expect(!admit(0))
        // 100 ms later, one more token.
        #expect(admit(second / 10))
        #expect(!admit(second / 10))
        #expect(calls(second) == 11)
        // A lowered rate shrinks the bucket; 0 is no limit.
        limiter.setRate(2, now: 5 * second)
        #expect(admit(5 * second))
        #expect(admit(5 * second))
        #expect(!admit(5 * second))
        limiter.setRate(0, now: 5 * second)
        for _ in 0..<1000 { #expect(admit(5 * second)) }
        #expect(calls(6 * second) == 1002)
        #expect(calls(8 * second) == 0)
        // From no limit to one: the bucket starts full.
        limiter.setRate(3, now: 9 * second)
        for _ in 0..<3 { #expect(admit(9 * second)) }
        #expect(!admit(9 * second))
    }

    @Test("the routing core refuses agents and open sessions beyond the tenant's quotas, naming them")
    func routingQuotas() throws {
        let now = Timestamp(milliseconds: 1_000)
        var state = try RoutingState(settings: SwitchboardSettings(), agents: [], groups: [:])
        state.quotas = TenantQuotas(maxAgents: 1, maxOpenSessions: 1)
        state.tenantID = "acme"
        _ = try state.createAgent(id: "a1", displayName: "A", maxSessions: nil, now: now)
        let agents = #expect(throws: SwitchboardError.self) { try state.createAgent(id: "a2", displayName: "B", maxSessions: nil, now: now) }
        #expect(agents?.kind == .resourceExhausted)
        #expect(agents?.message == "quota max_agents of tenant 'acme' reached: 1 at most, 1 in use")
        try state.checkRoomForSession()
        _ = state.createSession(id: "s1", userID: "u", channel: "web", attributes: [:], now: now)
        let sessions = #expect(throws: SwitchboardError.self) { try state.checkRoomForSession() }
        #expect(sessions?.kind == .resourceExhausted)
        #expect(sessions?.message.contains("max_open_sessions") == true)
        // Closing makes room again.
        _ = try state.close(sessionID: "s1", byAgent: nil, now: now)
        try state.checkRoomForSession()
        // Raising the quota lets the next agent in; existing ones stay when it is lowered.
        state.quotas.maxAgents = 0
        _ = try state.createAgent(id: "a2", displayName: "B", maxSessions: nil, now: now)
        state.quotas.maxAgents = 1
        #expect(state.agents.count == 2)
    }
}
