import SwitchboardCore
public import SwitchboardProto
public import SwitchboardRPC
public import SwitchboardServices

/// Serves `switchboard.v1.TenantService` (operators only, see ``AccessPolicy``): the tenants of
/// the server, held by the ``TenantRegistry`` and stored in its catalog before each answer.
public struct TenantServiceImplementation: TenantService.ServiceProtocol {
    private let tenants: TenantRegistry
    private let keys: APIKeyRing?

    /// Creates the service; deleting a tenant reloads `keys` (its keys stop working at once).
    public init(tenants: TenantRegistry, keys: APIKeyRing?) {
        self.tenants = tenants
        self.keys = keys
    }

    public func createTenant(request: CreateTenantRequest, context: ServerContext) async throws -> Tenant {
        let created = try await tenants.create(
            id: request.id, displayName: request.displayName, quotas: TenantQuotas(request.quotas ?? TenantQuotas_())
        )
        context.logger.info("tenant created", metadata: ["tenant": "\(created.id)"])
        return Tenant(created)
    }

    public func getTenant(request: GetTenantRequest, context: ServerContext) async throws -> Tenant {
        try TenantRules.validateID(request.id)
        let (record, usage) = try await tenants.tenant(request.id)
        var tenant = Tenant(record)
        tenant.usage = TenantUsage(
            agents: UInt32(clamping: usage.agents), openSessions: UInt32(clamping: usage.openSessions),
            queuedSessions: UInt32(clamping: usage.queuedSessions), callsPerSecond: UInt32(clamping: usage.callsPerSecond),
            watchers: UInt32(clamping: usage.watchers), awake: usage.awake
        )
        return tenant
    }

    public func listTenants(request: ListTenantsRequest, context: ServerContext) async throws -> ListTenantsResponse {
        let page = try PageRequest(size: request.pageSize, token: request.pageToken).page(of: tenants.records(), key: \.id)
        return ListTenantsResponse(tenants: page.items.map(Tenant.init), nextPageToken: page.nextToken)
    }

    public func updateTenant(request: UpdateTenantRequest, context: ServerContext) async throws -> Tenant {
        try TenantRules.validateID(request.id)
        guard request.displayName != nil || request.quotas != nil else {
            throw SwitchboardError.invalid("display_name", "or 'quotas' must be set: there is nothing to change")
        }
        let record = try await tenants.update(request.id, displayName: request.displayName, quotas: request.quotas.map(TenantQuotas.init))
        context.logger.info("tenant updated", metadata: ["tenant": "\(record.id)"])
        return Tenant(record)
    }

    public func deleteTenant(request: DeleteTenantRequest, context: ServerContext) async throws -> DeleteTenantResponse {
        try TenantRules.validateID(request.id)
        try await tenants.delete(request.id, keys: keys)
        context.logger.info("tenant deleted", metadata: ["tenant": "\(request.id)"])
        return DeleteTenantResponse()
    }
}

/// The generated message, named apart from the core's ``SwitchboardCore/TenantQuotas``.
typealias TenantQuotas_ = SwitchboardProto.TenantQuotas

extension SwitchboardCore.TenantQuotas {
    init(_ quotas: TenantQuotas_) {
        self.init(
            maxAgents: Int(quotas.maxAgents), maxOpenSessions: Int(quotas.maxOpenSessions),
            maxCallsPerSecond: Int(quotas.maxCallsPerSecond), maxWatchers: Int(quotas.maxWatchers)
        )
    }
}

extension Tenant {
    init(_ record: TenantRecord) {
        self.init(
            id: record.id, displayName: record.displayName,
            quotas: TenantQuotas_(
                maxAgents: UInt32(clamping: record.quotas.maxAgents), maxOpenSessions: UInt32(clamping: record.quotas.maxOpenSessions),
                maxCallsPerSecond: UInt32(clamping: record.quotas.maxCallsPerSecond), maxWatchers: UInt32(clamping: record.quotas.maxWatchers)
            ),
            createdAtMs: record.createdAt.milliseconds
        )
    }
}
