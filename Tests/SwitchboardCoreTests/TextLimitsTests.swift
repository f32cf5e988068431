import Foundation
import SwitchboardCore
import Testing

@Suite("Text limits in bytes and characters")
struct TextLimitsTests {
    /// One letter and 100,000 combining accents: one character, 200,001 bytes.
    static let accented = "e" + String(repeating: "\u{301}", count: 100_000)

    static let limits: [(String, TextLimit)] = [
        ("id", TextLimits.id), ("session_id", TextLimits.sessionID), ("channel", TextLimits.channel),
        ("name", TextLimits.name), ("attribute key", TextLimits.attributeKey), ("attribute value", TextLimits.attributeValue),
        ("text", TextLimits.messageText), ("comment", TextLimits.ratingComment), ("prompt", TextLimits.prompt),
        ("label", TextLimits.ratingLabel), ("hook_address", TextLimits.hookAddress), ("time_zone", TextLimits.timeZone),
        ("description", TextLimits.keyDescription),
    ]

    @Test("one character of 200,001 bytes is refused by every limit, in bytes", arguments: limits.map(\.0))
    func accentsAreCountedInBytes(name: String) throws {
        let limit = try #require(Self.limits.first { $0.0 == name }?.1)
        #expect(Self.accented.count == 1)
        #expect(throws: SwitchboardError.invalid("f", "must be at most \(limit.maximumBytes) bytes (UTF-8), got 200001")) {
            try limit.check(Self.accented, field: "f")
        }
    }

    @Test("a text of exactly the limits passes; one more byte or character does not", arguments: limits.map(\.0))
    func exactLimits(name: String) throws {
        let limit = try #require(Self.limits.first { $0.0 == name }?.1)
        if let characters = limit.maximumCharacters {
            // 4-byte characters fill both limits at once.
            let full = String(repeating: "😀", count: characters)
            #expect(full.utf8.count == limit.maximumBytes)
            try limit.check(full, field: "f")
            #expect(throws: SwitchboardError.invalid("f", "must be at most \(limit.maximumBytes) bytes (UTF-8), got \(limit.maximumBytes + 1)")) {
                try limit.check(full + "a", field: "f")
            }
            // Two-byte characters: within the bytes, over the characters.
            let wide = String(repeating: "é", count: characters + 1)
            #expect(throws: SwitchboardError.invalid("f", "must be at most \(characters) characters, got \(characters + 1)")) {
                try limit.check(wide, field: "f")
            }
        } else {
            try limit.check(String(repeating: "a", count: limit.maximumBytes), field: "f")
            try limit.check(String(repeating: "é", count: limit.maximumBytes / 2), field: "f")
            #expect(throws: SwitchboardError.invalid("f", "must be at most \(limit.maximumBytes) bytes (UTF-8), got \(limit.maximumBytes + 1)")) {
                try limit.check(String(repeating: "a", count: limit.maximumBytes + 1), field: "f")
            }
        }
    }

    @Test("names: 100,000 accents refused in bytes; 200 emoji accepted")
    func names() throws {
        #expect(throws: SwitchboardError.invalid("display_name", "must be at most 800 bytes (UTF-8), got 200001")) {
            try AgentRules.validateName(Self.accented, field: "display_name")
        }
        try AgentRules.validateName(String(repeating: "😀", count: 200), field: "display_name")
        #expect(throws: SwitchboardError.invalid("id", "must be at most 128 bytes (UTF-8), got 129")) {
            try AgentRules.validateID(String(repeating: "a", count: 129), field: "id")
        }
    }

    @Test("attributes: count, key bytes, value bytes and total bytes")
    func attributes() throws {
        try TextLimits.checkAttributes(["plan": String(repeating: "é", count: 512), "城市": "北京"])
        let full = Dictionary(uniqueKeysWithValues: (0..<64).map { (String(repeating: "k", count: 62) + String($0 + 10), String(repeating: "v", count: 192)) })
        try TextLimits.checkAttributes(full)
        var over = full
        over[over.keys.first!]! += "v"
        #expect(throws: SwitchboardError.invalid("attributes", "must hold at most 16384 bytes (UTF-8) of keys and values, got 16385")) {
            try TextLimits.checkAttributes(over)
        }
        #expect(throws: SwitchboardError.invalid("attributes[plan]", "must be at most 1024 bytes (UTF-8), got 200001")) {
            try TextLimits.checkAttributes(["plan": Self.accented])
        }
        #expect(throws: SwitchboardError.invalid("attributes", "has a key of 200001 bytes (UTF-8); keys are 1 to 64 bytes")) {
            try TextLimits.checkAttributes([Self.accented: "v"])
        }
        #expect(throws: SwitchboardError.invalid("attributes", "has an empty key; keys are 1 to 64 bytes")) {
            try TextLimits.checkAttributes(["": "v"])
        }
        let many = Dictionary(uniqueKeysWithValues: (0..<65).map { ("k\($0)", "v") })
        #expect(throws: SwitchboardError.invalid("attributes", "must hold at most 64 entries, got 65")) {
            try TextLimits.checkAttributes(many)
        }
    }

    @Test("settings texts are limited in bytes, naming the field", arguments: [
        "settings.prompts.welcome", "settings.prompts.queue_message", "settings.rating.invitation_message",
        "settings.rating.labels[3]", "settings.allocation.hook_address", "settings.working_hours.time_zone",
    ])
    func settingsTexts(field: String) {
        var settings = SwitchboardSettings()
        switch field {
        case "settings.prompts.welcome": settings.prompts.welcome = Self.accented
        case "settings.prompts.queue_message": settings.prompts.queueMessage = Self.accented
        case "settings.rating.invitation_message": settings.rating.invitationMessage = Self.accented
        case "settings.rating.labels[3]": settings.rating.labels[3] = Self.accented
        case "settings.allocation.hook_address": settings.allocation.hookAddress = Self.accented + ":7500"
        default: settings.workingHours.timeZone = Self.accented
        }
        do throws(SwitchboardError) {
            try settings.validate()
            Issue.record("\(field) of 200,001 bytes was accepted")
        } catch {
            #expect(error.kind == .invalidArgument)
            #expect(error.message.hasPrefix("field '\(field)' must be at most "), "\(error.message)")
            // 200,001 bytes, and 200,006 for the hook address with its port.
            #expect(error.message.contains("bytes (UTF-8), got 20000"), "\(error.message)")
        }
    }

    @Test("docs/PROTOCOL.md lists the limits the code has")
    func documented() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/PROTOCOL.md")
        let document = try String(contentsOf: url, encoding: .utf8)
        func row(_ field: String, _ limit: TextLimit) -> String {
            "| \(field) | \(limit.maximumBytes) |" + (limit.maximumCharacters.map { " \($0) |" } ?? " |")
        }
        let rows = [
            row("`channel`", TextLimits.channel),
            row("`display_name` of an agent, `name` of a group", TextLimits.name),
            row("an attribute's key (at least 1 byte)", TextLimits.attributeKey),
            row("an attribute's value", TextLimits.attributeValue),
            row("`text` of a user's or agent's message", TextLimits.messageText),
            row("`comment` of a rating", TextLimits.ratingComment),
            row("settings prompts and rating messages; a business server's rejection message", TextLimits.prompt),
            row("settings rating labels", TextLimits.ratingLabel),
            row("settings `hook_address`", TextLimits.hookAddress),
            row("settings `time_zone`", TextLimits.timeZone),
            row("an API key's description (`switchboard-server keys create --description`)", TextLimits.keyDescription),
            "| all attributes of a session: at most \(TextLimits.maximumAttributeCount) entries, keys and values together | \(TextLimits.maximumAttributeBytes) | |",
            "| `AgentService.ListAgentSessions` | \(ResponseBudget.sessionsPerPage) / \(ResponseBudget.sessionsPerPage) |",
        ]
        for expected in rows {
            #expect(document.contains(expected), "docs/PROTOCOL.md should say: \(expected)")
        }
    }
}

