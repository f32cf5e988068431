import ArgumentParser
import Foundation
import SwitchboardClient

/// The server's CPU per call as Go programs really call it: containerd's Go ttrpc client (which
/// writes each request with its own syscall) drives Switchboard's server and containerd's Go
/// ttrpc server side by side in one run, with bare `Health/Check` calls, and Switchboard with
/// full durable session lifecycles, whose CPU is reported as a multiple of a bare call's.
struct GoClientBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "go",
        abstract: "Server CPU per call with containerd's Go ttrpc client: Switchboard against Go ttrpc, and lifecycles."
    )

    @Option(name: .customLong("in-flight"), help: "Calls in flight on the one connection, one or more values: 64,1.")
    var inFlight = "64,1"
    @Option(name: .customLong("lifecycles-in-flight"), help: "Lifecycles in flight (0: no lifecycle run).")
    var lifecyclesInFlight = 64
    @Option(help: "Agents online for the lifecycles (each with room for 1,000 sessions).")
    var agents = 16
    @Option(help: "Warm-up seconds before each measurement.")
    var warmup = 2.0
    @Option(help: "Measured seconds.")
    var duration = 5.0
    @Option(help: "Which servers to measure: swift,go.")
    var servers = "swift,go"
    @Option(help: "The switchboard-bench whose `serve` is the Swift server (another build's, to compare); this one when not given.")
    var swiftServer: String?
    @Option(help: "File the figures are written to (Markdown).")
    var output = ".build/benchmarks/go-client.md"
    @Option(help: "The Swift server's database file, kept afterwards (to look into); a temporary one when not given.")
    var database: String?

    struct Row {
        let server: String
        let call: String
        let inFlight: Int
        let load: GoLoad.Figures
        let serverCPU: Double

        /// Server CPU per unit (call or lifecycle), microseconds.
        var cpuPerUnit: Double { load.units > 0 ? serverCPU / Double(load.units) * 1e6 : 0 }
        var unitsPerSecond: Double { Double(load.units) / load.seconds }
    }

    func run() async throws {
        let depths = inFlight.split(separator: ",").compactMap { Int($0) }
        let load = try GoLoad(binary: ServerProcess.buildGo("ttrpc-load"))
        let goServer = try ServerProcess.buildGoServer()
        var rows: [Row] = []
        func record(_ row: Row) {
            print(
                "\(row.server) \(row.call) in-flight=\(row.inFlight): \(Int(row.unitsPerSecond))/s, p50 \(Result.us(row.load.p50)) us, "
                    + "p99 \(Result.us(row.load.p99)) us, server CPU \(String(format: "%.2f", row.cpuPerUnit)) us, errors \(row.load.errors)"
                    + (row.load.firstError.map { " (\($0))" } ?? "")
            )
            rows.append(row)
        }
        for name in servers.split(separator: ",").map(String.init) {
            let server: ServerProcess
            switch name {
            case "swift":
                if let database {
                    server = try await ServerProcess.start(name: "swift", goBinary: nil, database: database, swiftBinary: swiftServer)
                } else {
                    server = try await ServerProcess.startSwitchboard(binary: swiftServer)
                }
            case "go": server = try await ServerProcess.start(name: "go", goBinary: goServer)
            default: throw BenchError("unknown server '\(name)': use swift or go")
            }
            defer { server.stop() }
            for depth in depths {
                let (figures, cpu) = try load.run("check", server: server, inFlight: depth, warmup: warmup, duration: duration)
                record(Row(server: name, call: "Health/Check", inFlight: depth, load: figures, serverCPU: cpu))
            }
            if name == "swift" && lifecyclesInFlight > 0 {
                let client = SwitchboardClient(host: server.host, port: server.port)
                try await LifecycleBench.prepare(client, agents: agents)
                await client.close()
                let (figures, cpu) = try load.run(
                    "lifecycle", server: server, inFlight: lifecyclesInFlight, warmup: warmup, duration: duration
                )
                record(Row(server: name, call: "lifecycle", inFlight: lifecyclesInFlight, load: figures, serverCPU: cpu))
            }
        }
        let report = markdown(rows)
        print(report.summary)
        try FileManager.default.createDirectory(
            at: URL(fileURLWithPath: output).deletingLastPathComponent(), withIntermediateDirectories: true
        )
        try report.text.write(toFile: output, atomically: true, encoding: .utf8)
        print("written to \(output)")
    }

    func markdown(_ rows: [Row]) -> (text: String, summary: String) {
        var lines = [
            "# Go-client benchmark", "",
            "containerd's Go ttrpc client (one connection, each request written with its own syscall); "
                + "\(duration) s measured after \(warmup) s of warm-up. A lifecycle is 5 calls, each answered after its "
                + "changes were committed (SQLite WAL, synchronous=FULL).", "",
            "| server | call | in flight | per second | p50 us | p90 us | p99 us | server CPU us | errors |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for row in rows {
            lines.append(
                "| \(row.server) | \(row.call) | \(row.inFlight) | \(Int(row.unitsPerSecond)) | \(Result.us(row.load.p50)) | "
                    + "\(Result.us(row.load.p90)) | \(Result.us(row.load.p99)) | \(String(format: "%.2f", row.cpuPerUnit)) | \(row.load.errors) |"
            )
        }
        var summary: [String] = []
        for depth in Set(rows.map(\.inFlight)).sorted(by: >) {
            guard let swift = rows.first(where: { $0.server == "swift" && $0.call == "Health/Check" && $0.inFlight == depth }),
                let go = rows.first(where: { $0.server == "go" && $0.call == "Health/Check" && $0.inFlight == depth })
            else { continue }
            summary.append(
                "Health/Check, \(depth) in flight: Switchboard/Go calls/s = \(String(format: "%.2f", swift.unitsPerSecond / go.unitsPerSecond))x, "
                    + "server CPU per call Switchboard/Go = \(String(format: "%.2f", swift.cpuPerUnit / go.cpuPerUnit))x"
            )
        }
        let bareCalls = rows.filter { $0.server == "swift" && $0.call == "Health/Check" }
        if let lifecycle = rows.first(where: { $0.call == "lifecycle" }),
            let bare = bareCalls.max(by: { $0.inFlight < $1.inFlight })
        {
            summary.append(
                "lifecycle, \(lifecycle.inFlight) in flight: server CPU = \(String(format: "%.1f", lifecycle.cpuPerUnit / bare.cpuPerUnit)) "
                    + "bare Health/Check calls (\(bare.inFlight) in flight)"
            )
        }
        lines.append("")
        lines.append(contentsOf: summary.map { "- \($0)" })
        return (lines.joined(separator: "\n") + "\n", summary.joined(separator: "\n"))
    }
}

