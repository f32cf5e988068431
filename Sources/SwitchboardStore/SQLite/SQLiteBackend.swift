import Dispatch
public import SwitchboardCore

/// The embedded backend: the catalog in one SQLite file (which holds the `default` tenant's data
/// too) and every other tenant in a file of its own beside it (``TenantFiles``), each with its
/// own writer, so that tenants commit in parallel.
public final class SQLiteBackend: StoreBackend {
    public let catalog: any SwitchboardStore
    private let files: TenantFiles
    private let clock: any WallClock
    public let description: String

    /// Opens (creating and migrating when needed) the catalog at `location`.
    public init(location: SQLiteStore.Location, clock: any WallClock = SystemWallClock()) async throws(SwitchboardError) {
        // Opening migrates: disk I/O, off the caller's thread.
        catalog = try await Self.open(location, clock: clock)
        files = TenantFiles(beside: location)
        self.clock = clock
        description = switch location {
        case .file(let path): "SQLite '\(path)'"
        case .inMemory: "SQLite in memory"
        }
    }

    public var tenantsCanSleep: Bool { files.folder != nil }

    public func open(tenant id: String) async throws(SwitchboardError) -> any SwitchboardStore {
        if id == TenantRules.defaultID { return catalog }
        return try await Self.open(files.location(of: id), clock: clock)
    }

    public func removeData(of id: String) async throws(SwitchboardError) {
        try files.remove(id)
    }

    public func tenantsWithData() async throws(SwitchboardError) -> [String] {
        files.tenantsWithFiles()
    }

    public func shutdown() async {
        catalog.close()
    }

    /// Opens a store on a global queue (opening reads and may migrate the file).
    private static func open(_ location: SQLiteStore.Location, clock: any WallClock) async throws(SwitchboardError) -> SQLiteStore {
        let result: Result<SQLiteStore, SwitchboardError> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: Result { () throws(SwitchboardError) in try SQLiteStore(location: location, clock: clock) })
            }
        }
        return try result.get()
    }
}
