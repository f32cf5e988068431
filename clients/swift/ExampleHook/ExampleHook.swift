import ArgumentParser
import Logging
import ServiceLifecycle
import Foundation
import SwitchboardClient

/// An example business server: users with attribute `tier=vip` go to group `vip`, users with
/// `blocked=true` are refused with a message, everyone else is allocated automatically.
@main
struct ExampleHook: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard-example-hook",
        abstract: "An example AllocationHook for Switchboard's business-server policy."
    )

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks one.")
    var port = 7500

    @Option(help: "Require 'authorization: Bearer <token>' on every call (give the server the same --hook-token).")
    var token: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    func run() async throws {
        var configured = Logger(label: "example-hook")
        configured.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let logger = configured
        let hook = AllocationHookServer(host: host, port: port, token: token, logger: logger) { request in
            logger.info("allocate", metadata: ["session": "\(request.sessionID)", "attributes": "\(request.attributes)"])
            if request.attributes["blocked"] == "true" {
                return .reject("Sorry, chat is not available for your account. Please call us.")
            }
            return request.attributes["tier"] == "vip" ? .group("vip") : .automatic
        }
        Task {
            // Tell whoever started us where we listen (useful with --port 0).
            if let address = try? await hook.server.listeningAddress, let port = address.port {
                FileHandle.standardOutput.write(Data("READY \(host):\(port)\n".utf8))
            }
        }
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: hook.server)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await group.run()
    }
}
