import ArgumentParser
import Foundation
import Histogram
import Logging
import NIOCore
import NIOPosix
import SwitchboardProto
import SwitchboardRPC
import SwitchboardServer
import SwitchboardStore
import SwitchboardServices
import SwitchboardTesting

@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard-bench",
        abstract: "Switchboard's benchmarks; each writes its figures to a Markdown file.",
        subcommands: [Run.self, GoClientBench.self, StoreBench.self, AgentStatusBench.self, LifecycleBench.self, RoutingBench.self, EventsBench.self, AuthBench.self, MemoryBench.self, TenantBench.self, StoresBench.self, Serve.self],
        defaultSubcommand: Run.self
    )
}

/// Serves the echo service with Switchboard's server, for `run` to measure in its own process.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the Swift echo server (used by run).")

    @Option(help: "Port; 0 picks one, printed as READY <address>.")
    var port = 0

    @Option(help: "Database: a SQLite file or a postgres:// URL; SQLite in memory when not given.")
    var database: String?

    @Option(help: "Seconds a tenant stays awake with nothing to do.")
    var idleSeconds = 300

    func run() async throws {
        var logger = Logger(label: "bench.server")
        logger.logLevel = .warning
        let location = try database.map { try StoreLocation(parsing: $0) } ?? .sqliteInMemory
        let backend = try await location.openBackend(logger: logger)
        let hookLogger = logger
        let tenants = try await TenantRegistry(
            backend: backend, hook: { _ in NetworkAllocationHook(logger: hookLogger) },
            idleAfter: .seconds(idleSeconds), logger: logger
        )
        let server = SwitchboardServer.makeServer(
            configuration: .init(host: "127.0.0.1", port: port), tenants: tenants, logger: logger,
            extraServices: [EchoService()]
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            group.addTask { try await TenantSweeper(registry: tenants).run() }
            let address = try await server.listeningAddress
            FileHandle.standardOutput.write(Data("READY 127.0.0.1:\(address.port!)\n".utf8))
            // Stop when the parent closes our standard input; a line `trim` gives the free heap
            // back to the system first (for the parent to read the memory really in use).
            while let line = readLine() {
                if line == "trim" {
                    _ = MallocTrim.call()
                    FileHandle.standardOutput.write(Data("TRIMMED \(MallocTrim.inUseBytes() ?? -1)\n".utf8))
                }
            }
            server.beginGracefulShutdown()
            group.cancelAll()
            try? await group.waitForAll()
        }
    }
}

/// glibc's `malloc_trim(0)` and `malloc_info` (not in Swift's Glibc module, found with dlsym): the
/// free memory of every malloc arena returned to the system, so that the resident size counts
/// what is in use, and the bytes malloc has handed out and not had back.
enum MallocTrim {
    private typealias Trim = @convention(c) (Int) -> Int32
    private typealias Info = @convention(c) (Int32, UnsafeMutablePointer<FILE>?) -> Int32

    /// Trims; false when this C library has no malloc_trim.
    static func call() -> Bool {
        guard let symbol = dlsym(nil, "malloc_trim") else { return false }
        _ = unsafeBitCast(symbol, to: Trim.self)(0)
        return true
    }

