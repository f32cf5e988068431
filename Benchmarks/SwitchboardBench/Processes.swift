import Foundation
import SwitchboardAddress

/// A server under test, in its own process.
final class ServerProcess {
    let name: String
    let host: String
    let port: Int
    private let process: Process
    private let input: Pipe
    private let output: FileHandle
    /// A temporary folder removed when the server stops.
    private var scratch: URL?

    private init(name: String, process: Process, input: Pipe, output: FileHandle, host: String, port: Int) {
        self.name = name
        self.process = process
        self.input = input
        self.output = output
        self.host = host
        self.port = port
    }

    /// Starts a server; `arguments` are added to the Swift server's `serve` (for example
    /// `--idle-seconds 1`).
    static func start(
        name: String, goBinary: String?, database: String? = nil, swiftBinary: String? = nil, arguments: [String] = []
    ) async throws -> ServerProcess {
        let process = Process()
        switch name {
        case "swift":
            process.executableURL = URL(fileURLWithPath: swiftBinary ?? CommandLine.arguments[0]).standardizedFileURL
            process.arguments = ["serve", "--port", "0"] + (database.map { ["--database", $0] } ?? []) + arguments
        case "hook":
            process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
                .deletingLastPathComponent().appendingPathComponent("switchboard-example-hook")
            process.arguments = ["--port", "0", "--log-level", "warning"]
        case "go":
            process.executableURL = URL(fileURLWithPath: try goBinary ?? buildGoServer())
            process.arguments = ["127.0.0.1:0"]
        default:
            throw BenchError("unknown server '\(name)': use swift or go")
        }
        let output = Pipe()
        let input = Pipe()
        process.standardOutput = output
        process.standardInput = input
        try process.run()
        // The server prints `READY host:port` once it listens.
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw BenchError("\(name) server exited before it was ready") }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("READY "),
            let address = try? HostAndPort(parsing: String(text.dropFirst("READY ".count)), field: "the READY line")
        else { throw BenchError("\(name) server said '\(text)'") }
        return ServerProcess(
            name: name, process: process, input: input, output: output.fileHandleForReading, host: "127.0.0.1", port: address.port
        )
    }

    /// The server's process id.
    var pid: Int32 { process.processIdentifier }

    /// The server's CPU time (user + system), in seconds.
    func cpuSeconds() -> Double {
        ProcessCPU.seconds(pid: process.processIdentifier)
    }

    /// Asks this benchmark's Swift server (`serve`) to give its free heap back to the system
    /// (glibc's `malloc_trim(0)`), waits until it has, and answers the bytes malloc says are in
    /// use (nil when unknown). An older build's `serve` never answers.
    func trimMemory() throws -> Int? {
        input.fileHandleForWriting.write(Data("trim\n".utf8))
        var lines = LineReader(handle: output)
        guard let line = lines.next(), line.hasPrefix("TRIMMED ") else { throw BenchError("\(name) server did not trim its memory") }
        return Int(line.dropFirst("TRIMMED ".count)).flatMap { $0 >= 0 ? $0 : nil }
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        if let scratch { try? FileManager.default.removeItem(at: scratch) }
    }

    /// Starts Switchboard's server on a database file in a new temporary folder (removed by
    /// ``stop()``), or in memory.
    /// `binary` is the `switchboard-bench` whose `serve` runs the server (another build's, to
    /// compare); this one when nil.
    /// `arguments` are added to its `serve`.
    static func startSwitchboard(inMemory: Bool = false, binary: String? = nil, arguments: [String] = []) async throws -> ServerProcess {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-bench-\(UUID().uuidString)")
        let server = try await start(
            name: "swift", goBinary: nil, database: inMemory ? nil : folder.appendingPathComponent("switchboard.sqlite").path,
            swiftBinary: binary, arguments: arguments
        )
        server.scratch = folder
        return server
    }

    /// Builds Benchmarks/go's ttrpc echo server with Debian's Go and containerd ttrpc packages.
    static func buildGoServer() throws -> String {
        try buildGo("ttrpc-echo-server")
    }

    /// Builds one program of Benchmarks/go (GOPATH mode, Debian's Go packages) into
    /// .build/benchmarks/ and returns its path.
    static func buildGo(_ program: String) throws -> String {
        let output = FileManager.default.currentDirectoryPath + "/.build/benchmarks/\(program)"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/go")
        process.arguments = ["build", "-o", output, program]
        var environment = ProcessInfo.processInfo.environment
        environment["GO111MODULE"] = "off"
        environment["GOPATH"] = FileManager.default.currentDirectoryPath + "/Benchmarks/go:/usr/share/gocode"
        process.environment = environment
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BenchError("building \(program) failed (run from the repository root, with golang-go and golang-github-containerd-ttrpc-dev installed)")
        }
        return output
    }
}

enum ProcessCPU {
    private static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// utime + stime of `pid` from /proc/<pid>/stat, in seconds.
    static func seconds(pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state(0) ... utime is field 14 of the whole line, index 11 here.
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / ticksPerSecond
    }

    static func selfSeconds() -> Double {
        seconds(pid: getpid())
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