@Suite("Pages of in-memory lists and the response budget")
struct PagingTests {
    static let ids = (0..<25).map { "id\($0 + 10)" }

    @Test("pages walk a sorted list without gaps or repeats", arguments: [1, 7, 25, 40])
    func pagesWalkTheList(size: Int) throws {
        var listed: [String] = []
        var token = ""
        repeat {
            let request = try PageRequest(size: UInt32(size), token: token, defaultSize: 40, maximumSize: 40)
            let page = request.page(of: Self.ids, key: { $0 })
            #expect(page.items.count <= size)
            listed += page.items
            token = page.nextToken
        } while !token.isEmpty
        #expect(listed == Self.ids)
    }

    @Test("a size of 0 is the default; over the maximum is refused; a bad token is refused")
    func sizes() throws {
        #expect(try PageRequest(size: 0, token: "", defaultSize: 40, maximumSize: 40).size == 40)
        #expect(throws: SwitchboardError.invalid("page_size", "must be at most 40, got 41")) {
            try PageRequest(size: 41, token: "", defaultSize: 40, maximumSize: 40)
        }
        #expect(throws: SwitchboardError.invalid("page_token", "is not a page token from this server")) {
            try PageRequest(size: 0, token: "id12", defaultSize: 40, maximumSize: 40)
        }
    }

    @Test("a page is cut at the byte budget, keeping at least one item, and continues after the last kept")
    func budget() {
        let page = Page(items: Self.ids, nextToken: "")
        let cut = page.limited(toBytes: 100, size: { _ in 30 }, key: { $0 })
        #expect(cut.items == Array(Self.ids.prefix(3)))
        #expect(cut.nextToken == PageToken.encode(after: Self.ids[2]))
        #expect(page.limited(toBytes: 10, size: { _ in 30 }, key: { $0 }).items.count == 1)
        #expect(page.limited(toBytes: 30 * 25, size: { _ in 30 }, key: { $0 }).nextToken == "")
        #expect(ResponseBudget.fittingCount(of: [Int](), size: { _ in 1 }) == 0)
    }
}