    /// Bytes in use: what the arenas hold from the system, less their free chunks, plus the
    /// chunks mapped on their own (the totals that end `malloc_info`'s XML).
    static func inUseBytes() -> Int? {
        guard let symbol = dlsym(nil, "malloc_info") else { return nil }
        var buffer: UnsafeMutablePointer<CChar>?
        var size = 0
        guard let file = open_memstream(&buffer, &size) else { return nil }
        let status = unsafeBitCast(symbol, to: Info.self)(0, file)
        fclose(file)
        guard let buffer else { return nil }
        let xml = String(cString: buffer)
        free(buffer)
        guard status == 0, let totals = xml.range(of: "</heap>", options: .backwards).map({ xml[$0.upperBound...] }) else { return nil }
        // <total type="fast" count="0" size="0"/> ... <system type="current" size="1216512"/>
        func figure(of element: String) -> Int? {
            guard let tag = totals.range(of: element), let start = totals[tag.upperBound...].range(of: " size=\"") else { return nil }
            return Int(totals[start.upperBound...].prefix { $0.isNumber })
        }
        guard let current = figure(of: "<system type=\"current\""), let fast = figure(of: "<total type=\"fast\""),
            let rest = figure(of: "<total type=\"rest\""), let mapped = figure(of: "<total type=\"mmap\"")
        else { return nil }
        return current - fast - rest + mapped
    }
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rpc",
        abstract: "ttrpc echo: Switchboard's RPC server against containerd's Go ttrpc server, and their ratio."
    )

    @Option(help: "Connections.")
    var connections = 1
    @Option(name: .customLong("in-flight"), help: "Calls in flight per connection, one or more values: 64,1.")
    var inFlight = "64,1"
    @Option(help: "Warm-up seconds before each measurement.")
    var warmup = 2.0
    @Option(help: "Measured seconds.")
    var duration = 5.0
    @Option(help: "Request payload bytes (echoed back).")
    var payload = 100
    @Option(help: "The Go ttrpc echo server binary; built from Benchmarks/go when not given.")
    var goServer: String?
    @Option(help: "Which servers to measure: swift,go.")
    var servers = "swift,go"
    @Option(help: "File the figures are written to (Markdown).")
    var output = ".build/benchmarks/rpc.md"

    func run() async throws {
        let inFlights = inFlight.split(separator: ",").compactMap { Int($0) }
        let names = servers.split(separator: ",").map(String.init)
        var results: [Result] = []
        for name in names {
            let server = try await ServerProcess.start(name: name, goBinary: goServer)
            defer { server.stop() }
            for depth in inFlights {
                let result = try await measure(server: server, inFlight: depth)
                print(result.line)
                results.append(result)
            }
        }
        let report = Report(results: results, connections: connections, payload: payload, duration: duration)
        print(report.summary)
        try FileManager.default.createDirectory(
            at: URL(fileURLWithPath: output).deletingLastPathComponent(), withIntermediateDirectories: true
        )
        try report.markdown.write(toFile: output, atomically: true, encoding: .utf8)
        print("written to \(output)")
    }

    func measure(server: ServerProcess, inFlight: Int) async throws -> Result {
        // One load-generator thread: the other core is the server's.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let request = TestingEchoRequest(payload: Array(repeating: 0x5A, count: payload), text: "bench")
        let envelope = Ttrpc_Request(
            service: TestingEchoService.name, method: "Echo", payload: try request.serializedBytes()
        )
        var template = ByteBuffer()
        let body = try envelope.serializedBytes()
        template.writeFrameHeader(FrameHeader(length: UInt32(body.count), streamID: 0, type: .request, flags: []))
        template.writeBytes(body)

        var handlers: [NIOLoopBound<LoadHandler>] = []
        var channels: [any Channel] = []
        for _ in 0..<connections {
            let channel = try await ClientBootstrap(group: group)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { [template] channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers(
                            ByteToMessageHandler(FrameDecoder(maximumDataLength: 16 << 20)),
                            LoadHandler(template: template, inFlight: inFlight)
                        )
                    }
                }
                .connect(host: server.host, port: server.port)
                .get()
            let handler = try await channel.eventLoop.submit {
                NIOLoopBound(try channel.pipeline.syncOperations.handler(type: LoadHandler.self), eventLoop: channel.eventLoop)
            }.get()
            channels.append(channel)
            handlers.append(handler)
        }
        for (channel, handler) in zip(channels, handlers) {
            try await channel.eventLoop.submit { handler.value.start() }.get()
        }
        try await Task.sleep(for: .seconds(warmup))
        for (channel, handler) in zip(channels, handlers) {
            try await channel.eventLoop.submit { handler.value.beginMeasuring() }.get()
        }
        let cpuStart = server.cpuSeconds()
        let selfStart = ProcessCPU.selfSeconds()
        let clock = ContinuousClock()
        let start = clock.now
        try await Task.sleep(for: .seconds(duration))
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        var completed = 0
        var errors = 0
        for (channel, handler) in zip(channels, handlers) {
            let (h, c, e) = try await channel.eventLoop.submit { handler.value.stop() }.get()
            histogram.add(h)
            completed += c
            errors += e
        }
        let elapsed = clock.now - start
        let cpu = server.cpuSeconds() - cpuStart
        let selfCPU = ProcessCPU.selfSeconds() - selfStart
        for channel in channels { try? await channel.close() }
        try await group.shutdownGracefully()
        let seconds = elapsed.secondCount
        return Result(
            server: server.name, inFlight: inFlight, callsPerSecond: Double(completed) / seconds,
            p50: histogram.valueAtPercentile(50), p90: histogram.valueAtPercentile(90),
            p99: histogram.valueAtPercentile(99), p999: histogram.valueAtPercentile(99.9),
            serverCPUPerCall: completed > 0 ? cpu / Double(completed) * 1e6 : 0,
            clientCPUPerCall: completed > 0 ? selfCPU / Double(completed) * 1e6 : 0,
            calls: completed, errors: errors
        )
    }
}
