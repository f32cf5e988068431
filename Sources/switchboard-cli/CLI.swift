import ArgumentParser
import Foundation
import SwitchboardClient

@main
struct SwitchboardCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard-cli",
        abstract: "Call a Switchboard server: settings, agents, groups, sessions, agent desks, watch streams, tenants.",
        discussion: """
            Every RPC of Switchboard's services is a subcommand. Output is a readable table by
            default, or stable JSON (protobuf's JSON mapping) with --output json.

            Every call acts in one tenant: the one --tenant names (SWITCHBOARD_TENANT), else the \
            API key's, else 'default'. `tenant ...` manages the tenants themselves (operator keys).

            Exit codes: 0 success; 64 bad usage; 100 + the gRPC status code when the server (or the
            connection) answers an error, e.g. 105 NOT_FOUND, 114 UNAVAILABLE.
            """,
        version: "0.1.0",
        subcommands: [
            Health.self, AgentCommands.self, GroupCommands.self, SessionCommands.self, DeskCommands.self, WatchCommands.self,
            SettingsCommands.self, TenantCommands.self,
        ]
    )
}

/// Options every subcommand takes.
struct GlobalOptions: ParsableArguments {
    @Option(help: "The server, host:port (SWITCHBOARD_SERVER; default 127.0.0.1:7420).")
    var server: String = ProcessInfo.processInfo.environment["SWITCHBOARD_SERVER"] ?? "127.0.0.1:7420"

    @Option(help: "An API key, sent as 'authorization: Bearer <key>' (SWITCHBOARD_TOKEN).")
    var token: String = ProcessInfo.processInfo.environment["SWITCHBOARD_TOKEN"] ?? ""

    @Option(help: "The tenant calls act in, sent as 'switchboard-tenant: <id>' (SWITCHBOARD_TENANT; default: the API key's, else 'default').")
    var tenant: String = ProcessInfo.processInfo.environment["SWITCHBOARD_TENANT"] ?? ""

    @Option(help: "Seconds a call may take.")
    var timeout: Double = 10

    @Option(help: "table or json.")
    var output: OutputFormat = .table

    func validate() throws {
        do throws(HostAndPort.ParseError) {
            _ = try target()
        } catch {
            throw ValidationError(error.description)
        }
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be between 0 and 3600 seconds") }
        guard tenant.isEmpty || SwitchboardClient.isValidTenantID(tenant) else {
            throw ValidationError(
                "--tenant must be a tenant id (1 to 63 lowercase ASCII letters, digits and '-', starting with a letter or a digit), got '\(tenant)'"
            )
        }
    }

    /// The server `--server` names.
    func target() throws(HostAndPort.ParseError) -> HostAndPort {
        try HostAndPort(parsing: server, field: "--server")
    }

    /// A client with the options' token and, for calls that act in a tenant, `--tenant`.
    func client(streaming: Bool = false, inTenant: Bool = true) throws -> SwitchboardClient {
        SwitchboardClient(
            target: try target(),
            token: token.isEmpty ? nil : token,
            tenant: inTenant && !tenant.isEmpty ? tenant : nil,
            configuration: .init(defaultTimeout: streaming ? nil : .milliseconds(Int64(timeout * 1000)))
        )
    }

    /// Runs `body` with a client, printing an RPC error and exiting with 100 + its code.
    ///
    /// `inTenant: false` leaves `--tenant` out, for the calls that act in no tenant (TenantService).
    func run(streaming: Bool = false, inTenant: Bool = true, _ body: (SwitchboardClient) async throws -> Void) async throws {
        let client = try client(streaming: streaming, inTenant: inTenant)
        defer { Task { await client.close() } }
        do {
            try await body(client)
        } catch let error as RPCError {
            FileHandle.standardError.write(Data("error: \(Self.describe(error))\n".utf8))
            throw ExitCode(Int32(100 + error.code.rawValue))
        }
    }

    /// `CODE: message`; for a server that cannot be reached, also what to check.
    static func describe(_ error: RPCError) -> String {
        guard let failure = error.cause as? ConnectionFailure else { return "\(error.code): \(error.message)" }
        return """
            \(error.code): cannot connect to Switchboard at \(failure.target): \(failure.reason). \
            Is the server running there? Start it with scripts/serve, or pass --server HOST:PORT.
            """
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
}
