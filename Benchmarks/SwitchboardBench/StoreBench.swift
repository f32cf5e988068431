import ArgumentParser
import Foundation
import SwitchboardCore
import SwitchboardStore

/// The store alone: the writes of full session lifecycles (as the engine makes them: the session
/// row after each of the 5 calls, 7 messages, 10 session events, 3 agent events, 2 agent state
/// rows), each call's writes committed before the next call of its lifecycle, N lifecycles at
/// once. Without RPC or routing, so a change to the store shows here first; CPU is this process's.
struct StoreBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Durable store writes of session lifecycles, without RPC or routing."
    )

    @Option(name: .customLong("in-flight"), help: "Lifecycles in flight.")
    var inFlight = 64
    @Option(help: "Lifecycles measured (after as many again to warm up).")
    var lifecycles = 20000
    @Option(help: "File the figures are written to (Markdown).")
    var output = ".build/benchmarks/store.md"
    @Flag(help: "Keep the database in memory: no log, no sync, so the rows' cost shows without the disk's noise.")
    var inMemory = false

    func run() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-store-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try SQLiteStore(location: inMemory ? .inMemory : .file(folder.appendingPathComponent("switchboard.sqlite").path))
        defer { store.close() }
        let agents = (0..<16).map { "agent-\($0)" }
        let start = Timestamp(milliseconds: 1_800_000_000_000)
        try await store.enqueue(agents.map { .insertAgent(AgentProfile(id: $0, displayName: $0, maxSessions: nil, status: .online, groupIDs: [], statusChangedAt: start, createdAt: start)) }).committed()
        try await Self.drive(store, count: lifecycles, inFlight: inFlight, agents: agents, offset: 0)
        let cpuStart = ProcessCPU.selfSeconds()
        let clock = ContinuousClock()
        let began = clock.now
        try await Self.drive(store, count: lifecycles, inFlight: inFlight, agents: agents, offset: lifecycles)
        let elapsed = (clock.now - began).secondCount
        let cpu = ProcessCPU.selfSeconds() - cpuStart
        let perSecond = Double(lifecycles) / elapsed
        let cpuPer = cpu / Double(lifecycles) * 1e6
        print("store\(inMemory ? " (in memory)" : ""): \(Int(perSecond)) lifecycles/s with \(inFlight) in flight, \(String(format: "%.1f", cpuPer)) us CPU per lifecycle (27 rows, 5 commits waited for)")
        let markdown = """
            # Store benchmark

            The writes of \(lifecycles) session lifecycles (27 rows in 5 waited-for commits each), \(inFlight) at once, durable.

            | lifecycles/s | CPU us/lifecycle |
            |---|---|
            | \(Int(perSecond)) | \(String(format: "%.1f", cpuPer)) |

            """
        try FileManager.default.createDirectory(at: URL(fileURLWithPath: output).deletingLastPathComponent(), withIntermediateDirectories: true)
        try markdown.write(toFile: output, atomically: true, encoding: .utf8)
    }

    static func drive(_ store: any SwitchboardStore, count: Int, inFlight: Int, agents: [String], offset: Int) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<inFlight {
                group.addTask {
                    var index = worker
                    while index < count {
                        try await lifecycle(store, number: offset + index, agent: agents[index % agents.count])
                        index += inFlight
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// One lifecycle's writes, call by call, as the engine stores them.
    static func lifecycle(_ store: any SwitchboardStore, number: Int, agent: String) async throws {
        let now = Timestamp(milliseconds: 1_800_000_000_000 + Int64(number))
        let id = String(format: "s-%012d", number)
        var session = SessionRecord(id: id, userID: "user-\(number)", channel: "", attributes: [:], createdAt: now)
        var sequence: Int64 = 0
        var eventSequence: Int64 = 0
        var agentSequence = Int64(number) * 3
        func message(_ sender: Sender, _ text: String) -> [StoreWrite] {
            sequence += 1
            eventSequence += 1
            return [
                .message(TranscriptMessage(sessionID: id, sequence: sequence, sender: sender, text: text, createdAt: now)),
                .event(.session(id), StoredEvent(sequence: eventSequence, createdAt: now, payload: Array(repeating: 7, count: 40 + text.utf8.count))),
            ]
        }
        func sessionEvent() -> StoreWrite {
            eventSequence += 1
            return .event(.session(id), StoredEvent(sequence: eventSequence, createdAt: now, payload: Array(repeating: 9, count: 100)))
        }
        func agentEvent(_ size: Int) -> StoreWrite {
            agentSequence += 1
            return .event(.agent(agent), StoredEvent(sequence: agentSequence, createdAt: now, payload: Array(repeating: 5, count: size)))
        }
        func state() -> StoreWrite {
            session.lastSequence = sequence
            session.lastEventSequence = eventSequence
            return .session(session)
        }
        func agentRow() -> StoreWrite {
            .agentState(id: agent, status: .online, statusChangedAt: now, lastAssignedAt: now)
        }
        // Create: the welcome message.
        var writes = message(.system(.welcome), "Hello! How can we help you today?") + [sessionEvent()]
        try await store.enqueue([state()] + writes, checked: true).committed()
        // Request an agent: two prompts, assigned.
        session.state = .active
        session.target = .anyAgent
        session.agentID = agent
        writes = message(.system(.manualAccessInProgress), "Connecting you to an agent, one moment please.")
            + message(.system(.transferSucceeded), "You are now chatting with an agent.") + [sessionEvent(), agentEvent(110)]
        try await store.enqueue([state()] + writes + [agentRow()], checked: true).committed()
        // The agent's message, the user's.
        try await store.enqueue([state()] + message(.agent(agent), "Hello, how can I help?"), checked: true).committed()
        writes = message(.user, "My order is late") + [agentEvent(70)]
        try await store.enqueue([state()] + writes, checked: true).committed()
        // Close: two prompts, the closing event, the agent freed.
        session.state = .closed
        session.closeReason = .agentEnded
        session.closedAt = now
        session.ratingDeadline = now.adding(.seconds(86_400))
        writes = message(.system(.proactiveClosure), "This chat has ended. Thank you for contacting us.")
            + message(.system(.ratingInvitation), "How did we do? Please rate this conversation from 1 to 5.")
            + [sessionEvent(), agentEvent(45)]
        try await store.enqueue([state()] + writes + [agentRow()], checked: true).committed()
    }
}
