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
            Without a subcommand, serves (see `switchboard-server serve --help`). `copy-data` copies \
            every tenant between databases (SQLite, PostgreSQL). `keys` manages \
            the API keys in the database, also while the server runs.
            """,
        version: SwitchboardServer.version,
        subcommands: [ServeCommand.self, KeysCommand.self, CopyDataCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve (the default subcommand).",
        discussion: """
            Every option can also be set by an environment variable, named in its help.
            Stop the server with SIGTERM or SIGINT: it stops accepting, lets calls in flight \
            finish within the grace period, then exits.

            Authentication: once an API key exists in the database (`switchboard-server keys \
            create`), every call but Health needs `authorization: Bearer <key>`. Without keys \
            the server listens on loopback addresses only, unless --allow-unauthenticated.
            """
    )

    @Option(help: "Address to listen on (SWITCHBOARD_HOST).")
    var host: String = env("SWITCHBOARD_HOST") ?? "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free one (SWITCHBOARD_PORT).")
    var port: Int = env("SWITCHBOARD_PORT").flatMap(Int.init) ?? 7420

    @Option(help: "Largest frame accepted, in bytes (SWITCHBOARD_MAX_FRAME_BYTES).")
    var maxFrameBytes: Int = env("SWITCHBOARD_MAX_FRAME_BYTES").flatMap(Int.init) ?? (4 << 20)

    @Option(help: "Seconds calls in flight may take to finish on shutdown (SWITCHBOARD_GRACE_SECONDS).")
    var graceSeconds: Double = env("SWITCHBOARD_GRACE_SECONDS").flatMap(Double.init) ?? 10

    @OptionGroup var storage: DatabaseOptions

    @Option(help: "trace, debug, info, notice, warning, error or critical (SWITCHBOARD_LOG_LEVEL).")
    var logLevel: String = env("SWITCHBOARD_LOG_LEVEL") ?? "info"

    @Option(help: "Connections open at once; more are closed as they are accepted (SWITCHBOARD_MAX_CONNECTIONS).")
    var maxConnections: Int = env("SWITCHBOARD_MAX_CONNECTIONS").flatMap(Int.init) ?? 4096

    @Option(help: "Calls in flight on one connection; more get RESOURCE_EXHAUSTED (SWITCHBOARD_MAX_CALLS_PER_CONNECTION).")
    var maxCallsPerConnection: Int = env("SWITCHBOARD_MAX_CALLS_PER_CONNECTION").flatMap(Int.init) ?? 4096

    @Option(help: "Event streams (WatchSession, WatchAgent, Health/Watch) open at once; more get RESOURCE_EXHAUSTED (SWITCHBOARD_MAX_WATCHERS).")
    var maxWatchers: Int = env("SWITCHBOARD_MAX_WATCHERS").flatMap(Int.init) ?? 10_000

    @Option(help: "Seconds a connection with no call in flight may stay silent before it is closed (SWITCHBOARD_IDLE_TIMEOUT_SECONDS).")
    var idleTimeoutSeconds: Double = env("SWITCHBOARD_IDLE_TIMEOUT_SECONDS").flatMap(Double.init) ?? 300

    @Option(help: "Seconds a frame may take to arrive whole after its first byte before the connection is closed (SWITCHBOARD_FRAME_TIMEOUT_SECONDS).")
    var frameTimeoutSeconds: Double = env("SWITCHBOARD_FRAME_TIMEOUT_SECONDS").flatMap(Double.init) ?? 10

    @Flag(help: "Listen on a non-loopback address even though no API key exists, letting anyone call (SWITCHBOARD_ALLOW_UNAUTHENTICATED=1).")
    var allowUnauthenticated: Bool = env("SWITCHBOARD_ALLOW_UNAUTHENTICATED") == "1"

    @Option(help: "A token sent as 'authorization: Bearer <token>' with every call to the allocation hook (SWITCHBOARD_HOOK_TOKEN).")
    var hookToken: String? = env("SWITCHBOARD_HOOK_TOKEN")

    @Option(help: "Seconds a tenant other than 'default' stays awake with no call and no watcher before its routing core sleeps (SWITCHBOARD_TENANT_IDLE_SECONDS).")
    var tenantIdleSeconds: Int = env("SWITCHBOARD_TENANT_IDLE_SECONDS").flatMap(Int.init) ?? 300

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
        for (name, value) in [("--max-connections", maxConnections), ("--max-calls-per-connection", maxCallsPerConnection), ("--max-watchers", maxWatchers)] {
            guard (1...1_000_000).contains(value) else {
                throw ValidationError("\(name) must be between 1 and 1000000, got \(value)")
            }
        }
        guard (1...86_400).contains(tenantIdleSeconds) else {
            throw ValidationError("--tenant-idle-seconds must be between 1 and 86400, got \(tenantIdleSeconds)")
        }
        guard idleTimeoutSeconds >= 1, idleTimeoutSeconds <= 86_400 else {
            throw ValidationError("--idle-timeout-seconds must be between 1 and 86400, got \(idleTimeoutSeconds)")
        }
        guard frameTimeoutSeconds >= 0.1, frameTimeoutSeconds <= 3600 else {
            throw ValidationError("--frame-timeout-seconds must be between 0.1 and 3600, got \(frameTimeoutSeconds)")
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
    }

    func run() async throws {
        var logger = Logger(label: "switchboard")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let backend: any StoreBackend
        do {
            backend = try await storage.open(logger: logger)
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(2)
        }
        let store = backend.catalog
        let tenants: TenantRegistry
        do {
            let hookToken = self.hookToken
            let hookLogger = logger
            tenants = try await TenantRegistry(
                backend: backend,
                hook: { tenant in NetworkAllocationHook(token: hookToken, logger: hookLogger.with(tenant: tenant)) },
                idleAfter: .seconds(tenantIdleSeconds), logger: logger
            )
        } catch {
            logger.critical("cannot start: \(storage.describe(error, description: backend.description))")
            await backend.shutdown()
            throw ExitCode(2)
        }
        logger.info("database ready", metadata: ["database": "\(backend.description)"])
        let keys: APIKeyRing
        do {
            keys = APIKeyRing(try await store.apiKeys())
        } catch {
            logger.critical("cannot start: cannot read the API keys: \(error)")
            await backend.shutdown()
            throw ExitCode(2)
        }
        if !keys.isRequired {
            if !Self.isLoopback(host) && !allowUnauthenticated {
                logger.critical(
                    "refusing to listen on \(host) without API keys: anyone could call; create a key with 'switchboard-server keys create --role admin' with the same database options, or pass --allow-unauthenticated"
                )
                throw ExitCode(2)
            }
            logger.warning("no API keys: every call is allowed", metadata: ["host": "\(host)"])
        }
        let server = SwitchboardServer.makeServer(
            configuration: .init(
                host: host, port: port, maximumDataLength: maxFrameBytes,
                shutdownGracePeriod: .seconds(graceSeconds),
                maximumConnections: maxConnections, maximumCallsPerConnection: maxCallsPerConnection,
                maximumStreams: maxWatchers, idleTimeout: .seconds(idleTimeoutSeconds),
                frameTimeout: .seconds(frameTimeoutSeconds)
            ),
            tenants: tenants,
            logger: logger,
            keys: keys
        )
        let group = ServiceGroup(
            configuration: .init(
                // The RPC server last: it stops first and drains while the others still run.
                services: SwitchboardServer.services(server: server, tenants: tenants, keys: keys, logger: logger),
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
        await backend.shutdown()
    }

    /// Whether `host` names only this machine.
    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }
}

/// The database file in the data folder `dataDir`.
func databasePath(dataDir: String) -> String {
    dataDir.hasSuffix("/") ? dataDir + "switchboard.sqlite" : dataDir + "/switchboard.sqlite"
}

func env(_ name: String) -> String? {
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
