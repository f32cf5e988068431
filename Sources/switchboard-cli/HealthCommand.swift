import ArgumentParser
import SwitchboardClient

/// `health`: the server's Health/Check.
struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check the server.", discussion: "Example: switchboard-cli health")
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await global.run { client in
            Output.print(try await client.health.check(HealthCheckRequest()), format: global.output)
        }
    }
}
