import SwitchboardCore
import SwitchboardProto

// Conversions between the wire settings (SwitchboardProto) and the domain's (SwitchboardCore).
// A section missing from the wire form takes the domain defaults.

extension SwitchboardSettings {
    init(proto: Settings) {
        self.init()
        if let section = proto.prompts { prompts = .init(proto: section) }
        if let section = proto.allocation { allocation = .init(proto: section) }
        if let section = proto.serviceMode { serviceMode = .init(proto: section) }
        if let section = proto.queue { queue = .init(proto: section) }
        if let section = proto.closure { closure = .init(proto: section) }
        if let section = proto.workingHours { workingHours = .init(proto: section) }
        if let section = proto.rating { rating = .init(proto: section) }
    }
}

extension Settings {
    init(_ settings: SwitchboardSettings) {
        self.init(
            prompts: .init(settings.prompts), allocation: .init(settings.allocation),
            serviceMode: .init(settings.serviceMode), queue: .init(settings.queue), closure: .init(settings.closure),
            workingHours: .init(settings.workingHours), rating: .init(settings.rating)
        )
    }

    /// This document with every section present in `update` replacing its own.
    func replacingSections(from update: Settings) -> Settings {
        var merged = self
        if let section = update.prompts { merged.prompts = section }
        if let section = update.allocation { merged.allocation = section }
        if let section = update.serviceMode { merged.serviceMode = section }
        if let section = update.queue { merged.queue = section }
        if let section = update.closure { merged.closure = section }
        if let section = update.workingHours { merged.workingHours = section }
        if let section = update.rating { merged.rating = section }
        return merged
    }

    /// Whether no section is present.
    var isEmpty: Bool {
        prompts == nil && allocation == nil && serviceMode == nil && queue == nil && closure == nil
            && workingHours == nil && rating == nil
    }
}

extension SwitchboardSettings.Prompts {
    init(proto: Settings.Prompts) {
        self.init()
        welcome = proto.welcome
        manualAccessInProgress = proto.manualAccessInProgress
        transferSucceeded = proto.transferSucceeded
        transferFailed = proto.transferFailed
        afterHours = proto.afterHours
        queueMessage = proto.queueMessage
        timeoutClosure = proto.timeoutClosure
        proactiveClosure = proto.proactiveClosure
    }
}

extension Settings.Prompts {
    init(_ prompts: SwitchboardSettings.Prompts) {
        self.init(
            welcome: prompts.welcome, manualAccessInProgress: prompts.manualAccessInProgress,
            transferSucceeded: prompts.transferSucceeded, transferFailed: prompts.transferFailed,
            afterHours: prompts.afterHours, queueMessage: prompts.queueMessage,
            timeoutClosure: prompts.timeoutClosure, proactiveClosure: prompts.proactiveClosure
        )
    }
}

extension SwitchboardSettings.Allocation {
    init(proto: Settings.Allocation) {
        self.init()
        policy = switch proto.policy {
        case .automatic: .automatic
        case .userSelectsGroup: .userSelectsGroup
        case .businessServer: .businessServer
        case .unspecified, .unrecognized: .unspecified
        }
        hookAddress = proto.hookAddress
        hookDeadlineMilliseconds = Int(proto.hookDeadlineMs)
        fallback = switch proto.fallback {
        case .automatic: .automatic
        case .transferFailed: .transferFailed
        case .unspecified, .unrecognized: .unspecified
        }
    }
}

extension Settings.Allocation {
    init(_ allocation: SwitchboardSettings.Allocation) {
        let policy: Policy = switch allocation.policy {
        case .automatic: .automatic
        case .userSelectsGroup: .userSelectsGroup
        case .businessServer: .businessServer
        case .unspecified: .unspecified
        }
        let fallback: Fallback = switch allocation.fallback {
        case .automatic: .automatic
        case .transferFailed: .transferFailed
        case .unspecified: .unspecified
        }
        self.init(
            policy: policy, hookAddress: allocation.hookAddress,
            hookDeadlineMs: UInt32(clamping: allocation.hookDeadlineMilliseconds), fallback: fallback
        )
    }
}

extension SwitchboardSettings.ServiceMode {
    init(proto: Settings.ServiceMode) {
        self.init()
        mode = switch proto.mode {
        case .automatic: .automatic
        case .manual: .manual
        case .unspecified, .unrecognized: .unspecified
        }
        connectTimeoutSeconds = Int(proto.connectTimeoutSeconds)
        breakAfterConnectTimeout = proto.breakAfterConnectTimeout
    }
}

