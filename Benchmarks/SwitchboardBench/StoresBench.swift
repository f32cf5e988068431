import ArgumentParser
import Foundation
import Histogram
import SwitchboardClient

/// The two stores side by side in one sitting: lifecycles and agent status changes per second
/// on SQLite (a file, synced at every commit) and on PostgreSQL (a private durable cluster on
/// loopback, started with `scripts/pg-cluster`: fsync and synchronous_commit on), at each number
/// in flight, alternately; with the server's CPU and PostgreSQL's own (every process of the
/// cluster) per lifecycle.
struct StoresBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stores",
        abstract: "Lifecycles and agent status changes per second on SQLite and on PostgreSQL, alternately, with CPU per lifecycle."
    )

    @Option(name: .customLong("in-flight"), parsing: .upToNextOption, help: "Numbers in flight.")
    var inFlight = [64, 1]
    @Option(help: "Rounds (each runs every case once, the stores alternating).")
    var rounds = 2
    @Option(help: "Warm-up seconds.")
    var warmup = 2.0
    @Option(help: "Measured seconds.")
    var duration = 5.0
    @Option(help: "File the figures are written to (Markdown).")
    var output = ".build/benchmarks/stores.md"

    struct Figures {
        var perSecond: [Double] = []
        var p50: [Double] = []
        var serverCPU: [Double] = []
        var postgresCPU: [Double] = []
    }

    func run() async throws {
        let cluster = try PostgresCluster.start()
        defer { cluster.stop() }
        print("PostgreSQL at \(cluster.url) (durable)")
        var lifecycles: [String: Figures] = [:]
        var statuses: [String: Figures] = [:]
        for round in 1...rounds {
            for count in inFlight {
                for store in ["SQLite", "PostgreSQL"] {
                    let key = "\(store) \(count)"
                    for kind in ["lifecycles", "agent status"] {
                        let database = store == "SQLite" ? nil : try cluster.makeDatabase()
                        let server = try await start(database)
                        let client = SwitchboardClient(host: server.host, port: server.port)
                        if kind == "lifecycles" { try await LifecycleBench.prepare(client, agents: 16) }
                        let (serverStart, postgresStart) = (server.cpuSeconds(), cluster.cpuSeconds())
                        let (histogram, calls) = kind == "lifecycles"
                            ? try await LifecycleBench.measure(client, inFlight: count, warmup: warmup, duration: duration)
                            : try await AgentStatusBench.measure(client, inFlight: count, warmup: warmup, duration: duration)
                        let (serverCPU, postgresCPU) = (server.cpuSeconds() - serverStart, cluster.cpuSeconds() - postgresStart)
                        await client.close()
                        server.stop()
                        // CPU per operation over all of them (the warm-up's too).
                        let total = Double(calls) * (warmup + duration) / duration
                        var figures = (kind == "lifecycles" ? lifecycles[key] : statuses[key]) ?? Figures()
                        figures.perSecond.append(Double(calls) / duration)
                        figures.p50.append(Double(histogram.valueAtPercentile(50)) / 1e6)
                        figures.serverCPU.append(serverCPU / total * 1e6)
                        figures.postgresCPU.append(store == "SQLite" ? 0 : postgresCPU / total * 1e6)
                        if kind == "lifecycles" { lifecycles[key] = figures } else { statuses[key] = figures }
                        print(String(
                            format: "round %d, %@ %@, %d in flight: %.0f/s, p50 %.2f ms, server CPU %.0f us, PostgreSQL CPU %.0f us per operation",
                            round, kind, store, count, figures.perSecond.last!, figures.p50.last!, figures.serverCPU.last!, figures.postgresCPU.last!
                        ))
                    }
                }
            }
        }
        func median(_ values: [Double]) -> Double {
            let sorted = values.sorted()
            return sorted.isEmpty ? 0 : sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }
        var markdown = """
            # The stores side by side

            One sitting, \(rounds) rounds, the stores alternating; medians. SQLite: a file, synced at every
            commit (WAL, synchronous=FULL). PostgreSQL: a private cluster on loopback (fsync on,
            synchronous_commit on), the server's pool 10 connections. Lifecycles: create, request agent,
            agent message, user message, close (5 RPCs); agent status: SetAgentStatus, each call on its own
            agent. CPU per operation: the server's, and PostgreSQL's (every process of its cluster).

            | operation | store | in flight | per second | p50 ms | server CPU us | PostgreSQL CPU us | PostgreSQL / SQLite per second |
            |---|---|---|---|---|---|---|---|

            """
        for (kind, table) in [("lifecycle", lifecycles), ("agent status change", statuses)] {
            for count in inFlight {
                let sqlite = median(table["SQLite \(count)"]?.perSecond ?? [])
                for store in ["SQLite", "PostgreSQL"] {
                    guard let figures = table["\(store) \(count)"] else { continue }
                    let ratio = store == "SQLite" ? "" : String(format: "%.2fx", median(figures.perSecond) / max(sqlite, 1))
                    markdown += String(
                        format: "| %@ | %@ | %d | %.0f | %.2f | %.0f | %@ | %@ |\n",
                        kind, store, count, median(figures.perSecond), median(figures.p50), median(figures.serverCPU),
                        store == "SQLite" ? "" : String(format: "%.0f", median(figures.postgresCPU)), ratio
                    )
                }
            }
        }
        print(markdown)
        try FileManager.default.createDirectory(at: URL(fileURLWithPath: output).deletingLastPathComponent(), withIntermediateDirectories: true)
        try markdown.write(toFile: output, atomically: true, encoding: .utf8)
        print("written to \(output)")
    }

    private func start(_ database: String?) async throws -> ServerProcess {
        guard let database else { return try await ServerProcess.startSwitchboard() }
        return try await ServerProcess.start(name: "swift", goBinary: nil, database: database)
    }
}

