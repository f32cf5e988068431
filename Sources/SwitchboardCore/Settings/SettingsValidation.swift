#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import SwitchboardAddress

extension SwitchboardSettings {
    /// The placeholders the queue message may use.
    public static let queuePlaceholders: Set<String> = ["QueuePosition", "WaitNo"]

    /// Checks every rule of every section; the error names the first offending field by its
    /// wire path, such as `settings.queue.max_sessions_per_agent`.
    public func validate() throws(SwitchboardError) {
        try validatePrompts()
        try validateAllocation()
        try validateServiceMode()
        try validateQueue()
        try validateClosure()
        try validateWorkingHours()
        try validateRating()
    }

    private func validatePrompts() throws(SwitchboardError) {
        // In the order of the section's fields, so that the first offending one is named.
        let kinds: [PromptKind] = [
            .welcome, .manualAccessInProgress, .transferSucceeded, .transferFailed, .afterHours, .timeoutClosure,
            .proactiveClosure, .queue,
        ]
        for kind in kinds { try kind.validate(in: self) }
    }

    /// The longest prompt or message, in characters (see ``TextLimits/prompt`` for its bytes).
    public static var maximumMessageLength: Int { TextLimits.prompt.maximumCharacters! }

    private func validateAllocation() throws(SwitchboardError) {
        let prefix = "settings.allocation."
        guard allocation.policy != .unspecified else {
            throw .invalid(prefix + "policy", "must be AUTOMATIC, USER_SELECTS_GROUP or BUSINESS_SERVER")
        }
        guard allocation.fallback != .unspecified else {
            throw .invalid(prefix + "fallback", "must be AUTOMATIC or TRANSFER_FAILED")
        }
        guard (100...30_000).contains(allocation.hookDeadlineMilliseconds) else {
            throw .invalid(prefix + "hook_deadline_ms", "must be between 100 and 30000, got \(allocation.hookDeadlineMilliseconds)")
        }
        if allocation.policy == .businessServer && allocation.hookAddress.isEmpty {
            throw .invalid(prefix + "hook_address", "must not be empty with the BUSINESS_SERVER policy")
        }
        if !allocation.hookAddress.isEmpty {
            try Self.validateHostPort(allocation.hookAddress, field: prefix + "hook_address")
        }
    }

    static func validateHostPort(_ address: String, field: String) throws(SwitchboardError) {
        try TextLimits.hookAddress.check(address, field: field)
        do throws(HostAndPort.ParseError) {
            _ = try HostAndPort(parsing: address, field: field)
        } catch {
            throw .invalid(field, error.reason)
        }
    }

    private func validateServiceMode() throws(SwitchboardError) {
        let prefix = "settings.service_mode."
        guard serviceMode.mode != .unspecified else {
            throw .invalid(prefix + "mode", "must be AUTOMATIC or MANUAL")
        }
        guard (5...3600).contains(serviceMode.connectTimeoutSeconds) else {
            throw .invalid(prefix + "connect_timeout_seconds", "must be between 5 and 3600, got \(serviceMode.connectTimeoutSeconds)")
        }
    }

    private func validateQueue() throws(SwitchboardError) {
        let prefix = "settings.queue."
        guard AgentRules.sessionLimitRange.contains(queue.maxSessionsPerAgent) else {
            throw .invalid(prefix + "max_sessions_per_agent", "must be between 1 and 1000, got \(queue.maxSessionsPerAgent)")
        }
        guard (5...86_400).contains(queue.queueMessageIntervalSeconds) else {
            throw .invalid(prefix + "queue_message_interval_seconds", "must be between 5 and 86400, got \(queue.queueMessageIntervalSeconds)")
        }
        guard (0...1_000_000).contains(queue.maxQueueLength) else {
            throw .invalid(prefix + "max_queue_length", "must be between 0 (no limit) and 1000000, got \(queue.maxQueueLength)")
        }
    }

    private func validateClosure() throws(SwitchboardError) {
        let seconds = closure.userTimeoutSeconds
        guard seconds == 0 || (60...604_800).contains(seconds) else {
            throw .invalid("settings.closure.user_timeout_seconds", "must be 0 (never) or between 60 and 604800, got \(seconds)")
        }
        guard (60...604_800).contains(closure.botIdleTimeoutSeconds) else {
            throw .invalid(
                "settings.closure.bot_idle_timeout_seconds", "must be between 60 and 604800 (0: the default, 3600), got \(closure.botIdleTimeoutSeconds)"
            )
        }
    }

    private func validateWorkingHours() throws(SwitchboardError) {
        let prefix = "settings.working_hours."
        try TextLimits.timeZone.check(workingHours.timeZone, field: prefix + "time_zone")
        guard TimeZone(identifier: workingHours.timeZone) != nil, !workingHours.timeZone.isEmpty else {
            throw .invalid(prefix + "time_zone", "is not a known IANA time zone: '\(workingHours.timeZone)'")
        }
        var seenDays = Set<Int>()
        for (index, day) in workingHours.days.enumerated() {
            let path = "\(prefix)days[\(index)]"
            guard (1...7).contains(day.weekday) else {
                throw .invalid("\(path).weekday", "must be a weekday from MONDAY to SUNDAY")
            }
            guard seenDays.insert(day.weekday).inserted else {
                throw .invalid("\(path).weekday", "repeats a weekday listed before")
            }
            _ = try OpenRange.parse(day.ranges, field: "\(path).ranges")
        }
        var seenDates = Set<LocalDate>()
        for (index, exception) in workingHours.exceptions.enumerated() {
            let path = "\(prefix)exceptions[\(index)]"
            let date = try LocalDate(parsing: exception.date, field: "\(path).date")
            guard seenDates.insert(date).inserted else {
                throw .invalid("\(path).date", "repeats a date listed before: '\(exception.date)'")
            }
            _ = try OpenRange.parse(exception.ranges, field: "\(path).ranges")
        }
        guard workingHours.exceptions.count <= 1000 else {
            throw .invalid(prefix + "exceptions", "must hold at most 1000 dates, got \(workingHours.exceptions.count)")
        }
    }

    private func validateRating() throws(SwitchboardError) {
        let prefix = "settings.rating."
        try PromptKind.ratingInvitation.validate(in: self)
        try PromptKind.ratingSubmitted.validate(in: self)
        guard (60...2_592_000).contains(rating.validitySeconds) else {
            throw .invalid(prefix + "validity_seconds", "must be between 60 and 2592000, got \(rating.validitySeconds)")
        }
        guard rating.labels.count == 5 else {
            throw .invalid(prefix + "labels", "must hold exactly 5 labels (scores 1 to 5), got \(rating.labels.count)")
        }
        for (index, label) in rating.labels.enumerated() {
            let field = "\(prefix)labels[\(index)]"
            try TextLimits.ratingLabel.check(label, field: field)
            guard !label.allSatisfy(\.isWhitespace) else {
                throw .invalid(field, "must be 1 to \(TextLimits.ratingLabel.maximumCharacters!) characters, not blank")
            }
        }
    }
}
