import SwitchboardCore
import Testing

/// The routing core parses the prompts once, when its settings are set: what it sends must follow
/// every settings change, and keep what a prompt parsed in each decision used to send.
@Suite("Prompts")
struct PromptTests {
    @Test("prompts follow a settings change: new texts, `$$` as `$`, a new queue template, an emptied prompt")
    func followSettings() throws {
        var settings = SwitchboardSettings()
        settings.queue.maxSessionsPerAgent = 1
        var world = try World(settings: settings, agents: ["ann"])
        try world.online("ann")
        let first = try world.newSession()
        var changes = world.takeChanges()
        #expect(
            world.transcript(first, in: changes) == [
                "Hello! How can we help you today?", "Connecting you to an agent, one moment please.",
                "You are now chatting with an agent.",
            ]
        )

        var changed = world.state.settings
        changed.prompts.welcome = "Hi! Deals from $$5 today."
        changed.prompts.manualAccessInProgress = ""
        changed.prompts.queueMessage = "Place ${QueuePosition}; $WaitNo ahead."
        try changed.validate()
        try world.updateSettings(changed, now: world.now)
        let second = try world.newSession()
        let third = try world.newSession()
        changes = world.takeChanges()
        #expect(world.transcript(second, in: changes) == ["Hi! Deals from $5 today.", "Place 1; 0 ahead."])
        #expect(world.transcript(third, in: changes) == ["Hi! Deals from $5 today.", "Place 2; 1 ahead."])
        let queueMessages = changes.messages.filter { $0.sessionID == third && $0.sender == .system(.queue) }
        #expect(queueMessages.map(\.text) == ["Place 2; 1 ahead."])

        // And back: the closure prompt and the one of the session taking the freed place.
        changed.prompts.proactiveClosure = "Bye for now."
        changed.prompts.transferSucceeded = "Ann is here."
        try world.updateSettings(changed, now: world.now)
        _ = try world.close(sessionID: first, byAgent: "ann", now: world.now)
        changes = world.takeChanges()
        #expect(world.transcript(first, in: changes).first == "Bye for now.")
        #expect(world.transcript(second, in: changes) == ["Ann is here."])
    }

    @Test("settings never validated: a prompt that does not parse is sent as written; a queue message that does not parse is not sent")
    func unparsable() throws {
        var settings = SwitchboardSettings()
        settings.queue.maxSessionsPerAgent = 1
        settings.prompts.welcome = "Hello ${there"
        settings.prompts.queueMessage = "You are ${QueuePosition"
        var world = try World(settings: settings, agents: ["ann"])
        try world.online("ann")
        _ = try world.newSession()
        let waiting = try world.newSession()
        let changes = world.takeChanges()
        #expect(world.transcript(waiting, in: changes) == ["Hello ${there", "Connecting you to an agent, one moment please."])
        #expect(world.session(waiting).state == .queued)
        #expect(world.session(waiting).lastQueueMessagePosition == 1, "the position is still told, as an event")
    }

    @Test("a template renders each placeholder form, `$$` and a lone `$`; unknown values render as nothing")
    func render() throws {
        let template = try Template("No. $QueuePosition, ${WaitNo} ahead; $$5, 5$ and $ alone. $Other.", field: "f")
        #expect(template.placeholders == ["QueuePosition", "WaitNo", "Other"])
        #expect(template.render(["QueuePosition": "3", "WaitNo": "2"]) == "No. 3, 2 ahead; $5, 5$ and $ alone. .")
        #expect(try Template("", field: "f").render([:]) == "")
    }
}
