import SwitchboardCore
import Testing

/// One rule: a change to the default settings and the field it must be rejected for (nil: valid).
struct Rule: Sendable, CustomTestStringConvertible {
    let name: String
    let field: String?
    let change: @Sendable (inout SwitchboardSettings) -> Void

    init(_ name: String, rejects field: String? = nil, _ change: @escaping @Sendable (inout SwitchboardSettings) -> Void) {
        self.name = name
        self.field = field
        self.change = change
    }

    var testDescription: String { name }
}

typealias Hours = SwitchboardSettings.TimeRangeText

@Suite("Settings validation")
struct SettingsValidationTests {
    @Test("the defaults are valid")
    func defaults() throws {
        try SwitchboardSettings().validate()
    }

    static let rules: [Rule] = [
        // Prompts: placeholders only in the queue message, from the known set.
        Rule("queue message with both placeholder forms") { $0.prompts.queueMessage = "No. $QueuePosition, ${WaitNo} ahead" },
        Rule("queue message with an unknown placeholder", rejects: "settings.prompts.queue_message") {
            $0.prompts.queueMessage = "You are $Position"
        },
        Rule("queue message with an unclosed brace", rejects: "settings.prompts.queue_message") {
            $0.prompts.queueMessage = "You are ${QueuePosition"
        },
        Rule("welcome with a literal dollar") { $0.prompts.welcome = "Deals from $5, pay with $$" },
        Rule("welcome with a placeholder", rejects: "settings.prompts.welcome") { $0.prompts.welcome = "Hi $UserName" },
        Rule("empty prompt disables it") { $0.prompts.transferSucceeded = "" },
        Rule("after-hours reply too long", rejects: "settings.prompts.after_hours") {
            $0.prompts.afterHours = String(repeating: "x", count: 2001)
        },
        // Allocation.
        Rule("business server with an address") {
            $0.allocation.policy = .businessServer
            $0.allocation.hookAddress = "hooks.example.com:7500"
        },
        Rule("business server without an address", rejects: "settings.allocation.hook_address") {
            $0.allocation.policy = .businessServer
            $0.allocation.hookAddress = ""
        },
        Rule("hook address without a port", rejects: "settings.allocation.hook_address") {
            $0.allocation.hookAddress = "hooks.example.com"
        },
        Rule("hook address with an IPv6 host") { $0.allocation.hookAddress = "[::1]:7500" },
        Rule("unspecified policy", rejects: "settings.allocation.policy") { $0.allocation.policy = .unspecified },
        Rule("unspecified fallback", rejects: "settings.allocation.fallback") { $0.allocation.fallback = .unspecified },
        Rule("hook deadline of 100 ms") { $0.allocation.hookDeadlineMilliseconds = 100 },
        Rule("hook deadline of 0", rejects: "settings.allocation.hook_deadline_ms") { $0.allocation.hookDeadlineMilliseconds = 0 },
        Rule("absurd hook deadline", rejects: "settings.allocation.hook_deadline_ms") {
            $0.allocation.hookDeadlineMilliseconds = 3_600_000
        },
        // Service mode.
        Rule("manual mode, 30 s to connect") {
            $0.serviceMode.mode = .manual
            $0.serviceMode.connectTimeoutSeconds = 30
        },
        Rule("unspecified mode", rejects: "settings.service_mode.mode") { $0.serviceMode.mode = .unspecified },
        Rule("connect timeout of 1 s", rejects: "settings.service_mode.connect_timeout_seconds") {
            $0.serviceMode.connectTimeoutSeconds = 1
        },
        // Queue.
        Rule("one session per agent") { $0.queue.maxSessionsPerAgent = 1 },
        Rule("zero sessions per agent", rejects: "settings.queue.max_sessions_per_agent") { $0.queue.maxSessionsPerAgent = 0 },
        Rule("queue message every 4 s", rejects: "settings.queue.queue_message_interval_seconds") {
            $0.queue.queueMessageIntervalSeconds = 4
        },
        Rule("queue of at most 50") { $0.queue.maxQueueLength = 50 },
        Rule("negative queue length", rejects: "settings.queue.max_queue_length") { $0.queue.maxQueueLength = -1 },
        // Closure.
        Rule("user timeout off") { $0.closure.userTimeoutSeconds = 0 },
        Rule("user timeout of 10 s", rejects: "settings.closure.user_timeout_seconds") { $0.closure.userTimeoutSeconds = 10 },
        Rule("user timeout of a year", rejects: "settings.closure.user_timeout_seconds") {
            $0.closure.userTimeoutSeconds = 31_536_000
        },
        // Working hours.
        Rule("weekdays 9 to 18 with a lunch break, Berlin") {
            $0.workingHours.enabled = true
            $0.workingHours.timeZone = "Europe/Berlin"
            $0.workingHours.days = (1...5).map {
                .init(weekday: $0, ranges: [Hours(start: "09:00", end: "12:00"), Hours(start: "13:00", end: "18:00")])
            }
        },
        Rule("a range to midnight") {
            $0.workingHours.days = [.init(weekday: 6, ranges: [Hours(start: "20:00", end: "24:00")])]
        },
        Rule("unknown time zone", rejects: "settings.working_hours.time_zone") { $0.workingHours.timeZone = "Mars/Olympus" },
        Rule("empty time zone", rejects: "settings.working_hours.time_zone") { $0.workingHours.timeZone = "" },
        Rule("inverted range", rejects: "settings.working_hours.days[0].ranges[0]") {
            $0.workingHours.days = [.init(weekday: 1, ranges: [Hours(start: "18:00", end: "09:00")])]
        },
        Rule("empty range", rejects: "settings.working_hours.days[0].ranges[0]") {
            $0.workingHours.days = [.init(weekday: 1, ranges: [Hours(start: "09:00", end: "09:00")])]
        },
        Rule("overlapping ranges", rejects: "settings.working_hours.days[0].ranges[1]") {
            $0.workingHours.days = [.init(weekday: 1, ranges: [Hours(start: "09:00", end: "12:00"), Hours(start: "11:00", end: "13:00")])]
        },
        Rule("24:00 as a start", rejects: "settings.working_hours.days[0].ranges[0].start") {
            $0.workingHours.days = [.init(weekday: 1, ranges: [Hours(start: "24:00", end: "24:00")])]
        },
        Rule("malformed time", rejects: "settings.working_hours.days[0].ranges[0].end") {
            $0.workingHours.days = [.init(weekday: 1, ranges: [Hours(start: "09:00", end: "9pm")])]
        },
        Rule("minute 60", rejects: "settings.working_hours.days[0].ranges[0].end") {
            $0.workingHours.days = [.init(weekday: 1, ranges: [Hours(start: "09:00", end: "17:60")])]
        },
        Rule("weekday twice", rejects: "settings.working_hours.days[1].weekday") {
            $0.workingHours.days = [.init(weekday: 2, ranges: []), .init(weekday: 2, ranges: [])]
        },
        Rule("unspecified weekday", rejects: "settings.working_hours.days[0].weekday") {
            $0.workingHours.days = [.init(weekday: 0, ranges: [])]
        },
        Rule("a holiday and a late opening") {
            $0.workingHours.exceptions = [
                .init(date: "2026-12-25", ranges: []), .init(date: "2026-12-31", ranges: [Hours(start: "10:00", end: "14:00")]),
            ]
        },
        Rule("29 February of a leap year") { $0.workingHours.exceptions = [.init(date: "2028-02-29", ranges: [])] },
        Rule("29 February of another year", rejects: "settings.working_hours.exceptions[0].date") {
            $0.workingHours.exceptions = [.init(date: "2027-02-29", ranges: [])]
        },
        Rule("date in another format", rejects: "settings.working_hours.exceptions[0].date") {
            $0.workingHours.exceptions = [.init(date: "25.12.2026", ranges: [])]
        },
        Rule("date twice", rejects: "settings.working_hours.exceptions[1].date") {
            $0.workingHours.exceptions = [.init(date: "2026-12-25", ranges: []), .init(date: "2026-12-25", ranges: [])]
        },
        // Rating.
        Rule("rating valid for a minute") { $0.rating.validitySeconds = 60 },
        Rule("rating valid for 59 s", rejects: "settings.rating.validity_seconds") { $0.rating.validitySeconds = 59 },
        Rule("four labels", rejects: "settings.rating.labels") { $0.rating.labels = ["1", "2", "3", "4"] },
        Rule("a blank label", rejects: "settings.rating.labels[2]") { $0.rating.labels = ["1", "2", " ", "4", "5"] },
        Rule("invitation with a placeholder", rejects: "settings.rating.invitation_message") {
            $0.rating.invitationMessage = "Rate $AgentName"
        },
    ]

