import ArgumentParser
import SwitchboardClient

/// `desk ...`: AgentService's calls an agent desk makes for its agent.
struct DeskCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "desk", abstract: "Act as an agent desk on behalf of an agent.",
        subcommands: [Accept.self, Send.self, Close.self, Transfer.self, Invite.self, Sessions.self]
    )

    struct Accept: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Accept an offered session (manual mode).", discussion: "Example: switchboard-cli desk accept alice s-01jf...")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The agent.") var agent: String
        @Argument(help: "The session.") var session: String

        func run() async throws {
            try await global.run { client in
                Output.print(try await client.agents.acceptSession(AgentSessionRequest(agentID: agent, sessionID: session)), format: global.output)
            }
        }
    }

    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send a message as the agent.", discussion: "Example: switchboard-cli desk send alice s-01jf... \"Hello, how can I help?\"")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The agent.") var agent: String
        @Argument(help: "The session.") var session: String
        @Argument(help: "The text.") var text: String

        func run() async throws {
            try await global.run { client in
                Output.print(try await client.agents.sendAgentMessage(SendAgentMessageRequest(agentID: agent, sessionID: session, text: text)), format: global.output)
            }
        }
    }

    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close a session as the agent.", discussion: "Example: switchboard-cli desk close alice s-01jf...")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The agent.") var agent: String
        @Argument(help: "The session.") var session: String

        func run() async throws {
            try await global.run { client in
                Output.print(try await client.agents.closeSession(AgentSessionRequest(agentID: agent, sessionID: session)), format: global.output)
            }
        }
    }

    struct Transfer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Transfer a session to an agent or a group.", discussion: "Example: switchboard-cli desk transfer alice s-01jf... --to-group billing")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The agent.") var agent: String
        @Argument(help: "The session.") var session: String
        @Option(help: "Another agent.") var toAgent: String?
        @Option(help: "A group.") var toGroup: String?

        func validate() throws {
            guard (toAgent == nil) != (toGroup == nil) else { throw ValidationError("give exactly one of --to-agent and --to-group") }
        }

        func run() async throws {
            let target: TransferSessionRequest.Target = toAgent.map { .toAgentID($0) } ?? .toGroupID(toGroup!)
            try await global.run { client in
                Output.print(try await client.agents.transferSession(TransferSessionRequest(agentID: agent, sessionID: session, target: target)), format: global.output)
            }
        }
    }

    struct Invite: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Invite the user to rate.", discussion: "Example: switchboard-cli desk invite alice s-01jf...")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The agent.") var agent: String
        @Argument(help: "The session.") var session: String

        func run() async throws {
            try await global.run { client in
                Output.print(try await client.agents.inviteRating(AgentSessionRequest(agentID: agent, sessionID: session)), format: global.output)
            }
        }
    }

    struct Sessions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the agent's open sessions.", discussion: "Example: switchboard-cli desk sessions alice")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The agent.") var agent: String

        func run() async throws {
            try await global.run { client in
                var sessions: [Session] = []
                for try await session in client.agents.allAgentSessions(agentID: agent) { sessions.append(session) }
                let list = ListAgentSessionsResponse(sessions: sessions)  // every page
                Output.print(list: list.sessions, response: list, columns: ["id", "userId", "state", "groupId"], format: global.output)
            }
        }
    }
}