extension Settings.ServiceMode {
    init(_ serviceMode: SwitchboardSettings.ServiceMode) {
        let mode: Mode = switch serviceMode.mode {
        case .automatic: .automatic
        case .manual: .manual
        case .unspecified: .unspecified
        }
        self.init(
            mode: mode,
            connectTimeoutSeconds: UInt32(clamping: serviceMode.connectTimeoutSeconds),
            breakAfterConnectTimeout: serviceMode.breakAfterConnectTimeout
        )
    }
}

extension SwitchboardSettings.Queue {
    init(proto: Settings.Queue) {
        self.init()
        maxSessionsPerAgent = Int(proto.maxSessionsPerAgent)
        queueMessageIntervalSeconds = Int(proto.queueMessageIntervalSeconds)
        maxQueueLength = Int(proto.maxQueueLength)
    }
}

extension Settings.Queue {
    init(_ queue: SwitchboardSettings.Queue) {
        self.init(
            maxSessionsPerAgent: UInt32(clamping: queue.maxSessionsPerAgent),
            queueMessageIntervalSeconds: UInt32(clamping: queue.queueMessageIntervalSeconds),
            maxQueueLength: UInt32(clamping: queue.maxQueueLength)
        )
    }
}

extension SwitchboardSettings.Closure {
    init(proto: Settings.Closure) {
        self.init()
        userTimeoutSeconds = Int(proto.userTimeoutSeconds)
        timeoutMessageEnabled = proto.timeoutMessageEnabled
        proactiveMessageEnabled = proto.proactiveMessageEnabled
        botIdleTimeoutSeconds = proto.botIdleTimeoutSeconds == 0 ? Self.defaultBotIdleTimeoutSeconds : Int(proto.botIdleTimeoutSeconds)
    }
}

extension Settings.Closure {
    init(_ closure: SwitchboardSettings.Closure) {
        self.init(
            userTimeoutSeconds: UInt32(clamping: closure.userTimeoutSeconds),
            timeoutMessageEnabled: closure.timeoutMessageEnabled,
            proactiveMessageEnabled: closure.proactiveMessageEnabled,
            botIdleTimeoutSeconds: UInt32(clamping: closure.botIdleTimeoutSeconds)
        )
    }
}

extension SwitchboardSettings.WorkingHours {
    init(proto: Settings.WorkingHours) {
        self.init()
        enabled = proto.enabled
        timeZone = proto.timeZone
        days = proto.days.map { day in
            Day(weekday: Int(day.weekday.rawValue), ranges: day.ranges.map { .init(start: $0.start, end: $0.end) })
        }
        exceptions = proto.exceptions.map { exception in
            Exception(date: exception.date, ranges: exception.ranges.map { .init(start: $0.start, end: $0.end) })
        }
    }
}

extension Settings.WorkingHours {
    init(_ hours: SwitchboardSettings.WorkingHours) {
        self.init(
            enabled: hours.enabled,
            timeZone: hours.timeZone,
            days: hours.days.map { day in
                Day(
                    weekday: Weekday(rawValue: Int32(clamping: day.weekday)),
                    ranges: day.ranges.map { Settings.TimeRange(start: $0.start, end: $0.end) }
                )
            },
            exceptions: hours.exceptions.map { exception in
                Exception(date: exception.date, ranges: exception.ranges.map { Settings.TimeRange(start: $0.start, end: $0.end) })
            }
        )
    }
}

extension SwitchboardSettings.Rating {
    init(proto: Settings.Rating) {
        self.init()
        enabled = proto.enabled
        agentMayInvite = proto.agentMayInvite
        sendAfterClose = proto.sendAfterClose
        invitationMessage = proto.invitationMessage
        submissionMessage = proto.submissionMessage
        validitySeconds = Int(proto.validitySeconds)
        labels = proto.labels
    }
}

extension Settings.Rating {
    init(_ rating: SwitchboardSettings.Rating) {
        self.init(
            enabled: rating.enabled, agentMayInvite: rating.agentMayInvite, sendAfterClose: rating.sendAfterClose,
            invitationMessage: rating.invitationMessage, submissionMessage: rating.submissionMessage,
            validitySeconds: UInt32(clamping: rating.validitySeconds), labels: rating.labels
        )
    }
}