    @Test("each rule accepts a good value and rejects a bad one, naming the field", arguments: rules)
    func rule(_ rule: Rule) {
        var settings = SwitchboardSettings()
        rule.change(&settings)
        if let field = rule.field {
            #expect {
                try settings.validate()
            } throws: { error in
                guard let error = error as? SwitchboardError else { return false }
                return error.kind == .invalidArgument && error.message.contains("'\(field)'")
            }
        } else {
            #expect(throws: Never.self) { try settings.validate() }
        }
    }
}

@Suite("Templates")
struct TemplateTests {
    @Test("placeholders in both forms render; literals stay")
    func render() throws {
        let template = try Template("#$QueuePosition (${WaitNo} ahead) costs $5 or $$", field: "t")
        #expect(template.placeholders == ["QueuePosition", "WaitNo"])
        #expect(template.render(["QueuePosition": "3", "WaitNo": "2"]) == "#3 (2 ahead) costs $5 or $")
    }

    @Test("a dollar at the end is literal")
    func trailingDollar() throws {
        #expect(try Template("price: $", field: "t").render([:]) == "price: $")
    }

    @Test("placeholders end at the first character that cannot be in a name")
    func boundaries() throws {
        let template = try Template("$QueuePosition. $WaitNo!", field: "t")
        #expect(template.render(["QueuePosition": "1", "WaitNo": "0"]) == "1. 0!")
    }
}

