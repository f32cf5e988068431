import ArgumentParser
import Foundation
import Histogram
import SwitchboardClient
import SwitchboardCore

/// Full session lifecycles over RPC, durable: create, request an agent, agent message, user
/// message, close; N lifecycles in flight against a server in its own process.
struct LifecycleBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lifecycles",
        abstract: "Session lifecycles per second over RPC with durable commits."
    )

    @Option(name: .customLong("in-flight"), help: "Lifecycles in flight.")
    var inFlight = 64
    @Option(help: "Agents online (each with capacity 1000).")
    var agents = 16
    @Option(help: "Warm-up seconds.")
    var warmup = 2.0
    @Option(help: "Measured seconds.")
    var duration = 5.0
    @Option(help: "File the figures are written to (Markdown).")
    var output = ".build/benchmarks/lifecycles.md"
    @Flag(help: "Keep the database in memory (to see what the file costs); not durable.")
    var inMemory = false
    @Flag(help: "Route with the business-server policy through the example hook (a process of its own).")
    var hook = false

    func run() async throws {
        let server = try await ServerProcess.startSwitchboard(inMemory: inMemory)
        defer { server.stop() }
        print("server pid \(server.pid)")
        let client = SwitchboardClient(host: server.host, port: server.port)
        var hookProcess: ServerProcess?
        if hook { hookProcess = try await ServerProcess.start(name: "hook", goBinary: nil) }
        defer { hookProcess?.stop() }
        try await Self.prepare(client, agents: agents, hookPort: hookProcess?.port)
        let serverCPUStart = server.cpuSeconds()
        let clientCPUStart = ProcessCPU.selfSeconds()
        let (histogram, count) = try await Self.measure(client, inFlight: inFlight, warmup: warmup, duration: duration)
        let serverCPU = server.cpuSeconds() - serverCPUStart
        let clientCPU = ProcessCPU.selfSeconds() - clientCPUStart
        await client.close()
        let perSecond = Double(count) / duration
        let total = Double(count) * (warmup + duration) / duration
        let serverPerLifecycle = serverCPU / total * 1e6
        let clientPerLifecycle = clientCPU / total * 1e6
        func ms(_ value: UInt64) -> String { String(format: "%.2f", Double(value) / 1_000_000) }
        print("lifecycles\(hook ? " (business-server policy, example hook)" : ""): \(Int(perSecond))/s (\(Int(perSecond * 5)) RPCs/s) with \(inFlight) in flight; lifecycle p50 \(ms(histogram.valueAtPercentile(50))) ms, p99 \(ms(histogram.valueAtPercentile(99))) ms; CPU per lifecycle: server \(Int(serverPerLifecycle)) us, load generator \(Int(clientPerLifecycle)) us")
        let markdown = """
            # Session lifecycle benchmark

            Create, request agent, agent message, user message, close: 5 RPCs, each answered after its
            changes were committed (SQLite WAL, synchronous=FULL, group commit). \(inFlight) lifecycles in
            flight, \(agents) agents online; \(duration) s measured.

            | lifecycles/s | RPCs/s | lifecycle p50 ms | p90 ms | p99 ms | server CPU us/lifecycle | generator CPU us/lifecycle |
            |---|---|---|---|---|---|---|
            | \(Int(perSecond)) | \(Int(perSecond * 5)) | \(ms(histogram.valueAtPercentile(50))) | \(ms(histogram.valueAtPercentile(90))) | \(ms(histogram.valueAtPercentile(99))) | \(Int(serverPerLifecycle)) | \(Int(clientPerLifecycle)) |

            """
        try FileManager.default.createDirectory(at: URL(fileURLWithPath: output).deletingLastPathComponent(), withIntermediateDirectories: true)
        try markdown.write(toFile: output, atomically: true, encoding: .utf8)
        print("written to \(output)")
    }
}

