import ArgumentParser
import Logging
import ServiceLifecycle
import SwitchboardRPC
import SwitchboardServer
import SwitchboardStore

@main
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard-server",
        abstract: "Routes customer-service chat sessions to human agents, over ttrpc.",
        discussion: """
            Every option can also be set by an environment variable, named in its help.
            Stop the server with SIGTERM or SIGINT: it stops accepting, lets calls in flight \
            finish within the grace period, then exits.
            """,
        version: SwitchboardServer.version
    )

    @Option(help: "Address to listen on (SWITCHBOARD_HOST).")
    var host: String = env("SWITCHBOARD_HOST") ?? "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free one (SWITCHBOARD_PORT).")
    var port: Int = env("SWITCHBOARD_PORT").flatMap(Int.init) ?? 7420

    @Option(help: "Largest frame accepted, in bytes (SWITCHBOARD_MAX_FRAME_BYTES).")
    var maxFrameBytes: Int = env("SWITCHBOARD_MAX_FRAME_BYTES").flatMap(Int.init) ?? (4 << 20)

    @Option(help: "Seconds calls in flight may take to finish on shutdown (SWITCHBOARD_GRACE_SECONDS).")
    var graceSeconds: Double = env("SWITCHBOARD_GRACE_SECONDS").flatMap(Double.init) ?? 10

    @Option(help: "Folder of the database, switchboard.sqlite (SWITCHBOARD_DATA_DIR).")
    var dataDir: String = env("SWITCHBOARD_DATA_DIR") ?? "./data"

    @Option(help: "trace, debug, info, notice, warning, error or critical (SWITCHBOARD_LOG_LEVEL).")
    var logLevel: String = env("SWITCHBOARD_LOG_LEVEL") ?? "info"

    func validate() throws {
        guard (0...65535).contains(port) else {
            throw ValidationError("--port must be between 0 and 65535, got \(port)")
        }
        guard (1...0x00FF_FFFF).contains(maxFrameBytes) else {
            throw ValidationError("--max-frame-bytes must be between 1 and 16777215, got \(maxFrameBytes)")
        }
        guard graceSeconds >= 0, graceSeconds <= 3600 else {
            throw ValidationError("--grace-seconds must be between 0 and 3600, got \(graceSeconds)")
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
    }

    func run() async throws {
        var logger = Logger(label: "switchboard")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let databasePath = dataDir.hasSuffix("/") ? dataDir + "switchboard.sqlite" : dataDir + "/switchboard.sqlite"
        let store: SwitchboardStore
        let engine: SwitchboardEngine
        do {
            store = try SwitchboardStore(location: .file(databasePath))
            engine = try await SwitchboardEngine(store: store, hook: NetworkAllocationHook(logger: logger), logger: logger)
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(2)
        }
        logger.info("database ready", metadata: ["path": "\(databasePath)"])
        let server = SwitchboardServer.makeServer(
            configuration: .init(
                host: host, port: port, maximumDataLength: maxFrameBytes,
                shutdownGracePeriod: .milliseconds(Int64(graceSeconds * 1000))
            ),
            engine: engine,
            store: store,
            logger: logger
        )
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: server), .init(service: TimerDriver(engine: engine))],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
        store.close()
    }
}

private func env(_ name: String) -> String? {
    #if canImport(Glibc)
    guard let value = getenv(name) else { return nil }
    return String(cString: value)
    #else
    return nil
    #endif
}

#if canImport(Glibc)
import Glibc
#endif
