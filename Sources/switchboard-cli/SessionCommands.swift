import ArgumentParser
import SwitchboardClient

/// `session ...`: SessionService, the user gateway's calls.
struct SessionCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "session", abstract: "Act as the user gateway: sessions, user messages, ratings.",
        subcommands: [Create.self, Get.self, Send.self, RequestAgent.self, Messages.self, Position.self, Close.self, Rate.self, Groups.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a session (welcome message sent).", discussion: "Example: switchboard-cli session create user-42 --attribute tier=vip --channel web")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The user's id.") var user: String
        @Option(name: .customLong("attribute"), help: "key=value, repeatable.") var attributes: [String] = []
        @Option(help: "The channel, e.g. web.") var channel = ""

        func validate() throws {
            for attribute in attributes where !attribute.contains("=") {
                throw ValidationError("--attribute takes key=value, got '\(attribute)'")
            }
        }

        func run() async throws {
            var map: [String: String] = [:]
            for attribute in attributes {
                let parts = attribute.split(separator: "=", maxSplits: 1)
                map[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
            }
            try await global.run { client in
                Output.print(try await client.sessions.createSession(CreateSessionRequest(userID: user, attributes: map, channel: channel)), format: global.output)
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a session.", discussion: "Example: switchboard-cli session get s-01jf...")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The session's id.") var session: String

        func run() async throws {
            try await global.run { client in
                Output.print(try await client.sessions.getSession(GetSessionRequest(sessionID: session)), format: global.output)
            }
        }
    }

    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send a message as the user.", discussion: "Example: switchboard-cli session send s-01jf... \"My order is late\"")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The session's id.") var session: String
        @Argument(help: "The text.") var text: String

        func run() async throws {
            try await global.run { client in
                Output.print(try await client.sessions.sendUserMessage(SendUserMessageRequest(sessionID: session, text: text)), format: global.output)
            }
        }
    }

    struct RequestAgent: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "request-agent", abstract: "Ask for a human agent.", discussion: "Example: switchboard-cli session request-agent s-01jf... --group billing")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The session's id.") var session: String
        @Option(help: "The group the user chose.") var group = ""

        func run() async throws {
            try await global.run { client in
                Output.print(try await client.sessions.requestAgent(RequestAgentRequest(sessionID: session, groupID: group)), format: global.output)
            }
        }
    }

    struct Messages: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the transcript.", discussion: "Example: switchboard-cli session messages s-01jf... --after 3")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The session's id.") var session: String
        @Option(help: "Only messages after this sequence number.") var after: Int64 = 0
        @Option(help: "At most this many (1..1000).") var limit: UInt32 = 100

        func run() async throws {
            try await global.run { client in
                let page = try await client.sessions.listMessages(ListMessagesRequest(sessionID: session, afterSequence: after, limit: limit))
                Output.print(list: page.messages, response: page, columns: ["sequence", "sender", "agentId", "text"], format: global.output)
            }
        }
    }

    struct Position: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the place in the queue.", discussion: "Example: switchboard-cli session position s-01jf...")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The session's id.") var session: String

        func run() async throws {
            try await global.run { client in
                Output.print(try await client.sessions.getQueuePosition(GetQueuePositionRequest(sessionID: session)), format: global.output)
            }
        }
    }

    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close the session as the user.", discussion: "Example: switchboard-cli session close s-01jf...")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The session's id.") var session: String

        func run() async throws {
            try await global.run { client in
                Output.print(try await client.sessions.closeSession(CloseSessionRequest(sessionID: session)), format: global.output)
            }
        }
    }

    struct Rate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rate the session (1..5).", discussion: "Example: switchboard-cli session rate s-01jf... 5 --comment \"quick and kind\"")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The session's id.") var session: String
        @Argument(help: "1 (worst) to 5 (best).") var score: UInt32
        @Option(help: "A comment.") var comment = ""

        func run() async throws {
            try await global.run { client in
                Output.print(try await client.sessions.submitRating(SubmitRatingRequest(sessionID: session, score: score, comment: comment)), format: global.output)
            }
        }
    }

    struct Groups: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the user's group menu.", discussion: "Example: switchboard-cli session groups")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await global.run { client in
                var groups: [SessionGroup] = []
                for try await group in client.sessions.allGroups() { groups.append(group) }
                let menu = ListSessionGroupsResponse(groups: groups)  // every page
                Output.print(list: menu.groups, response: menu, columns: ["id", "name", "available"], format: global.output)
            }
        }
    }
}