extension LifecycleBench {
    /// Runs lifecycles on `client` with `inFlight` in flight for `warmup` then `duration`
    /// seconds; the latencies and count of those begun and ended in the measured part.
    static func measure(_ client: SwitchboardClient, inFlight: Int, warmup: Double, duration: Double) async throws -> (Histogram<UInt64>, Int) {
        let clock = ContinuousClock()
        let measureFrom = clock.now + .seconds(warmup)
        let deadline = measureFrom + .seconds(duration)
        return try await withThrowingTaskGroup(of: (Histogram<UInt64>, Int).self) { group in
            for worker in 0..<inFlight {
                group.addTask {
                    var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
                    var count = 0
                    var round = 0
                    while clock.now < deadline {
                        let start = clock.now
                        let session = try await client.sessions.createSession(CreateSessionRequest(userID: "user-\(worker)-\(round)"))
                        let routed = try await client.sessions.requestAgent(RequestAgentRequest(sessionID: session.id))
                        guard routed.state == .active else { throw BenchError("session not assigned: \(routed.state) (the hook failed?)") }
                        _ = try await client.agents.sendAgentMessage(
                            SendAgentMessageRequest(agentID: routed.agentID, sessionID: session.id, text: "Hello, how can I help?")
                        )
                        _ = try await client.sessions.sendUserMessage(SendUserMessageRequest(sessionID: session.id, text: "My order is late"))
                        _ = try await client.agents.closeSession(AgentSessionRequest(agentID: routed.agentID, sessionID: session.id))
                        round += 1
                        if start >= measureFrom && clock.now <= deadline {
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

    /// Gets a server ready for lifecycles: `agents` agents (`agent-0` ...) online with room for
    /// 1,000 sessions each, and the business-server policy through the hook at `hookPort` if given.
    static func prepare(_ client: SwitchboardClient, agents: Int, hookPort: Int? = nil) async throws {
        let document = try await client.settings.getSettings(GetSettingsRequest())
        var queue = document.settings!.queue!
        queue.maxSessionsPerAgent = 1000
        var changes = Settings(queue: queue)
        if let hookPort {
            changes.allocation = .init(policy: .businessServer, hookAddress: "127.0.0.1:\(hookPort)", hookDeadlineMs: 2000, fallback: .transferFailed)
        }
        _ = try await client.settings.updateSettings(UpdateSettingsRequest(expectedVersion: document.version, settings: changes))
        for index in 0..<agents {
            _ = try await client.agents.createAgent(CreateAgentRequest(id: "agent-\(index)", displayName: "Agent \(index)"))
            _ = try await client.agents.setAgentStatus(SetAgentStatusRequest(id: "agent-\(index)", status: .online))
        }
    }
}

/// Routing decision time in the core alone (no RPC, no storage), for growing sizes.
struct RoutingBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "routing",
        abstract: "Routing decision time in RoutingState with many agents and queued sessions."
    )

    @Option(help: "Agent counts to measure, comma-separated.")
    var agents = "1000,10000"
    @Option(help: "Queued session counts to measure, comma-separated.")
    var queued = "10000,100000"
    @Option(help: "Decisions measured per case.")
    var samples = 20000
    @Option(help: "File the figures are written to (Markdown).")
    var output = ".build/benchmarks/routing.md"

    func run() throws {
        var lines = [
            "# Routing decision benchmark", "",
            "RoutingState alone, one decision at a time, \(samples) samples per case (nanoseconds).", "",
            "| agents | queued | decision | p50 ns | p90 ns | p99 ns |", "|---|---|---|---|---|---|",
        ]
        for agentCount in agents.split(separator: ",").compactMap({ Int($0) }) {
            for queuedCount in queued.split(separator: ",").compactMap({ Int($0) }) {
                for row in try measure(agentCount: agentCount, queuedCount: queuedCount) {
                    print(row)
                    lines.append(row)
                }
            }
        }
        try FileManager.default.createDirectory(at: URL(fileURLWithPath: output).deletingLastPathComponent(), withIntermediateDirectories: true)
        try (lines.joined(separator: "\n") + "\n").write(toFile: output, atomically: true, encoding: .utf8)
        print("written to \(output)")
    }

    func measure(agentCount: Int, queuedCount: Int) throws -> [String] {
        var settings = SwitchboardSettings()
        settings.queue.maxSessionsPerAgent = 1
        settings.prompts.queueMessage = ""  // measure routing, not text rendering
        var now = Timestamp(milliseconds: 1_800_000_000_000)
        let runtimes = (0..<agentCount).map { AgentRuntime(id: String(format: "agent-%06d", $0), status: .offline, maxSessions: nil, groupIDs: []) }
        var state = try RoutingState(settings: settings, agents: runtimes, groups: [:])
        for agent in runtimes { try state.setStatus(agentID: agent.id, .online, now: now) }
        var counter = 0
        func newSession() throws -> String {
            counter += 1
            let id = "s-\(counter)"
            _ = state.createSession(id: id, userID: "u", channel: "", attributes: [:], now: now)
            _ = try state.requestAgent(sessionID: id, groupID: nil, now: now)
            return id
        }
        // Fill every agent, then the queue.
        var active: [String] = []
        for _ in 0..<agentCount {
            now = now.adding(.milliseconds(1))
            active.append(try newSession())
        }
        for _ in 0..<queuedCount { _ = try newSession() }

        precondition(state.queuedSessionCount == queuedCount)

        // Decision 1: a new session while every agent is busy (queued at the end).
        var enqueue = Histogram<UInt64>(highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: .three)
        // Decision 2: an agent frees capacity and takes the oldest queued session.
        var serve = Histogram<UInt64>(highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: .three)
        let clock = ContinuousClock()
        for index in 0..<samples {
            now = now.adding(.milliseconds(1))
            var start = clock.now
            _ = try newSession()
            _ = enqueue.record((clock.now - start).nanosecondCount)
            let closing = active[index % active.count]
            let agentID = state.sessions[closing]!.agentID!
            start = clock.now
            _ = try state.close(sessionID: closing, byAgent: agentID, now: now)
            _ = serve.record((clock.now - start).nanosecondCount)
            active[index % active.count] = state.agents[agentID]!.sessions.first!

        }
        func row(_ name: String, _ histogram: Histogram<UInt64>) -> String {
            "| \(agentCount) | \(queuedCount) | \(name) | \(histogram.valueAtPercentile(50)) | \(histogram.valueAtPercentile(90)) | \(histogram.valueAtPercentile(99)) |"
        }
        return [row("new session, all agents busy: queued", enqueue), row("agent frees capacity: oldest queued assigned", serve)]
    }

}
