import ArgumentParser
import SwitchboardClient

/// `tenant ...`: TenantService, for operators.
///
/// These calls act in no tenant, so they leave `--tenant` out.
struct TenantCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant", abstract: "Manage tenants and their quotas (operator keys).",
        discussion: """
            A tenant owns its settings, agents, groups, sessions and keys; the other commands act in \
            the tenant --tenant names. A quota of 0 means no limit. --tenant does not apply here: \
            these calls act in no tenant.
            """,
        subcommands: [Create.self, Get.self, List.self, Update.self, Delete.self]
    )

    /// The quota options of `create` and `update`.
    struct QuotaOptions: ParsableArguments {
        @Option(help: "Agents defined at once (0: no limit).") var maxAgents: UInt32?
        @Option(help: "Sessions not CLOSED at once (0: no limit).") var maxOpenSessions: UInt32?
        @Option(help: "Calls per second over all the tenant's callers (0: no limit).") var maxCallsPerSecond: UInt32?
        @Option(help: "Event streams open at once (0: no limit).") var maxWatchers: UInt32?

        /// Whether any quota option is given.
        var isEmpty: Bool { maxAgents == nil && maxOpenSessions == nil && maxCallsPerSecond == nil && maxWatchers == nil }

        /// `quotas` with the given options replacing their fields.
        func applied(to quotas: TenantQuotas) -> TenantQuotas {
            var quotas = quotas
            if let maxAgents { quotas.maxAgents = maxAgents }
            if let maxOpenSessions { quotas.maxOpenSessions = maxOpenSessions }
            if let maxCallsPerSecond { quotas.maxCallsPerSecond = maxCallsPerSecond }
            if let maxWatchers { quotas.maxWatchers = maxWatchers }
            return quotas
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a tenant, with the default settings and no agents.", discussion: "Example: switchboard-cli tenant create acme --name \"Acme Corp\" --max-agents 50")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The tenant's id.") var id: String
        @Option(help: "The display name (default: the id).") var name = ""
        @OptionGroup var quotas: QuotaOptions

        func run() async throws {
            let request = CreateTenantRequest(id: id, displayName: name, quotas: quotas.isEmpty ? nil : quotas.applied(to: TenantQuotas()))
            try await global.run(inTenant: false) { client in
                TenantTable.print(try await client.tenants.createTenant(request), format: global.output)
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a tenant: its quotas and usage.", discussion: "Example: switchboard-cli tenant get acme")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The tenant's id.") var id: String

        func run() async throws {
            try await global.run(inTenant: false) { client in
                TenantTable.print(try await client.tenants.getTenant(GetTenantRequest(id: id)), format: global.output)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every tenant (all pages).", discussion: "Example: switchboard-cli tenant list")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Tenants per call (1..1000).") var pageSize: UInt32 = 100

        func run() async throws {
            try await global.run(inTenant: false) { client in
                var tenants: [Tenant] = []
                for try await tenant in client.tenants.allTenants(pageSize: pageSize) { tenants.append(tenant) }
                Output.print(
                    list: tenants.map(TenantTable.Row.init), response: ListTenantsResponse(tenants: tenants),
                    columns: ["id", "displayName", "maxAgents", "maxOpenSessions", "maxCallsPerSecond", "maxWatchers"],
                    format: global.output
                )
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a tenant's name or quotas.",
            discussion: """
                Only the quotas given change: the tenant is read first, and its quotas are sent back \
                with the given ones replaced. A lowered quota refuses new work beyond it and keeps \
                what exists.
                Example: switchboard-cli tenant update acme --max-open-sessions 200 --max-watchers 0
                """
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The tenant's id.") var id: String
        @Option(help: "A new display name.") var name: String?
        @OptionGroup var quotas: QuotaOptions

        func validate() throws {
            guard name != nil || !quotas.isEmpty else {
                throw ValidationError("give --name or a quota (--max-agents, --max-open-sessions, --max-calls-per-second, --max-watchers)")
            }
        }

        func run() async throws {
            try await global.run(inTenant: false) { client in
                var request = UpdateTenantRequest(id: id, displayName: name)
                if !quotas.isEmpty {
                    let current = try await client.tenants.getTenant(GetTenantRequest(id: id))
                    request.quotas = quotas.applied(to: current.quotas ?? TenantQuotas())
                }
                TenantTable.print(try await client.tenants.updateTenant(request), format: global.output)
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a tenant and all its data ('default' cannot be deleted).", discussion: "Example: switchboard-cli tenant delete acme")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The tenant's id.") var id: String

        func run() async throws {
            try await global.run(inTenant: false) { client in
                Output.print(try await client.tenants.deleteTenant(DeleteTenantRequest(id: id)), format: global.output)
            }
        }
    }
}

/// A tenant as a table shows it: every quota and usage figure, zeros included (protobuf's JSON
/// mapping, which `--output json` prints, leaves zeros out).
struct TenantTable: Encodable {
    struct Quotas: Encodable {
        var maxAgents: UInt32
        var maxOpenSessions: UInt32
        var maxCallsPerSecond: UInt32
        var maxWatchers: UInt32

        init(_ quotas: TenantQuotas?) {
            let quotas = quotas ?? TenantQuotas()
            maxAgents = quotas.maxAgents
            maxOpenSessions = quotas.maxOpenSessions
            maxCallsPerSecond = quotas.maxCallsPerSecond
            maxWatchers = quotas.maxWatchers
        }
    }

    struct Usage: Encodable {
        var agents: UInt32
        var openSessions: UInt32
        var queuedSessions: UInt32
        var callsPerSecond: UInt32
        var watchers: UInt32
        var awake: Bool

        init(_ usage: TenantUsage) {
            agents = usage.agents
            openSessions = usage.openSessions
            queuedSessions = usage.queuedSessions
            callsPerSecond = usage.callsPerSecond
            watchers = usage.watchers
            awake = usage.awake
        }
    }

    /// One line of `tenant list`: the id, the name and each quota.
    struct Row: Encodable {
        var id: String
        var displayName: String
        var maxAgents: UInt32
        var maxOpenSessions: UInt32
        var maxCallsPerSecond: UInt32
        var maxWatchers: UInt32

        init(_ tenant: Tenant) {
            let quotas = Quotas(tenant.quotas)
            id = tenant.id
            displayName = tenant.displayName
            maxAgents = quotas.maxAgents
            maxOpenSessions = quotas.maxOpenSessions
            maxCallsPerSecond = quotas.maxCallsPerSecond
            maxWatchers = quotas.maxWatchers
        }
    }

    var id: String
    var displayName: String
    var createdAtMs: Int64
    var quotas: Quotas
    /// Only `GetTenant` answers usage.
    var usage: Usage?

    init(_ tenant: Tenant) {
        id = tenant.id
        displayName = tenant.displayName
        createdAtMs = tenant.createdAtMs
        quotas = Quotas(tenant.quotas)
        usage = tenant.usage.map(Usage.init)
    }

    /// `field  value` lines, or the tenant's JSON.
    static func print(_ tenant: Tenant, format: OutputFormat) {
        switch format {
        case .json: Output.print(tenant, format: .json)
        case .table: Output.print(TenantTable(tenant), format: .table)
        }
    }
}