/// A private PostgreSQL cluster for the benchmark, durable, through `scripts/pg-cluster` (run from
/// the repository's root).
struct PostgresCluster {
    let directory: String
    let url: String
    private let script: String

    static func start() throws -> PostgresCluster {
        let script = FileManager.default.currentDirectoryPath + "/scripts/pg-cluster"
        guard FileManager.default.isExecutableFile(atPath: script) else {
            throw BenchError("run from the repository's root: \(script) is missing")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-bench-pg-\(UUID().uuidString.prefix(8))").path
        let url = try run(script, ["start", "--watch", "\(getpid())", directory]).trimmingCharacters(in: .whitespacesAndNewlines)
        return PostgresCluster(directory: directory, url: url, script: script)
    }

    /// A new empty database's URL.
    func makeDatabase() throws -> String {
        let name = "bench_\(UUID().uuidString.prefix(8).lowercased())"
        let bin = try Self.run(script, ["bindir"]).trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try Self.run(bin + "/psql", [url, "-q", "-c", "CREATE DATABASE \(name)"])
        return String(url[..<url.lastIndex(of: "/")!]) + "/" + name
    }

    /// CPU seconds of every process of the cluster: the postmaster and its children.
    func cpuSeconds() -> Double {
        guard let text = try? String(contentsOfFile: directory + "/data/postmaster.pid", encoding: .utf8),
              let postmaster = text.split(separator: "\n").first.flatMap({ Int32($0) }) else { return 0 }
        var total = ProcessCPU.seconds(pid: postmaster)
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            // Fields after the command's closing parenthesis: state, ppid, ...
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, Int32(fields[1]) == postmaster { total += ProcessCPU.seconds(pid: pid) }
        }
        return total
    }

    func stop() {
        _ = try? Self.run(script, ["stop", "--remove", directory])
    }

    @discardableResult
    private static func run(_ program: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchError("\(program) \(arguments.joined(separator: " ")) failed") }
        return String(decoding: data, as: UTF8.self)
    }
}
