/// Switchboard's settings, section by section, close to their wire form; ``validate()`` checks
/// every rule and names the offending field. The defaults make a fresh server usable.
public struct SwitchboardSettings: Sendable, Hashable {
    /// The texts sent to users; empty disables a prompt.
    public struct Prompts: Sendable, Hashable {
        public var welcome = "Hello! How can we help you today?"
        public var manualAccessInProgress = "Connecting you to an agent, one moment please."
        public var transferSucceeded = "You are now chatting with an agent."
        public var transferFailed = "Sorry, no agent is available right now. Please try again later."
        public var afterHours = "Our agents are away right now. Please come back during our working hours."
        public var queueMessage = "You are number $QueuePosition in the queue; $WaitNo users are ahead of you."
        public var timeoutClosure = "This chat was closed because we did not hear from you."
        public var proactiveClosure = "This chat has ended. Thank you for contacting us."

        /// Creates the default prompts.
        public init() {}
    }

    /// How a target is chosen for a user who asks for an agent.
    public struct Allocation: Sendable, Hashable {
        /// The allocation policy.
        public enum Policy: Sendable, Hashable {
            case unspecified, automatic, userSelectsGroup, businessServer
        }

        /// What to do when the business server's hook fails.
        public enum Fallback: Sendable, Hashable {
            case unspecified, automatic, transferFailed
        }

        public var policy = Policy.automatic
        /// `host:port` of the business server's hook.
        public var hookAddress = ""
        /// Milliseconds a hook call may take.
        public var hookDeadlineMilliseconds = 2000
        public var fallback = Fallback.automatic

        /// Creates the default allocation section.
        public init() {}
    }

    /// Whether an assignment starts the conversation at once.
    public struct ServiceMode: Sendable, Hashable {
        /// The service mode.
        public enum Mode: Sendable, Hashable {
            case unspecified, automatic, manual
        }

        public var mode = Mode.automatic
        /// Seconds an agent has to accept an offer (manual mode).
        public var connectTimeoutSeconds = 60
        /// Whether an agent who lets an offer time out is set to break.
        public var breakAfterConnectTimeout = false

        /// Creates the default service mode section.
        public init() {}
    }

    /// Agents' capacity and the waiting line.
    public struct Queue: Sendable, Hashable {
        /// Sessions an agent serves at once unless its own limit says otherwise.
        public var maxSessionsPerAgent = 5
        /// Seconds between two queue messages to a waiting user.
        public var queueMessageIntervalSeconds = 60
        /// Users who may wait at once; 0 for no limit.
        public var maxQueueLength = 0

        /// Creates the default queue section.
        public init() {}
    }

    /// When sessions close by themselves, and which closure messages are sent.
    public struct Closure: Sendable, Hashable {
        /// Seconds without a user answer after which an active session closes; 0 never.
        public var userTimeoutSeconds = 600
        public var timeoutMessageEnabled = true
        public var proactiveMessageEnabled = true
        /// Seconds after which a session left with the bot, untouched (no user message, no request
        /// for an agent), closes by itself (`CLOSE_REASON_BOT_IDLE`), so that abandoned chats
        /// never pile up in memory. 60 to 604800; the default is an hour.
        public var botIdleTimeoutSeconds = Self.defaultBotIdleTimeoutSeconds

        /// The default of ``botIdleTimeoutSeconds``: an hour.
        public static let defaultBotIdleTimeoutSeconds = 3600

        /// Creates the default closure section.
        public init() {}
    }

    /// When agents can be reached.
    public struct WorkingHours: Sendable, Hashable {
        /// A weekday's open ranges.
        public struct Day: Sendable, Hashable {
            /// The weekday, 1 (Monday) to 7 (Sunday); 0 is unspecified.
            public var weekday: Int
            public var ranges: [TimeRangeText]

            /// Creates a day.
            public init(weekday: Int, ranges: [TimeRangeText]) {
                self.weekday = weekday
                self.ranges = ranges
            }
        }

        /// A date whose hours differ from the weekly plan.
        public struct Exception: Sendable, Hashable {
            /// `YYYY-MM-DD`.
            public var date: String
            /// Open ranges; none means closed all day.
            public var ranges: [TimeRangeText]

            /// Creates an exception.
            public init(date: String, ranges: [TimeRangeText]) {
                self.date = date
                self.ranges = ranges
            }
        }

        /// Whether the plan applies; off means always open.
        public var enabled = false
        /// An IANA time zone identifier.
        public var timeZone = "UTC"
        public var days: [Day] = []
        public var exceptions: [Exception] = []

        /// Creates the default working hours: always open.
        public init() {}
    }

    /// An open range as written: `HH:MM` to `HH:MM` (end may be `24:00`).
    public struct TimeRangeText: Sendable, Hashable {
        public var start: String
        public var end: String

        /// Creates a range.
        public init(start: String, end: String) {
            self.start = start
            self.end = end
        }
    }

    /// The satisfaction rating.
    public struct Rating: Sendable, Hashable {
        public var enabled = true
        public var agentMayInvite = true
        public var sendAfterClose = true
        public var invitationMessage = "How did we do? Please rate this conversation from 1 to 5."
        public var submissionMessage = "Thank you for your feedback!"
        /// Seconds after the invitation during which a rating is accepted.
        public var validitySeconds = 86_400
        /// Labels of scores 1 to 5.
        public var labels = ["Very dissatisfied", "Dissatisfied", "Neutral", "Satisfied", "Very satisfied"]

        /// Creates the default rating section.
        public init() {}
    }

    public var prompts = Prompts()
    public var allocation = Allocation()
    public var serviceMode = ServiceMode()
    public var queue = Queue()
    public var closure = Closure()
    public var workingHours = WorkingHours()
    public var rating = Rating()

    /// The defaults.
    public init() {}
}