/// Benchmarks/go's `ttrpc-load`: runs one measurement and reports the server's CPU over exactly
/// the measured window (the load generator waits for a line between its warm-up and measuring).
struct GoLoad {
    let binary: String

    struct Figures: Decodable {
        let seconds: Double
        let units: Int
        let calls: Int
        let errors: Int
        let p50, p90, p99, p999: UInt64
        let firstError: String?

        enum CodingKeys: String, CodingKey {
            case seconds, units, calls, errors
            case p50 = "p50_ns", p90 = "p90_ns", p99 = "p99_ns", p999 = "p999_ns"
            case firstError = "first_error"
        }
    }

    func run(_ mode: String, server: ServerProcess, inFlight: Int, warmup: Double, duration: Double) throws -> (Figures, Double) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            mode, "\(server.host):\(server.port)", "--in-flight", "\(inFlight)", "--warmup", "\(warmup)",
            "--duration", "\(duration)", "--ready-line",
        ]
        let output = Pipe()
        let input = Pipe()
        process.standardOutput = output
        process.standardInput = input
        try process.run()
        var lines = LineReader(handle: output.fileHandleForReading)
        guard lines.next() == "READY" else { throw BenchError("ttrpc-load \(mode) exited before measuring") }
        let start = server.cpuSeconds()
        input.fileHandleForWriting.write(Data("go\n".utf8))
        guard lines.next() == "DONE" else { throw BenchError("ttrpc-load \(mode) exited while measuring") }
        let cpu = server.cpuSeconds() - start
        guard let json = lines.next(), let figures = try? JSONDecoder().decode(Figures.self, from: Data(json.utf8)) else {
            throw BenchError("ttrpc-load \(mode) printed no figures")
        }
        process.waitUntilExit()
        return (figures, cpu)
    }
}

/// Lines of a pipe, read as they come.
struct LineReader {
    let handle: FileHandle
    private var buffer = Data()

    init(handle: FileHandle) { self.handle = handle }

    mutating func next() -> String? {
        while true {
            if let end = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[buffer.startIndex..<end], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...end)
                return line
            }
            let chunk = handle.availableData
            if chunk.isEmpty { return nil }
            buffer.append(chunk)
        }
    }
}
