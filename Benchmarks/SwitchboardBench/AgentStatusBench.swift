import ArgumentParser
import Foundation
import Histogram
import SwitchboardClient

/// Agent status changes per second over RPC, each committed durably (WAL, synchronous=FULL)
/// before its answer: a closed loop with N calls in flight, each on its own agent.
struct AgentStatusBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent-status",
        abstract: "SetAgentStatus calls per second with durable commits (closed loop)."
    )

    @Option(name: .customLong("in-flight"), help: "Calls in flight (one agent each).")
    var inFlight = 64
    @Option(help: "Warm-up seconds.")
    var warmup = 2.0
    @Option(help: "Measured seconds.")
    var duration = 5.0
    @Option(help: "File the figures are written to (Markdown).")
    var output = ".build/benchmarks/agent-status.md"

    func run() async throws {
        let server = try await ServerProcess.startSwitchboard()
        defer { server.stop() }
        let client = SwitchboardClient(host: server.host, port: server.port)
        let results = try await Self.measure(client, inFlight: inFlight, warmup: warmup, duration: duration)
        await client.close()
        let (histogram, count) = results
        let perSecond = Double(count) / duration
        func us(_ value: UInt64) -> String { String(format: "%.0f", Double(value) / 1000) }
        let line = "agent status changes: \(Int(perSecond))/s with \(inFlight) in flight, durable; latency p50 \(us(histogram.valueAtPercentile(50))) us, p99 \(us(histogram.valueAtPercentile(99))) us"
        print(line)
        let markdown = """
            # Agent status benchmark

            SetAgentStatus over RPC, each change committed (SQLite WAL, synchronous=FULL, group commit) before
            its answer; \(inFlight) calls in flight (closed loop), each on its own agent; \(duration) s measured.

            | changes/s | p50 us | p90 us | p99 us | p99.9 us |
            |---|---|---|---|---|
            | \(Int(perSecond)) | \(us(histogram.valueAtPercentile(50))) | \(us(histogram.valueAtPercentile(90))) | \(us(histogram.valueAtPercentile(99))) | \(us(histogram.valueAtPercentile(99.9))) |

            """
        try FileManager.default.createDirectory(
            at: URL(fileURLWithPath: output).deletingLastPathComponent(), withIntermediateDirectories: true
        )
        try markdown.write(toFile: output, atomically: true, encoding: .utf8)
        print("written to \(output)")
    }
}

extension AgentStatusBench {
    /// Creates `inFlight` agents on `client`, then toggles each one's status in a closed loop for
    /// `warmup` then `duration` seconds; the latencies and count of the measured part.
    static func measure(_ client: SwitchboardClient, inFlight: Int, warmup: Double, duration: Double) async throws -> (Histogram<UInt64>, Int) {
        for index in 0..<inFlight {
            _ = try await client.agents.createAgent(CreateAgentRequest(id: "agent-\(index)", displayName: "Agent \(index)"))
        }
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(warmup + duration)
        let measureFrom = clock.now + .seconds(warmup)
        return try await withThrowingTaskGroup(of: (Histogram<UInt64>, Int).self) { group in
            for index in 0..<inFlight {
                group.addTask {
                    var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
                    var count = 0
                    var online = true
                    while clock.now < deadline {
                        let start = clock.now
                        _ = try await client.agents.setAgentStatus(
                            SetAgentStatusRequest(id: "agent-\(index)", status: online ? .online : .break)
                        )
                        online.toggle()
                        if start >= measureFrom {
                            let elapsed = clock.now - start
                            _ = histogram.record(elapsed.nanosecondCount)
                            count += 1
                        }
                    }
                    return (histogram, count)
                }
            }
            var total = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
            var count = 0
            for try await (histogram, calls) in group {
                total.add(histogram)
                count += calls
            }
            return (total, count)
        }
    }
}
