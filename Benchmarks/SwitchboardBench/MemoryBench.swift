import ArgumentParser
import Foundation
import Logging
import SwitchboardCore
import SwitchboardProto
import SwitchboardRPC
import SwitchboardServer
import SwitchboardServices
import SwitchboardStore

/// Resident memory of a server restarted on a database of many closed and some open sessions:
/// only open sessions belong in the routing core, so the closed ones must cost (almost) nothing.
struct MemoryBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory",
        abstract: "Resident memory of switchboard-server restarted on a database with many closed and some open sessions."
    )

    @Option(help: "Closed sessions (each ACTIVE with an agent, closed by its user, its rating window open).")
    var closed = 100_000
    @Option(help: "Open sessions: ACTIVE up to the agents' capacity (10 agents of 100), the rest QUEUED.")
    var open = 10_000
    @Option(help: "Lifecycles run at once while filling.")
    var concurrency = 64
    @Option(help: "switchboard-server binaries to measure, comma-separated; the one next to this benchmark when not given.")
    var servers: String?
    @Option(help: "File the figures are written to (Markdown).")
    var output = ".build/benchmarks/memory.md"

    func run() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-memory-\(UUID().uuidString)")
        let empty = folder.appendingPathComponent("empty")
        let full = folder.appendingPathComponent("full")
        for dir in [empty, full] { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }
        defer { try? FileManager.default.removeItem(at: folder) }
        let fillStarted = ContinuousClock.now
        try await fill(database: full.appendingPathComponent("switchboard.sqlite").path)
        let fillTime = ContinuousClock.now - fillStarted
        let binaries = servers.map { $0.split(separator: ",").map(String.init) } ?? [
            URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.deletingLastPathComponent()
                .appendingPathComponent("switchboard-server").path
        ]
        var lines = [
            "# Resident memory after a restart",
            "",
            "\(closed) closed sessions (rating windows open) and \(open) open ones (\(min(open, 1000)) ACTIVE, the rest QUEUED), "
                + "filled in \(fillTime); each server started on a copy of that database, its VmRSS read once it answers Health/Check.",
            "",
            "| server | empty database MiB | full database MiB | difference MiB | per open session KiB |",
            "|---|---|---|---|---|",
        ]
        for binary in binaries {
            let base = try await residentKiB(binary: binary, dataDir: empty)
            let copy = folder.appendingPathComponent("copy")
            try? FileManager.default.removeItem(at: copy)
            try FileManager.default.copyItem(at: full, to: copy)
            let loaded = try await residentKiB(binary: binary, dataDir: copy)
            let difference = Double(loaded - base)
            lines.append(
                "| \(binary) | \(String(format: "%.1f", Double(base) / 1024)) | \(String(format: "%.1f", Double(loaded) / 1024)) | "
                    + "\(String(format: "%.1f", difference / 1024)) | \(String(format: "%.2f", difference / Double(max(open, 1)))) |"
            )
            print(lines.last!)
        }
        let text = lines.joined(separator: "\n") + "\n"
        try FileManager.default.createDirectory(
            at: URL(fileURLWithPath: output).deletingLastPathComponent(), withIntermediateDirectories: true
        )
        try text.write(toFile: output, atomically: true, encoding: .utf8)
        print("written to \(output)")
    }

    /// Fills a database through an engine in this process: the closed lifecycles first, then the
    /// open sessions.
    private func fill(database: String) async throws {
        var logger = Logger(label: "bench.memory")
        logger.logLevel = .warning
        let store = try SQLiteStore(location: .file(database))
        defer { store.close() }
        let engine = try await SwitchboardEngine(store: store, logger: logger)
        let agents = (0..<10).map { "agent-\($0)" }
        for id in agents {
            _ = try await engine.createAgent(id: id, displayName: id, maxSessions: 100)
            _ = try await engine.setAgentStatus(id: id, .online)
        }
        let attributes = ["tier": "gold", "locale": "en-GB", "order": "A-1234567"]
        try await inParallel(closed) { index in
            let session = try await engine.createSession(userID: "user-\(index)", channel: "web", attributes: attributes)
            _ = try await engine.userMessage(sessionID: session.id, text: "Hello, my order has not arrived yet.")
            _ = try await engine.requestAgent(sessionID: session.id, groupID: nil)
            _ = try await engine.close(sessionID: session.id, byAgent: nil)
        }
        try await inParallel(open) { index in
            let session = try await engine.createSession(userID: "open-\(index)", channel: "web", attributes: attributes)
            _ = try await engine.userMessage(sessionID: session.id, text: "Hello, my order has not arrived yet.")
            _ = try await engine.requestAgent(sessionID: session.id, groupID: nil)
        }
    }

    private func inParallel(_ count: Int, _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            for _ in 0..<min(concurrency, count) {
                let index = next
                next += 1
                group.addTask { try await body(index) }
            }
            while try await group.next() != nil, next < count {
                let index = next
                next += 1
                group.addTask { try await body(index) }
            }
            try await group.waitForAll()
        }
    }

    /// Starts `binary` on `dataDir`, waits until it answers, and reads its resident memory.
    private func residentKiB(binary: String, dataDir: URL) async throws -> Int {
        let port = try freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--data-dir", dataDir.path, "--port", "\(port)", "--log-level", "warning"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        let connection = RPCConnection(host: "127.0.0.1", port: port)
        defer { Task { await connection.close() } }
        let health = Health.Client(connection: connection)
        let deadline = ContinuousClock.now + .seconds(120)
        while true {
            if (try? await health.check(HealthCheckRequest(), options: CallOptions(timeout: .seconds(1)))) != nil { break }
            guard process.isRunning, ContinuousClock.now < deadline else { throw BenchError("\(binary) did not answer on port \(port)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        try await Task.sleep(for: .milliseconds(500))  // let start-up work settle
        let status = try String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { throw BenchError("no VmRSS for \(binary)") }
        return kib
    }

    private func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw BenchError("no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
