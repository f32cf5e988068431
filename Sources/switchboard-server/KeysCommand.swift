import ArgumentParser
import Foundation
import Logging
import SwitchboardCore
import SwitchboardServer
import SwitchboardStore

/// `switchboard-server keys`: API keys, managed on the database directly (no server needed; a
/// running server picks changes up within seconds).
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Create, list and revoke API keys (on the database; also while the server runs).",
        discussion: """
            Roles: admin (every method of its tenant), gateway (SessionService, any session of \\
            its tenant), agent (the AgentService calls of one agent, named with --agent), \\
            operator (TenantService, and an admin's calls in any tenant, named per call in \\
            metadata 'switchboard-tenant'). Every key but an operator's belongs to one tenant \\
            (--tenant, default 'default'). Keys are stored hashed: the key is printed once, when \\
            created. Once any key exists, every call but Health needs one.

            Examples:
              switchboard-server keys create --role operator --description "operators"
              switchboard-server keys create --role admin --tenant acme
              switchboard-server keys create --role agent --agent alice
              switchboard-server keys list
              switchboard-server keys revoke 3f9a0c12d4e5
            """,
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Location: ParsableArguments {
        @OptionGroup var storage: DatabaseOptions

        /// Runs `body` on the catalog, closed afterwards.
        func withStore<T>(_ body: (any SwitchboardStore) async throws -> T) async throws -> T {
            let backend: any StoreBackend
            do {
                backend = try await storage.open(logger: Logger(label: "switchboard.keys", factory: { _ in SwiftLogNoOpLogHandler() }))
            } catch {
                throw KeysError("\(error)")
            }
            do {
                let value = try await body(backend.catalog)
                await backend.shutdown()
                return value
            } catch {
                await backend.shutdown()
                throw error
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a key and print it (once: only its hash is stored).",
            discussion: "Example: switchboard-server keys create --role gateway --description \"web gateway\""
        )
        @OptionGroup var location: Location
        @Option(help: "admin, gateway, agent or operator.") var role: String
        @Option(help: "The agent an agent key acts for (required with --role agent).") var agent: String?
        @Option(help: "The tenant the key belongs to (not with --role operator).") var tenant: String?
        @Option(help: "A note for operators (at most 200 characters).") var description: String = ""

        func validate() throws {
            guard let role = APIRole(rawValue: role) else {
                throw ValidationError("--role must be admin, gateway, agent or operator, got '\(role)'")
            }
            if let tenant {
                guard role != .operator else { throw ValidationError("--tenant does not go with --role operator: operators act in any tenant") }
                do { try TenantRules.validateID(tenant, field: "tenant") } catch { throw ValidationError("--tenant: \(error.message)") }
            }
            if role == .agent {
                guard let agent else { throw ValidationError("--agent is required with --role agent") }
                do { try AgentRules.validateID(agent, field: "agent") } catch { throw ValidationError("--agent: \(error.message)") }
            } else if agent != nil {
                throw ValidationError("--agent goes only with --role agent")
            }
            do { try TextLimits.keyDescription.check(description, field: "description") } catch {
                throw ValidationError("--description: \(error.message)")
            }
        }

        func run() async throws {
            let role = APIRole(rawValue: role)!
            let tenant = role == .operator ? nil : (self.tenant ?? TenantRules.defaultID)
            let (token, record) = APIKeys.make(
                role: role, agentID: agent, description: description, now: SystemWallClock().now(), tenantID: tenant
            )
            try await location.withStore { store in
                if let tenant, try await !store.tenants().contains(where: { $0.id == tenant }) {
                    throw KeysError("tenant '\(tenant)' does not exist (create it with 'switchboard-cli tenant create \(tenant)')")
                }
                try await store.insertAPIKey(record)
            }
            print(token.text)
            let whose = tenant.map { ", tenant \($0)" } ?? ", every tenant"
            FileHandle.standardError.write(Data("""
                created key '\(record.id)' (role \(role.rawValue)\(agent.map { ", agent \($0)" } ?? "")\(whose)): keep it secret, it is not shown again

                """.utf8))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the keys (never their secrets).")
        @OptionGroup var location: Location

        func run() async throws {
            let keys = try await location.withStore { try await $0.apiKeys() }
            print("ID            ROLE     TENANT           AGENT            CREATED                   REVOKED                   DESCRIPTION")
            for key in keys {
                let columns = [
                    key.id.padding(12), key.role.rawValue.padding(8), (key.tenantID ?? "*").padding(16), (key.agentID ?? "-").padding(16),
                    iso(key.createdAt).padding(25), (key.revokedAt.map(iso) ?? "-").padding(25), key.description,
                ]
                print(columns.joined(separator: " "))
            }
        }

        func iso(_ time: Timestamp) -> String {
            Date(timeIntervalSince1970: Double(time.milliseconds) / 1000).ISO8601Format()
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a key: calls with it fail with UNAUTHENTICATED (within seconds on a running server).",
            discussion: "Example: switchboard-server keys revoke 3f9a0c12d4e5"
        )
        @OptionGroup var location: Location
        @Argument(help: "The key's id (the 12 hex digits after 'sbk_').") var id: String

        func run() async throws {
            try await location.withStore { try await $0.revokeAPIKey(id: id) }
            print("revoked key '\(id)'")
        }
    }
}

struct KeysError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
