import ArgumentParser
import SwitchboardClient

/// `agent ...`: AgentService's agent calls.
struct AgentCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent", abstract: "Manage agents.",
        subcommands: [Create.self, Get.self, List.self, Update.self, Delete.self, Status.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an agent (OFFLINE).", discussion: "Example: switchboard-cli agent create alice --name \"Alice Smith\" --max-sessions 3")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The agent's id.") var id: String
        @Option(help: "The display name.") var name: String
        @Option(help: "The agent's own session limit (1..1000).") var maxSessions: UInt32?

        func run() async throws {
            try await global.run { client in
                Output.print(try await client.agents.createAgent(CreateAgentRequest(id: id, displayName: name, maxSessions: maxSessions)), format: global.output)
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an agent.", discussion: "Example: switchboard-cli agent get alice")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The agent's id.") var id: String

        func run() async throws {
            try await global.run { client in
                Output.print(try await client.agents.getAgent(GetAgentRequest(id: id)), format: global.output)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List agents, a page at a time.", discussion: "Example: switchboard-cli agent list --page-size 50")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Agents per page (1..1000).") var pageSize: UInt32 = 100
        @Option(help: "The next-page token of a previous page.") var pageToken = ""

        func run() async throws {
            try await global.run { client in
                let page = try await client.agents.listAgents(ListAgentsRequest(pageSize: pageSize, pageToken: pageToken))
                Output.print(list: page.agents, response: page, columns: ["id", "displayName", "status", "maxSessions", "groupIds"], format: global.output)
                if global.output == .table && !page.nextPageToken.isEmpty { print("next page: --page-token \(page.nextPageToken)") }
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change an agent's name or limit.", discussion: "Example: switchboard-cli agent update alice --max-sessions 0   (0 drops the agent's own limit)")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The agent's id.") var id: String
        @Option(help: "A new display name.") var name: String?
        @Option(help: "A new limit (1..1000), or 0 to use the settings' default.") var maxSessions: UInt32?

        func validate() throws {
            guard name != nil || maxSessions != nil else { throw ValidationError("give --name or --max-sessions") }
        }

        func run() async throws {
            try await global.run { client in
                Output.print(try await client.agents.updateAgent(UpdateAgentRequest(id: id, displayName: name, maxSessions: maxSessions)), format: global.output)
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an agent that serves no session.", discussion: "Example: switchboard-cli agent delete alice")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The agent's id.") var id: String

        func run() async throws {
            try await global.run { client in
                Output.print(try await client.agents.deleteAgent(DeleteAgentRequest(id: id)), format: global.output)
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set an agent's status.", discussion: "Example: switchboard-cli agent status alice online")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The agent's id.") var id: String
        @Argument(help: "offline, online or break.") var status: StatusName

        enum StatusName: String, ExpressibleByArgument, CaseIterable {
            case offline, online, `break`
        }

        func run() async throws {
            let value: AgentStatus = switch status {
            case .offline: .offline
            case .online: .online
            case .break: .break
            }
            try await global.run { client in
                Output.print(try await client.agents.setAgentStatus(SetAgentStatusRequest(id: id, status: value)), format: global.output)
            }
        }
    }
}
