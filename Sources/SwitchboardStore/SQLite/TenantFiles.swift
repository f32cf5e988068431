import Foundation
public import SwitchboardCore

/// Where each tenant's data lives, beside the catalog (the database named at start-up, which
/// also holds the `default` tenant's data): `<catalog folder>/tenants/<id>.sqlite`, one SQLite
/// database per tenant with the store's schema; in memory when the catalog is.
///
/// A file per tenant gives each tenant its own writer (tenants commit in parallel), lets a
/// sleeping tenant hold no connection, and makes deleting a tenant removing its file.
public struct TenantFiles: Sendable {
    /// The folder of tenant files; `nil`: in memory.
    public let folder: String?

    /// The tenant files beside the catalog at `catalog`.
    public init(beside catalog: SQLiteStore.Location) {
        switch catalog {
        case .file(let path):
            folder = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("tenants").path
        case .inMemory:
            folder = nil
        }
    }

    /// Where tenant `id` keeps its data (`default`'s is the catalog's, never asked here).
    public func location(of id: String) -> SQLiteStore.Location {
        guard let folder else { return .inMemory }
        return .file(Self.path(of: id, in: folder))
    }

    private static func path(of id: String, in folder: String) -> String {
        folder + "/" + id + ".sqlite"
    }

    /// Removes tenant `id`'s files (the database and its log); missing ones are fine.
    public func remove(_ id: String) throws(SwitchboardError) {
        guard let folder else { return }
        for suffix in ["", "-wal", "-shm"] {
            let path = Self.path(of: id, in: folder) + suffix
            do {
                if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            } catch {
                throw SwitchboardError(.unavailable, "cannot remove '\(path)': \(error)")
            }
        }
    }

    /// The ids of the tenants that have files (to find those of deleted tenants).
    public func tenantsWithFiles() -> [String] {
        guard let folder, let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        return names.filter { $0.hasSuffix(".sqlite") }.map { String($0.dropLast(".sqlite".count)) }.sorted()
    }
}
