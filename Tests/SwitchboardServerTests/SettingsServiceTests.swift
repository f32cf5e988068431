import Foundation
import SwitchboardClient
import SwitchboardTestSupport
import Testing

func temporaryDatabasePath() -> String {
    FileManager.default.temporaryDirectory
        .appendingPathComponent("switchboard-e2e-\(UUID().uuidString)/switchboard.sqlite").path
}

/// Runs `body`, expecting an `RPCError` with `code` whose message contains `text`.
func expectRPCError(
    _ code: RPCError.Code, containing text: String, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async {
    do {
        try await body()
        Issue.record("expected \(code), got success", sourceLocation: sourceLocation)
    } catch let error as RPCError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        #expect(error.message.contains(text), "message: \(error.message)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected RPCError, got \(error)", sourceLocation: sourceLocation)
    }
}

@Suite("SettingsService end to end")
struct SettingsServiceTests {
    @Test("a fresh server answers complete defaults at version 0")
    func defaults() async throws {
        try await withTestServer { server in
            let client = server.makeClient()
            let document = try await client.settings.getSettings(GetSettingsRequest())
            #expect(document.version == 0)
            let settings = try #require(document.settings)
            #expect(settings.queue?.maxSessionsPerAgent == 5)
            #expect(settings.allocation?.policy == .automatic)
            #expect(settings.serviceMode?.mode == .automatic)
            #expect(settings.rating?.labels.count == 5)
            #expect(settings.prompts?.queueMessage.contains("$QueuePosition") == true)
            #expect(settings.workingHours?.timeZone == "UTC")
            await client.close()
        }
    }

    @Test("an update replaces the sections it names, keeps the others, and bumps the version")
    func update() async throws {
        try await withTestServer { server in
            let client = server.makeClient()
            let before = try await client.settings.getSettings(GetSettingsRequest())
            var queue = try #require(before.settings?.queue)
            queue.maxSessionsPerAgent = 3
            let updated = try await client.settings.updateSettings(
                UpdateSettingsRequest(expectedVersion: 0, settings: Settings(queue: queue))
            )
            #expect(updated.version == 1)
            #expect(updated.settings?.queue?.maxSessionsPerAgent == 3)
            #expect(updated.settings?.prompts == before.settings?.prompts)
            #expect(updated.updatedAtMs > 0)
            let read = try await client.settings.getSettings(GetSettingsRequest())
            #expect(read == updated)
            await client.close()
        }
    }

    @Test("a stale version is ABORTED and changes nothing")
    func stale() async throws {
        try await withTestServer { server in
            let client = server.makeClient()
            let closure = Settings.Closure(userTimeoutSeconds: 0, timeoutMessageEnabled: false, proactiveMessageEnabled: true)
            _ = try await client.settings.updateSettings(UpdateSettingsRequest(expectedVersion: 0, settings: Settings(closure: closure)))
            await expectRPCError(.aborted, containing: "version 0") {
                _ = try await client.settings.updateSettings(
                    UpdateSettingsRequest(expectedVersion: 0, settings: Settings(queue: .init(maxSessionsPerAgent: 9, queueMessageIntervalSeconds: 60)))
                )
            }
            let read = try await client.settings.getSettings(GetSettingsRequest())
            #expect(read.version == 1)
            #expect(read.settings?.queue?.maxSessionsPerAgent == 5)
            await client.close()
        }
    }

    @Test("a bad value is INVALID_ARGUMENT naming the field, and nothing changes")
    func invalid() async throws {
        try await withTestServer { server in
            let client = server.makeClient()
            var hours = Settings.WorkingHours(enabled: true, timeZone: "Europe/Berlin")
            hours.days = [.init(weekday: .monday, ranges: [.init(start: "18:00", end: "09:00")])]
            await expectRPCError(.invalidArgument, containing: "'settings.working_hours.days[0].ranges[0]'") {
                _ = try await client.settings.updateSettings(UpdateSettingsRequest(expectedVersion: 0, settings: Settings(workingHours: hours)))
            }
            await expectRPCError(.invalidArgument, containing: "'settings.allocation.hook_address'") {
                _ = try await client.settings.updateSettings(UpdateSettingsRequest(
                    expectedVersion: 0,
                    settings: Settings(allocation: .init(policy: .businessServer, hookDeadlineMs: 2000, fallback: .automatic))
                ))
            }
            await expectRPCError(.invalidArgument, containing: "'settings.working_hours.time_zone'") {
                _ = try await client.settings.updateSettings(UpdateSettingsRequest(
                    expectedVersion: 0, settings: Settings(workingHours: .init(timeZone: "Moon/Base"))
                ))
            }
            await expectRPCError(.invalidArgument, containing: "'settings'") {
                _ = try await client.settings.updateSettings(UpdateSettingsRequest(expectedVersion: 0))
            }
            let value1 = try await client.settings.getSettings(GetSettingsRequest())
            #expect(value1.version == 0)
            await client.close()
        }
    }

    @Test("two admins update at once: one wins, the other gets ABORTED, nothing is lost silently")
    func concurrentAdmins() async throws {
        try await withTestServer { server in
            let first = server.makeClient()
            let second = server.makeClient()
            let read = try await first.settings.getSettings(GetSettingsRequest())
            async let a = Result { () async throws -> SettingsDocument in
                try await first.settings.updateSettings(UpdateSettingsRequest(
                    expectedVersion: read.version, settings: Settings(queue: .init(maxSessionsPerAgent: 7, queueMessageIntervalSeconds: 60))
                ))
            }
            async let b = Result { () async throws -> SettingsDocument in
                try await second.settings.updateSettings(UpdateSettingsRequest(
                    expectedVersion: read.version, settings: Settings(queue: .init(maxSessionsPerAgent: 8, queueMessageIntervalSeconds: 60))
                ))
            }
            let outcomes = await [a, b]
            let winners = outcomes.compactMap { try? $0.get() }
            let losers = outcomes.compactMap { outcome -> RPCError? in
                if case .failure(let error) = outcome { return error as? RPCError }
                return nil
            }
            #expect(winners.count == 1)
            #expect(losers.map(\.code) == [.aborted])
            let final = try await first.settings.getSettings(GetSettingsRequest())
            #expect(final.version == read.version + 1)
            #expect(final.settings?.queue?.maxSessionsPerAgent == winners.first?.settings?.queue?.maxSessionsPerAgent)
            await first.close()
            await second.close()
        }
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
