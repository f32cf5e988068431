import SwitchboardCore
public import SwitchboardProto
public import SwitchboardRPC
public import SwitchboardServices
public import SwitchboardStore

/// Serves `switchboard.v1.SettingsService`: the versioned settings document.
public struct SettingsServiceImplementation: SettingsService.ServiceProtocol {
    private let store: SwitchboardStore

    /// Creates the service over `store`.
    public init(store: SwitchboardStore) {
        self.store = store
    }

    public func getSettings(request: GetSettingsRequest, context: ServerContext) async throws -> SettingsDocument {
        try await current().document
    }

    public func updateSettings(request: UpdateSettingsRequest, context: ServerContext) async throws -> SettingsDocument {
        guard request.expectedVersion >= 0 else {
            throw SwitchboardError.invalid("expected_version", "must not be negative, got \(request.expectedVersion)")
        }
        guard let update = request.settings, !update.isEmpty else {
            throw SwitchboardError.invalid("settings", "must hold at least one section to replace")
        }
        let (document, _) = try await current()
        guard document.version == request.expectedVersion else {
            throw SwitchboardError(
                .aborted,
                "the settings changed since version \(request.expectedVersion) was read (now version \(document.version)); read them again and retry"
            )
        }
        let merged = SwitchboardSettings(proto: (document.settings ?? Settings()).replacingSections(from: update))
        try merged.validate()
        let stored = try await store.replaceSettings(try Settings(merged).serializedBytes(), expectedVersion: request.expectedVersion)
        context.logger.info("settings updated", metadata: ["version": "\(stored.version)"])
        return SettingsDocument(settings: Settings(merged), version: stored.version, updatedAtMs: stored.updatedAt.milliseconds)
    }

    /// The current document (every section complete) and its domain form.
    private func current() async throws -> (document: SettingsDocument, settings: SwitchboardSettings) {
        guard let stored = try await store.settings() else {
            let defaults = SwitchboardSettings()
            return (SettingsDocument(settings: Settings(defaults), version: 0, updatedAtMs: 0), defaults)
        }
        let settings: SwitchboardSettings
        do {
            settings = SwitchboardSettings(proto: try Settings(serializedBytes: stored.document))
        } catch {
            throw RPCError(code: .dataLoss, message: "the stored settings (version \(stored.version)) cannot be decoded: \(error)")
        }
        return (
            SettingsDocument(settings: Settings(settings), version: stored.version, updatedAtMs: stored.updatedAt.milliseconds),
            settings
        )
    }
}
