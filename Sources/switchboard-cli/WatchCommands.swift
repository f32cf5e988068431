import ArgumentParser
import SwitchboardClient

/// `watch ...`: the event streams.
struct WatchCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch", abstract: "Print events live until interrupted; resumes after a reconnect.",
        subcommands: [Session.self, Agent.self]
    )

    struct Session: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Watch a session's events.", discussion: "Example: switchboard-cli watch session s-01jf... --after 0")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The session's id.") var session: String
        @Option(help: "Events after this sequence number.") var after: Int64 = 0
        @Option(help: "Stop after this many events (default: run until interrupted).") var count: Int?

        func run() async throws {
            try await global.run(streaming: true) { client in
                try await Output.print(events: client.watchSession(session, after: after), count: count, format: global.output)
            }
        }
    }

    struct Agent: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Watch an agent's events.", discussion: "Example: switchboard-cli watch agent alice")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The agent's id.") var agent: String
        @Option(help: "Events after this sequence number.") var after: Int64 = 0
        @Option(help: "Stop after this many events (default: run until interrupted).") var count: Int?

        func run() async throws {
            try await global.run(streaming: true) { client in
                try await Output.print(events: client.watchAgent(agent, after: after), count: count, format: global.output)
            }
        }
    }
}
