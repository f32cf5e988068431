import ArgumentParser
import Foundation
import Synchronization
import SwitchboardClient

/// Events per second delivered to watchers: sessions each watched by one client stream while
/// writers send user messages to them (each message is one durable event per session watcher and
/// one per agent watcher).
struct EventsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Events per second delivered to WatchSession and WatchAgent streams."
    )

    @Option(help: "Sessions, each with one watcher.")
    var sessions = 256
    @Option(name: .customLong("in-flight"), help: "Messages in flight.")
    var inFlight = 64
    @Option(help: "Measured seconds.")
    var duration = 5.0
    @Option(help: "File the figures are written to (Markdown).")
    var output = ".build/benchmarks/events.md"

    func run() async throws {
        let server = try await ServerProcess.startSwitchboard()
        defer { server.stop() }
        let client = SwitchboardClient(host: server.host, port: server.port)
        let document = try await client.settings.getSettings(GetSettingsRequest())
        var queue = document.settings!.queue!
        queue.maxSessionsPerAgent = 1000
        _ = try await client.settings.updateSettings(UpdateSettingsRequest(expectedVersion: document.version, settings: Settings(queue: queue)))
        _ = try await client.agents.createAgent(CreateAgentRequest(id: "agent", displayName: "Agent"))
        _ = try await client.agents.setAgentStatus(SetAgentStatusRequest(id: "agent", status: .online))
        var ids: [String] = []
        for index in 0..<sessions {
            let session = try await client.sessions.createSession(CreateSessionRequest(userID: "user-\(index)"))
            _ = try await client.sessions.requestAgent(RequestAgentRequest(sessionID: session.id))
            ids.append(session.id)
        }
        let counters = Counters()
        let allIDs = ids
        let watchers = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for id in allIDs {
                    group.addTask {
                        for try await _ in client.watchSession(id) where counters.measuring.load(ordering: .relaxed) {
                            counters.delivered.add(1, ordering: .relaxed)
                        }
                    }
                }
                group.addTask {
                    for try await _ in client.watchAgent("agent") where counters.measuring.load(ordering: .relaxed) {
                        counters.delivered.add(1, ordering: .relaxed)
                    }
                }
                try await group.waitForAll()
            }
        }
        try await Task.sleep(for: .seconds(1))  // watchers caught up with the backlog
        let clock = ContinuousClock()
        counters.measuring.store(true, ordering: .relaxed)
        let start = clock.now
        let deadline = start + .seconds(duration)
        let sent = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<inFlight {
                group.addTask {
                    var count = 0
                    while clock.now < deadline {
                        let id = allIDs[(worker + count * inFlight) % allIDs.count]
                        _ = try await client.sessions.sendUserMessage(SendUserMessageRequest(sessionID: id, text: "event \(count)"))
                        count += 1
                    }
                    return count
                }
            }
            var total = 0
            for try await count in group { total += count }
            return total
        }
        try await Task.sleep(for: .milliseconds(500))  // let the last events arrive
        counters.measuring.store(false, ordering: .relaxed)
        let elapsed = clock.now - start
        watchers.cancel()
        let seconds = elapsed.secondCount
        let perSecond = Double(counters.delivered.load(ordering: .relaxed)) / seconds
        let line = "events delivered: \(Int(perSecond))/s to \(sessions + 1) watchers (\(sent) messages sent, \(Int(Double(sent) / Double(duration)))/s durable)"
        print(line)
        let markdown = """
            # Event stream benchmark

            \(sessions) sessions each watched by one WatchSession stream, plus one WatchAgent stream for
            their agent; \(inFlight) SendUserMessage calls in flight; every message is stored (durable)
            and becomes one event for the session's watcher and one for the agent's. \(duration) s measured.

            | events delivered/s | watchers | messages sent/s |
            |---|---|---|
            | \(Int(perSecond)) | \(sessions + 1) | \(Int(Double(sent) / Double(duration))) |

            """
        try FileManager.default.createDirectory(at: URL(fileURLWithPath: output).deletingLastPathComponent(), withIntermediateDirectories: true)
        try markdown.write(toFile: output, atomically: true, encoding: .utf8)
        print("written to \(output)")
        await client.close()
    }
}

private final class Counters: Sendable {
    let delivered = Atomic<Int>(0)
    let measuring = Atomic<Bool>(false)
}
