import Foundation
import Synchronization
import SwitchboardCore
import SwitchboardStore
import Testing

/// A clock the test moves by hand.
final class ManualClock: WallClock {
    private let current = Mutex(Timestamp(milliseconds: 1_790_000_000_000))
    func now() -> Timestamp { current.withLock { $0 } }
    func advance(_ milliseconds: Int64) { current.withLock { $0.milliseconds += milliseconds } }
}

/// A fresh database file in a temporary folder.
func temporaryDatabase() -> String {
    FileManager.default.temporaryDirectory
        .appendingPathComponent("switchboard-store-\(UUID().uuidString)")
        .appendingPathComponent("switchboard.sqlite").path
}

enum Where: String, CaseIterable, Sendable {
    case file, memory

    func open(_ clock: ManualClock) throws -> SwitchboardStore {
        switch self {
        case .file: try SwitchboardStore(location: .file(temporaryDatabase()), clock: clock)
        case .memory: try SwitchboardStore(location: .inMemory, clock: clock)
        }
    }
}

@Suite("Store")
struct StoreTests {
    @Test("migrations run from empty", arguments: Where.allCases)
    func migrations(place: Where) async throws {
        let store = try place.open(ManualClock())
        #expect(try await store.appliedMigrations() == ["v1-settings-agents-groups"])
        #expect(try await store.settings() == nil)
        #expect(try await store.agents(PageRequest()).items.isEmpty)
    }

