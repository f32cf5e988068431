import SwitchboardCore
public import SwitchboardProto
public import SwitchboardRPC
public import SwitchboardServices
import SwitchboardStore

/// Serves `switchboard.v1.SettingsService`: the versioned settings document, held by the engine
/// (which applies changes to later decisions at once) and stored before each answer.
public struct SettingsServiceImplementation: SettingsService.ServiceProtocol {
    private let tenants: TenantRegistry

    /// Creates the service.
    public init(tenants: TenantRegistry) {
        self.tenants = tenants
    }

    public func getSettings(request: GetSettingsRequest, context: ServerContext) async throws -> SettingsDocument {
        let tenant = try await tenants.enter(context)
        defer { tenants.leave(tenant) }
        let engine = tenant.engine
        let (settings, version, updatedAt) = await engine.settings()
        return SettingsDocument(settings: Settings(settings), version: version, updatedAtMs: updatedAt.milliseconds)
    }

    public func updateSettings(request: UpdateSettingsRequest, context: ServerContext) async throws -> SettingsDocument {
        let tenant = try await tenants.enter(context)
        defer { tenants.leave(tenant) }
        let engine = tenant.engine
        guard request.expectedVersion >= 0 else {
            throw SwitchboardError.invalid("expected_version", "must not be negative, got \(request.expectedVersion)")
        }
        guard let update = request.settings, !update.isEmpty else {
            throw SwitchboardError.invalid("settings", "must hold at least one section to replace")
        }
        let (current, _, _) = await engine.settings()
        let merged = SwitchboardSettings(proto: Settings(current).replacingSections(from: update))
        let (version, updatedAt) = try await engine.updateSettings(merged, expectedVersion: request.expectedVersion)
        context.logger.info("settings updated", metadata: ["version": "\(version)"])
        return SettingsDocument(settings: Settings(merged), version: version, updatedAtMs: updatedAt.milliseconds)
    }
}
