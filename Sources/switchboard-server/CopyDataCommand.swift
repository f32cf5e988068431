import ArgumentParser
import Foundation
import Logging
import SwitchboardCore
import SwitchboardStore

/// `switchboard-server copy-data`: copies every tenant, with its keys and all its data, from one
/// store to another (SQLite to PostgreSQL, or back), and checks the counts.
struct CopyDataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy-data",
        abstract: "Copy every tenant, its API keys and all its data from one database to another, counts checked.",
        discussion: """
            Each database is a SQLite file or a postgres:// URL, as --database takes. The \\
            destination must hold no data yet (a new file, or a new PostgreSQL database: it is \\
            migrated first). Stop the servers using the source first: a copy of a database in use \\
            may miss what is written meanwhile.

            Examples:
              switchboard-server copy-data --from ./data/switchboard.sqlite --to postgres://switchboard@127.0.0.1:5432/switchboard
              switchboard-server copy-data --from postgres://switchboard@db:5432/switchboard --to ./backup/switchboard.sqlite
            """
    )

    @Option(help: "The database to copy from: a SQLite file or a postgres:// URL.")
    var from: String

    @Option(help: "The database to copy to: a SQLite file or a postgres:// URL, with no data yet.")
    var to: String

    @Option(help: "Rows read and written per transaction.")
    var pageSize: Int = 1000

    func validate() throws {
        guard (1...100_000).contains(pageSize) else { throw ValidationError("--page-size must be between 1 and 100000, got \(pageSize)") }
        for (name, value) in [("--from", from), ("--to", to)] {
            do { _ = try StoreLocation(parsing: value) } catch { throw ValidationError("\(name): \(error.message)") }
        }
        guard from != to else { throw ValidationError("--from and --to name the same database") }
    }

    func run() async throws {
        let logger = Logger(label: "switchboard.copy-data", factory: { _ in SwiftLogNoOpLogHandler() })
        let source = try await Self.open(from, as: "--from", logger: logger)
        let destination: any StoreBackend
        do {
            destination = try await Self.open(to, as: "--to", logger: logger)
        } catch {
            await source.shutdown()
            throw error
        }
        do {
            try await copy(from: source, to: destination)
        } catch {
            await source.shutdown()
            await destination.shutdown()
            throw error
        }
        await source.shutdown()
        await destination.shutdown()
    }

    private static func open(_ text: String, as option: String, logger: Logger) async throws -> any StoreBackend {
        do {
            return try await StoreLocation(parsing: text).openBackend(logger: logger)
        } catch {
            throw CopyError("\(option): \(error.message)")
        }
    }

    private func copy(from source: any StoreBackend, to destination: any StoreBackend) async throws {
        let tenants = try await source.catalog.tenants()
        let keys = try await source.catalog.apiKeys()
        // Nothing to overwrite: the destination has no keys, no tenant but `default`, no data.
        let existing = try await destination.catalog.tenants()
        guard try await destination.catalog.apiKeys().isEmpty, existing.map(\.id) == [TenantRules.defaultID],
              try await destination.catalog.counts() == StoreCounts(), try await destination.tenantsWithData().isEmpty else {
            throw CopyError("--to: \(destination.description) already holds data; copy into a new database")
        }
        print("copying \(tenants.count) tenants and \(keys.count) API keys from \(source.description) to \(destination.description)")
        for tenant in tenants {
            if tenant.id == TenantRules.defaultID {
                try await destination.catalog.updateTenant(tenant)
            } else {
                try await destination.catalog.insertTenant(tenant)
            }
        }
        for key in keys { try await destination.catalog.insertAPIKey(key) }
        var failures: [String] = []
        for tenant in tenants {
            let from = try await source.open(tenant: tenant.id)
            let to = try await destination.open(tenant: tenant.id)
            try await from.export(pageSize: pageSize) { writes throws(SwitchboardError) in
                try await to.enqueue(writes, checked: true).committed()
            }
            let (expected, copied) = (try await from.counts(), try await to.counts())
            if tenant.id != TenantRules.defaultID {
                from.close()
                to.close()
            }
            if expected == copied {
                print("  \(tenant.id): \(copied)")
            } else {
                print("  \(tenant.id): MISMATCH: \(expected) in the source, \(copied) copied")
                failures.append(tenant.id)
            }
        }
        let copiedKeys = try await destination.catalog.apiKeys().count
        guard copiedKeys == keys.count else {
            throw CopyError("\(keys.count) API keys in the source, \(copiedKeys) copied")
        }
        guard failures.isEmpty else {
            throw CopyError("the counts of \(failures.joined(separator: ", ")) differ after the copy")
        }
        print("done: every count matches")
    }
}

struct CopyError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
