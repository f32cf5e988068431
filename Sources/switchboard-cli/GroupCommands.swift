import ArgumentParser
import SwitchboardClient

/// `group ...`: AgentService's group calls.
struct GroupCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group", abstract: "Manage groups and their members.",
        subcommands: [Create.self, Rename.self, Delete.self, List.self, Add.self, Remove.self, Agents.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a group.", discussion: "Example: switchboard-cli group create billing --name Billing")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The group's id.") var id: String
        @Option(help: "The name users see.") var name: String

        func run() async throws {
            try await global.run { client in
                Output.print(try await client.agents.createGroup(CreateGroupRequest(id: id, name: name)), format: global.output)
            }
        }
    }

    struct Rename: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rename a group.", discussion: "Example: switchboard-cli group rename billing --name Payments")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The group's id.") var id: String
        @Option(help: "The new name.") var name: String

        func run() async throws {
            try await global.run { client in
                Output.print(try await client.agents.renameGroup(RenameGroupRequest(id: id, name: name)), format: global.output)
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a group; its agents stay.", discussion: "Example: switchboard-cli group delete billing")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The group's id.") var id: String

        func run() async throws {
            try await global.run { client in
                Output.print(try await client.agents.deleteGroup(DeleteGroupRequest(id: id)), format: global.output)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List groups.", discussion: "Example: switchboard-cli group list")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Groups per page (1..1000).") var pageSize: UInt32 = 100
        @Option(help: "The next-page token of a previous page.") var pageToken = ""

        func run() async throws {
            try await global.run { client in
                let page = try await client.agents.listGroups(ListGroupsRequest(pageSize: pageSize, pageToken: pageToken))
                Output.print(list: page.groups, response: page, columns: ["id", "name", "memberCount"], format: global.output)
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add an agent to a group.", discussion: "Example: switchboard-cli group add billing alice")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The group's id.") var group: String
        @Argument(help: "The agent's id.") var agent: String

        func run() async throws {
            try await global.run { client in
                Output.print(try await client.agents.addGroupMember(GroupMemberRequest(groupID: group, agentID: agent)), format: global.output)
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an agent from a group.", discussion: "Example: switchboard-cli group remove billing alice")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The group's id.") var group: String
        @Argument(help: "The agent's id.") var agent: String

        func run() async throws {
            try await global.run { client in
                Output.print(try await client.agents.removeGroupMember(GroupMemberRequest(groupID: group, agentID: agent)), format: global.output)
            }
        }
    }

    struct Agents: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a group's agents.", discussion: "Example: switchboard-cli group agents billing")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The group's id.") var group: String

        func run() async throws {
            try await global.run { client in
                var agents: [Agent] = []
                for try await agent in client.agents.allGroupAgents(groupID: group, pageSize: 1000) { agents.append(agent) }
                let list = ListAgentsResponse(agents: agents)  // every page
                Output.print(list: list.agents, response: list, columns: ["id", "displayName", "status"], format: global.output)
            }
        }
    }
}