    @Test("settings round-trip with versions and compare-and-swap", arguments: Where.allCases)
    func settings(place: Where) async throws {
        let clock = ManualClock()
        let store = try place.open(clock)
        let first = try await store.replaceSettings([1, 2, 3], expectedVersion: 0)
        #expect(first.version == 1)
        clock.advance(1000)
        let second = try await store.replaceSettings([4, 5], expectedVersion: 1)
        #expect(second == StoredSettings(version: 2, document: [4, 5], updatedAt: clock.now()))
        #expect(try await store.settings() == second)
        await #expect(throws: SwitchboardError(.aborted, "the settings changed since version 1 was read (now version 2); read them again and retry")) {
            _ = try await store.replaceSettings([9], expectedVersion: 1)
        }
        #expect(try await store.settings()?.document == [4, 5])
    }

    @Test("every agent and group field round-trips", arguments: Where.allCases)
    func agentsAndGroups(place: Where) async throws {
        let clock = ManualClock()
        let store = try place.open(clock)
        let created = try await store.createAgent(id: "alice", displayName: "Alice", maxSessions: 3)
        #expect(created.status == .offline)
        #expect(try await store.agent(id: "alice") == created)
        clock.advance(5)
        let online = try await store.setAgentStatus(id: "alice", .online)
        #expect(online.status == .online && online.statusChangedAt == clock.now())
        // The same status again changes nothing, not even the time.
        clock.advance(5)
        #expect(try await store.setAgentStatus(id: "alice", .online).statusChangedAt == online.statusChangedAt)
        let renamed = try await store.updateAgent(id: "alice", .init(displayName: "Alice B.", maxSessions: .some(nil)))
        #expect(renamed.displayName == "Alice B." && renamed.maxSessions == nil)
        _ = try await store.createGroup(id: "billing", name: "Billing")
        let group = try await store.addMember(groupID: "billing", agentID: "alice")
        #expect(group.memberCount == 1 && group.name == "Billing")
        #expect(try await store.agent(id: "alice").groupIDs == ["billing"])
        #expect(try await store.groupAgents(groupID: "billing", PageRequest()).items.map(\.id) == ["alice"])
        #expect(try await store.renameGroup(id: "billing", name: "Payments").name == "Payments")
        _ = try await store.removeMember(groupID: "billing", agentID: "alice")
        #expect(try await store.agent(id: "alice").groupIDs.isEmpty)
        _ = try await store.addMember(groupID: "billing", agentID: "alice")
        try await store.deleteGroup(id: "billing")
        #expect(try await store.agent(id: "alice").groupIDs.isEmpty)
        try await store.deleteAgent(id: "alice")
        await #expect(throws: SwitchboardError(.notFound, "agent 'alice' not found")) {
            _ = try await store.agent(id: "alice")
        }
    }

    @Test("conflicts and missing entities have their kinds", arguments: Where.allCases)
    func errors(place: Where) async throws {
        let store = try place.open(ManualClock())
        _ = try await store.createAgent(id: "a", displayName: "A", maxSessions: nil)
        _ = try await store.createGroup(id: "g", name: "G")
        await #expect(throws: SwitchboardError(.alreadyExists, "agent 'a' already exists")) {
            _ = try await store.createAgent(id: "a", displayName: "again", maxSessions: nil)
        }
        await #expect(throws: SwitchboardError(.alreadyExists, "group 'g' already exists")) {
            _ = try await store.createGroup(id: "g", name: "again")
        }
        _ = try await store.addMember(groupID: "g", agentID: "a")
        await #expect(throws: SwitchboardError(.alreadyExists, "agent 'a' is already a member of group 'g'")) {
            _ = try await store.addMember(groupID: "g", agentID: "a")
        }
        await #expect(throws: SwitchboardError(.notFound, "agent 'nobody' not found")) {
            _ = try await store.addMember(groupID: "g", agentID: "nobody")
        }
        await #expect(throws: SwitchboardError(.notFound, "group 'none' not found")) {
            _ = try await store.renameGroup(id: "none", name: "x")
        }
        await #expect(throws: SwitchboardError(.notFound, "agent 'b' is not a member of group 'g'")) {
            _ = try await store.createAgent(id: "b", displayName: "B", maxSessions: nil)
            _ = try await store.removeMember(groupID: "g", agentID: "b")
        }
    }

    @Test("pages cover every agent once, in id order", arguments: Where.allCases)
    func pagination(place: Where) async throws {
        let store = try place.open(ManualClock())
        let ids = (0..<25).map { String(format: "agent-%02d", $0) }
        for id in ids.shuffled() {
            _ = try await store.createAgent(id: id, displayName: id, maxSessions: nil)
        }
        var seen: [String] = []
        var token = ""
        repeat {
            let page = try await store.agents(try PageRequest(size: 7, token: token))
            #expect(page.items.count <= 7)
            seen += page.items.map(\.id)
            token = page.nextToken
        } while !token.isEmpty
        #expect(seen == ids)
    }

    @Test("concurrent writes share transactions; a failing one does not undo the others")
    func groupCommit() async throws {
        let store = try Where.file.open(ManualClock())
        _ = try await store.createAgent(id: "taken", displayName: "T", maxSessions: nil)
        let results = await withTaskGroup(of: (String, Bool).self) { group in
            for index in 0..<200 {
                group.addTask {
                    // Every tenth write fails (duplicate id) inside the shared transaction.
                    let id = index % 10 == 0 ? "taken" : "agent-\(index)"
                    do {
                        _ = try await store.createAgent(id: id, displayName: "n", maxSessions: nil)
                        return (id, true)
                    } catch {
                        return (id, false)
                    }
                }
            }
            var results: [(String, Bool)] = []
            for await result in group { results.append(result) }
            return results
        }
        #expect(results.filter { !$0.1 }.allSatisfy { $0.0 == "taken" })
        #expect(results.filter(\.1).count == 180)
        var count = 0
        var token = ""
        repeat {
            let page = try await store.agents(try PageRequest(size: 1000, token: token))
            count += page.items.count
            token = page.nextToken
        } while !token.isEmpty
        #expect(count == 181)
    }

    @Test("data survives closing and reopening the file")
    func reopen() async throws {
        let path = temporaryDatabase()
        let clock = ManualClock()
        do {
            let store = try SwitchboardStore(location: .file(path), clock: clock)
            _ = try await store.createAgent(id: "alice", displayName: "Alice", maxSessions: 2)
            _ = try await store.setAgentStatus(id: "alice", .onBreak)
            _ = try await store.replaceSettings([7], expectedVersion: 0)
        }
        let reopened = try SwitchboardStore(location: .file(path), clock: clock)
        #expect(try await reopened.agent(id: "alice").status == .onBreak)
        #expect(try await reopened.settings()?.version == 1)
    }

    @Test("a file that is not a database is a clear error, not a crash")
    func corrupt() throws {
        let path = temporaryDatabase()
        try FileManager.default.createDirectory(
            at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true
        )
        try Data(repeating: 0x42, count: 8192).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try SwitchboardStore(location: .file(path))
        } throws: { error in
            guard let error = error as? SwitchboardError else { return false }
            return error.kind == .unavailable && error.message.contains(path)
        }
    }
}