@Suite("Page tokens")
struct PageTokenTests {
    @Test("a token round-trips any key", arguments: ["a", "agent-7", "ü@x:y", String(repeating: "z", count: 128)])
    func roundTrip(key: String) throws {
        #expect(try PageToken.decode(PageToken.encode(after: key), field: "page_token") == key)
    }

    @Test("foreign or damaged tokens are INVALID_ARGUMENT naming the field", arguments: ["abc", "p1.", "p1.zz", "p1.6", "p1.ff"])
    func invalid(token: String) {
        #expect {
            _ = try PageToken.decode(token, field: "page_token")
        } throws: { error in
            (error as? SwitchboardError)?.message.contains("'page_token'") == true
        }
    }

    @Test("page sizes: 0 is the default, over 1000 is refused")
    func sizes() throws {
        #expect(try PageRequest(size: 0, token: "").size == PageRequest.defaultSize)
        #expect(try PageRequest(size: 1000, token: "").size == 1000)
        #expect(throws: SwitchboardError.self) { _ = try PageRequest(size: 1001, token: "") }
    }
}

@Suite("Agent rules")
struct AgentRulesTests {
    @Test("ids", arguments: [
        ("alice", true), ("a.b_c:d@e-f", true), (String(repeating: "x", count: 128), true),
        ("", false), ("has space", false), ("ünïcode", false), (String(repeating: "x", count: 129), false), ("a/b", false),
    ])
    func ids(id: String, valid: Bool) {
        if valid {
            #expect(throws: Never.self) { try AgentRules.validateID(id, field: "id") }
        } else {
            #expect { try AgentRules.validateID(id, field: "id") } throws: { ($0 as? SwitchboardError)?.message.contains("'id'") == true }
        }
    }

    @Test("names", arguments: [
        ("Alice Smith", true), ("客服小王", true), ("", false), ("   ", false), ("tab\there", false),
        (String(repeating: "n", count: 201), false),
    ])
    func names(name: String, valid: Bool) {
        if valid {
            #expect(throws: Never.self) { try AgentRules.validateName(name, field: "display_name") }
        } else {
            #expect {
                try AgentRules.validateName(name, field: "display_name")
            } throws: { ($0 as? SwitchboardError)?.message.contains("'display_name'") == true }
        }
    }
}
