/// The one home of the settings' prompts: where each ``PromptKind``'s text lives in the settings
/// document (its wire path), which placeholders it may use, and its parsed form. Settings
/// validation checks them through here, and the routing core renders them from
/// ``PromptTemplates``, parsed once when the settings are set rather than in every decision.
extension PromptKind {
    /// The field that holds the prompt's text, by its wire path.
    var field: String {
        switch self {
        case .welcome: "settings.prompts.welcome"
        case .manualAccessInProgress: "settings.prompts.manual_access_in_progress"
        case .transferSucceeded: "settings.prompts.transfer_succeeded"
        case .transferFailed: "settings.prompts.transfer_failed"
        case .afterHours: "settings.prompts.after_hours"
        case .queue: "settings.prompts.queue_message"
        case .timeoutClosure: "settings.prompts.timeout_closure"
        case .proactiveClosure: "settings.prompts.proactive_closure"
        case .ratingInvitation: "settings.rating.invitation_message"
        case .ratingSubmitted: "settings.rating.submission_message"
        }
    }

    /// The placeholders the prompt may use: only the queue message takes any.
    var placeholders: Set<String> {
        self == .queue ? SwitchboardSettings.queuePlaceholders : []
    }

    /// The prompt's text in `settings`; empty disables it.
    func text(in settings: SwitchboardSettings) -> String {
        switch self {
        case .welcome: settings.prompts.welcome
        case .manualAccessInProgress: settings.prompts.manualAccessInProgress
        case .transferSucceeded: settings.prompts.transferSucceeded
        case .transferFailed: settings.prompts.transferFailed
        case .afterHours: settings.prompts.afterHours
        case .queue: settings.prompts.queueMessage
        case .timeoutClosure: settings.prompts.timeoutClosure
        case .proactiveClosure: settings.prompts.proactiveClosure
        case .ratingInvitation: settings.rating.invitationMessage
        case .ratingSubmitted: settings.rating.submissionMessage
        }
    }

    /// Checks the prompt's text in `settings`: its length, then its template and placeholders;
    /// the error names ``field``.
    func validate(in settings: SwitchboardSettings) throws(SwitchboardError) {
        let text = text(in: settings)
        try TextLimits.prompt.check(text, field: field)
        try Template(text, field: field).requirePlaceholders(in: placeholders, field: field)
    }

    /// The place of the kind in ``PromptTemplates``' storage.
    fileprivate var slot: Int {
        switch self {
        case .welcome: 0
        case .manualAccessInProgress: 1
        case .transferSucceeded: 2
        case .transferFailed: 3
        case .afterHours: 4
        case .queue: 5
        case .timeoutClosure: 6
        case .proactiveClosure: 7
        case .ratingInvitation: 8
        case .ratingSubmitted: 9
        }
    }
}

/// The prompts of one settings document, parsed once: the routing core keeps them next to its
/// settings (set again whenever the settings change), so that a decision sending a prompt only
/// reads a string. Settings are validated before they are applied; should a template not parse
/// anyway, its raw text is sent, and a queue message that does not parse is not sent.
struct PromptTemplates: Sendable {
    /// By ``PromptKind/slot``: the prompt as sent without placeholder values (the others are
    /// validated to have none but `$$`); `nil` when its text is empty (the prompt is disabled).
    private var rendered: [String?]
    /// The queue message's parsed template; `nil` when it does not parse.
    private(set) var queueMessage: Template?

    /// Parses every prompt of `settings`.
    init(_ settings: SwitchboardSettings) {
        rendered = Array(repeating: nil, count: PromptKind.allCases.count)
        for kind in PromptKind.allCases {
            let text = kind.text(in: settings)
            guard !text.isEmpty else { continue }
            rendered[kind.slot] = (try? Template(text, field: kind.field).render([:])) ?? text
        }
        queueMessage = try? Template(settings.prompts.queueMessage, field: PromptKind.queue.field)
    }

    /// The text of a prompt as sent, or `nil` when it is disabled.
    subscript(kind: PromptKind) -> String? { rendered[kind.slot] }
}
