import Foundation
import SwitchboardCore
import Testing

/// docs/CONFIGURATION.md lists the defaults the code has, so it cannot drift.
@Suite("Configuration document")
struct ConfigurationDocTests {
    static let document: String = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/CONFIGURATION.md")
        return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }()

    static var defaults: [(String, String)] {
        let settings = SwitchboardSettings()
        return [
            ("welcome", settings.prompts.welcome),
            ("manualAccessInProgress", settings.prompts.manualAccessInProgress),
            ("transferSucceeded", settings.prompts.transferSucceeded),
            ("transferFailed", settings.prompts.transferFailed),
            ("afterHours", settings.prompts.afterHours),
            ("queueMessage", settings.prompts.queueMessage),
            ("timeoutClosure", settings.prompts.timeoutClosure),
            ("proactiveClosure", settings.prompts.proactiveClosure),
            ("hookDeadlineMs", "`\(settings.allocation.hookDeadlineMilliseconds)`"),
            ("connectTimeoutSeconds", "`\(settings.serviceMode.connectTimeoutSeconds)`"),
            ("breakAfterConnectTimeout", "`\(settings.serviceMode.breakAfterConnectTimeout)`"),
            ("maxSessionsPerAgent", "`\(settings.queue.maxSessionsPerAgent)`"),
            ("queueMessageIntervalSeconds", "`\(settings.queue.queueMessageIntervalSeconds)`"),
            ("maxQueueLength", "`\(settings.queue.maxQueueLength)`"),
            ("userTimeoutSeconds", "`\(settings.closure.userTimeoutSeconds)`"),
            ("timeoutMessageEnabled", "`\(settings.closure.timeoutMessageEnabled)`"),
            ("proactiveMessageEnabled", "`\(settings.closure.proactiveMessageEnabled)`"),
            ("timeZone", "`\(settings.workingHours.timeZone)`"),
            ("invitationMessage", settings.rating.invitationMessage),
            ("submissionMessage", settings.rating.submissionMessage),
            ("validitySeconds", "`\(settings.rating.validitySeconds)`"),
            ("labels", settings.rating.labels.joined(separator: ", ")),
        ]
    }

    @Test("every setting's default in the document is the code's", arguments: defaults.map(\.0))
    func setting(field: String) {
        let expected = Self.defaults.first { $0.0 == field }!.1
        #expect(Self.document.contains("| `\(field)` | \(expected) |"), "docs/CONFIGURATION.md should say: | `\(field)` | \(expected) |")
    }
}
