import ArgumentParser
import Foundation
import SwitchboardClient

/// Names in settings paths: snake_case is accepted for the JSON's lowerCamelCase.
enum SettingsPath {
    static func jsonName(_ name: String) -> String {
        guard name.contains("_") else { return name }
        let parts = name.split(separator: "_")
        return String(parts[0]) + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }
}

// MARK: Sessions (the user gateway's calls)

struct SessionCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "session", abstract: "Act as the user gateway: sessions, user messages, ratings.",
        subcommands: [Create.self, Get.self, Send.self, RequestAgent.self, Messages.self, Position.self, Close.self, Rate.self, Groups.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a session (welcome message sent).", discussion: "Example: switchboard-cli session create user-42 --attribute tier=vip --channel web")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The user's id.") var user: String
        @Option(name: .customLong("attribute"), help: "key=value, repeatable.") var attributes: [String] = []
        @Option(help: "The channel, e.g. web.") var channel = ""

        func validate() throws {
            for attribute in attributes where !attribute.contains("=") {
                throw ValidationError("--attribute takes key=value, got '\(attribute)'")
            }
        }

        func run() async throws {
            var map: [String: String] = [:]
            for attribute in attributes {
                let parts = attribute.split(separator: "=", maxSplits: 1)
                map[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
            }
            try await global.run { client in
                Output.print(try await client.sessions.createSession(CreateSessionRequest(userID: user, attributes: map, channel: channel)), format: global.output)
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a session.", discussion: "Example: switchboard-cli session get s-01jf...")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The session's id.") var session: String

        func run() async throws {
            try await global.run { client in
                Output.print(try await client.sessions.getSession(GetSessionRequest(sessionID: session)), format: global.output)
            }
        }
    }

    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send a message as the user.", discussion: "Example: switchboard-cli session send s-01jf... \"My order is late\"")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The session's id.") var session: String
        @Argument(help: "The text.") var text: String

        func run() async throws {
            try await global.run { client in
                Output.print(try await client.sessions.sendUserMessage(SendUserMessageRequest(sessionID: session, text: text)), format: global.output)
            }
        }
    }

    struct RequestAgent: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "request-agent", abstract: "Ask for a human agent.", discussion: "Example: switchboard-cli session request-agent s-01jf... --group billing")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The session's id.") var session: String
        @Option(help: "The group the user chose.") var group = ""

        func run() async throws {
            try await global.run { client in
                Output.print(try await client.sessions.requestAgent(RequestAgentRequest(sessionID: session, groupID: group)), format: global.output)
            }
        }
    }

    struct Messages: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the transcript.", discussion: "Example: switchboard-cli session messages s-01jf... --after 3")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The session's id.") var session: String
        @Option(help: "Only messages after this sequence number.") var after: Int64 = 0
        @Option(help: "At most this many (1..1000).") var limit: UInt32 = 100

        func run() async throws {
            try await global.run { client in
                let page = try await client.sessions.listMessages(ListMessagesRequest(sessionID: session, afterSequence: after, limit: limit))
                Output.print(list: page.messages, response: page, columns: ["sequence", "sender", "agentId", "text"], format: global.output)
            }
        }
    }

    struct Position: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the place in the queue.", discussion: "Example: switchboard-cli session position s-01jf...")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The session's id.") var session: String

        func run() async throws {
            try await global.run { client in
                Output.print(try await client.sessions.getQueuePosition(GetQueuePositionRequest(sessionID: session)), format: global.output)
            }
        }
    }

    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close the session as the user.", discussion: "Example: switchboard-cli session close s-01jf...")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The session's id.") var session: String

        func run() async throws {
            try await global.run { client in
                Output.print(try await client.sessions.closeSession(CloseSessionRequest(sessionID: session)), format: global.output)
            }
        }
    }

    struct Rate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rate the session (1..5).", discussion: "Example: switchboard-cli session rate s-01jf... 5 --comment \"quick and kind\"")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The session's id.") var session: String
        @Argument(help: "1 (worst) to 5 (best).") var score: UInt32
        @Option(help: "A comment.") var comment = ""

        func run() async throws {
            try await global.run { client in
                Output.print(try await client.sessions.submitRating(SubmitRatingRequest(sessionID: session, score: score, comment: comment)), format: global.output)
            }
        }
    }

    struct Groups: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the user's group menu.", discussion: "Example: switchboard-cli session groups")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await global.run { client in
                let menu = try await client.sessions.listGroups(ListSessionGroupsRequest())
                Output.print(list: menu.groups, response: menu, columns: ["id", "name", "available"], format: global.output)
            }
        }
    }
}

// MARK: Agent desks

struct DeskCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "desk", abstract: "Act as an agent desk on behalf of an agent.",
        subcommands: [Accept.self, Send.self, Close.self, Transfer.self, Invite.self, Sessions.self]
    )

    struct Accept: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Accept an offered session (manual mode).", discussion: "Example: switchboard-cli desk accept alice s-01jf...")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The agent.") var agent: String
        @Argument(help: "The session.") var session: String

        func run() async throws {
            try await global.run { client in
                Output.print(try await client.agents.acceptSession(AgentSessionRequest(agentID: agent, sessionID: session)), format: global.output)
            }
        }
    }

    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send a message as the agent.", discussion: "Example: switchboard-cli desk send alice s-01jf... \"Hello, how can I help?\"")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The agent.") var agent: String
        @Argument(help: "The session.") var session: String
        @Argument(help: "The text.") var text: String

        func run() async throws {
            try await global.run { client in
                Output.print(try await client.agents.sendAgentMessage(SendAgentMessageRequest(agentID: agent, sessionID: session, text: text)), format: global.output)
            }
        }
    }

    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close a session as the agent.", discussion: "Example: switchboard-cli desk close alice s-01jf...")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The agent.") var agent: String
        @Argument(help: "The session.") var session: String

        func run() async throws {
            try await global.run { client in
                Output.print(try await client.agents.closeSession(AgentSessionRequest(agentID: agent, sessionID: session)), format: global.output)
            }
        }
    }

    struct Transfer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Transfer a session to an agent or a group.", discussion: "Example: switchboard-cli desk transfer alice s-01jf... --to-group billing")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The agent.") var agent: String
        @Argument(help: "The session.") var session: String
        @Option(help: "Another agent.") var toAgent: String?
        @Option(help: "A group.") var toGroup: String?

        func validate() throws {
            guard (toAgent == nil) != (toGroup == nil) else { throw ValidationError("give exactly one of --to-agent and --to-group") }
        }

        func run() async throws {
            let target: TransferSessionRequest.Target = toAgent.map { .toAgentID($0) } ?? .toGroupID(toGroup!)
            try await global.run { client in
                Output.print(try await client.agents.transferSession(TransferSessionRequest(agentID: agent, sessionID: session, target: target)), format: global.output)
            }
        }
    }

    struct Invite: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Invite the user to rate.", discussion: "Example: switchboard-cli desk invite alice s-01jf...")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The agent.") var agent: String
        @Argument(help: "The session.") var session: String

        func run() async throws {
            try await global.run { client in
                Output.print(try await client.agents.inviteRating(AgentSessionRequest(agentID: agent, sessionID: session)), format: global.output)
            }
        }
    }

    struct Sessions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the agent's open sessions.", discussion: "Example: switchboard-cli desk sessions alice")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The agent.") var agent: String

        func run() async throws {
            try await global.run { client in
                let list = try await client.agents.listAgentSessions(ListAgentSessionsRequest(agentID: agent))
                Output.print(list: list.sessions, response: list, columns: ["id", "userId", "state", "groupId"], format: global.output)
            }
        }
    }
}

// MARK: Watch

struct WatchCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch", abstract: "Print events live until interrupted; resumes after a reconnect.",
        subcommands: [Session.self, Agent.self]
    )

    struct Session: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Watch a session's events.", discussion: "Example: switchboard-cli watch session s-01jf... --after 0")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The session's id.") var session: String
        @Option(help: "Events after this sequence number.") var after: Int64 = 0
        @Option(help: "Stop after this many events (default: run until interrupted).") var count: Int?

        func run() async throws {
            try await global.run(streaming: true) { client in
                try await Output.print(events: client.watchSession(session, after: after), count: count, format: global.output)
            }
        }
    }

    struct Agent: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Watch an agent's events.", discussion: "Example: switchboard-cli watch agent alice")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The agent's id.") var agent: String
        @Option(help: "Events after this sequence number.") var after: Int64 = 0
        @Option(help: "Stop after this many events (default: run until interrupted).") var count: Int?

        func run() async throws {
            try await global.run(streaming: true) { client in
                try await Output.print(events: client.watchAgent(agent, after: after), count: count, format: global.output)
            }
        }
    }
}

// MARK: Settings

struct SettingsCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "settings", abstract: "Read and change the settings.", subcommands: [Get.self, Set.self, Edit.self])

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change one setting by its dotted path (read, change, write with the version read).",
            discussion: """
                Paths use the JSON names: section.field, e.g. queue.maxSessionsPerAgent,
                serviceMode.mode, prompts.welcome, allocation.hookAddress. The value is JSON when it
                parses as JSON (3, true, "text", ["a","b"], {...}), else a string. Enum values take
                their names (MODE_MANUAL). A concurrent change makes the write fail with ABORTED (110):
                run it again.

                Examples:
                  switchboard-cli settings set queue.maxSessionsPerAgent 3
                  switchboard-cli settings set serviceMode.mode MODE_MANUAL
                  switchboard-cli settings set prompts.welcome "Hi! How can we help?"
                """
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "section.field") var path: String
        @Argument(help: "The new value.") var value: String

        func validate() throws {
            guard path.split(separator: ".").count >= 2 else { throw ValidationError("the path must name a section and a field, e.g. queue.maxSessionsPerAgent") }
        }

        func run() async throws {
            try await global.run { client in
                let document = try await client.settings.getSettings(GetSettingsRequest())
                let current = try JSONEncoder().encode(document.settings ?? Settings())
                guard var tree = try JSONSerialization.jsonObject(with: current) as? [String: Any] else { return }
                let parsed: Any = (try? JSONSerialization.jsonObject(with: Data(value.utf8), options: [.fragmentsAllowed])) ?? value
                let keys = path.split(separator: ".").map(String.init)
                func assign(_ object: [String: Any], _ keys: ArraySlice<String>) -> [String: Any] {
                    var object = object
                    let key = SettingsPath.jsonName(keys.first!)
                    if keys.count == 1 {
                        object[key] = parsed
                    } else {
                        object[key] = assign(object[key] as? [String: Any] ?? [:], keys.dropFirst())
                    }
                    return object
                }
                tree = assign(tree, keys[...])
                let updated: Settings
                do {
                    updated = try JSONDecoder().decode(Settings.self, from: JSONSerialization.data(withJSONObject: tree))
                } catch {
                    throw ValidationError("'\(value)' is not a valid value for \(path): \(error)")
                }
                let section = SettingsPath.jsonName(keys[0])
                var change = Settings()
                switch section {
                case "prompts": change.prompts = updated.prompts
                case "allocation": change.allocation = updated.allocation
                case "serviceMode": change.serviceMode = updated.serviceMode
                case "queue": change.queue = updated.queue
                case "closure": change.closure = updated.closure
                case "workingHours": change.workingHours = updated.workingHours
                case "rating": change.rating = updated.rating
                default: throw ValidationError("unknown section '\(keys[0])'; sections: prompts, allocation, serviceMode, queue, closure, workingHours, rating")
                }
                let result = try await client.settings.updateSettings(UpdateSettingsRequest(expectedVersion: document.version, settings: change))
                switch global.output {
                case .json: print(Output.json(result))
                case .table: print("version  \(result.version)")
                }
            }
        }
    }

    struct Edit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Edit the settings in $VISUAL or $EDITOR, then write them with the version read.",
            discussion: """
                Writes the settings as JSON (the names of 'settings get --output json') to a
                temporary file and opens it in $VISUAL, else $EDITOR, else vi; the variable
                may hold arguments (EDITOR="code --wait"). When the editor exits:
                  - an unchanged or emptied file changes nothing ("settings unchanged", 0);
                  - a file that is not valid settings JSON exits with 64;
                  - else the settings are written with the version read: a bad value
                    fails with INVALID_ARGUMENT (103), a concurrent change with
                    ABORTED (110).
                On a failure the edited file is kept and its path printed: no edit is lost.
                Fields at their zero value (0, false, empty) are left out of the file; add
                them to set them. A field you delete takes its zero value.

                Examples:
                  switchboard-cli settings edit
                  EDITOR=nano switchboard-cli settings edit --server 10.0.0.5:7420
                """
        )
        @OptionGroup var global: GlobalOptions

        /// $VISUAL, else $EDITOR, else vi.
        static func editor(_ environment: [String: String]) -> String {
            for name in ["VISUAL", "EDITOR"] {
                if let value = environment[name], !value.trimmingCharacters(in: .whitespaces).isEmpty { return value }
            }
            return "vi"
        }

        static func fail(_ message: String, _ code: Int32) -> ExitCode {
            FileHandle.standardError.write(Data("error: \(message)\n".utf8))
            return ExitCode(code)
        }

        func run() async throws {
            try await global.run { client in
                let document = try await client.settings.getSettings(GetSettingsRequest())
                let original = document.settings ?? Settings()
                let text = Output.json(original) + "\n"
                let file = FileManager.default.temporaryDirectory
                    .appendingPathComponent("switchboard-settings-\(UUID().uuidString.prefix(8).lowercased()).json")
                try Data(text.utf8).write(to: file)
                try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)

                // Through the shell, so that the variable may hold arguments; the file is "$1".
                let editor = Self.editor(ProcessInfo.processInfo.environment)
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/bin/sh")
                process.arguments = ["-c", "\(editor) \"$1\"", "switchboard-cli", file.path]
                do {
                    try process.run()
                } catch {
                    throw Self.fail("cannot run the editor '\(editor)': \(error)", 1)
                }
                process.waitUntilExit()
                guard process.terminationReason == .exit, process.terminationStatus == 0 else {
                    throw Self.fail("the editor '\(editor)' failed (status \(process.terminationStatus)); nothing was changed; the file is kept: \(file.path)", 1)
                }

                let edited = try Data(contentsOf: file)
                let decoded = Result { try JSONDecoder().decode(Settings.self, from: edited) }
                let emptied = String(decoding: edited, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
                if edited == Data(text.utf8) || emptied || (try? decoded.get()) == original {
                    try? FileManager.default.removeItem(at: file)
                    print("settings unchanged")
                    return
                }
                let settings: Settings
                do {
                    settings = try decoded.get()
                } catch {
                    throw Self.fail("the edited file is not valid settings JSON: \(Self.describe(error, in: edited))\nyour edits are kept in \(file.path)", ExitCode.validationFailure.rawValue)
                }
                if let unknown = Self.unknownFields(edited: edited, decoded: settings).first {
                    throw Self.fail("the edited file has an unknown field '\(unknown)'\nyour edits are kept in \(file.path)", ExitCode.validationFailure.rawValue)
                }
                let result: SettingsDocument
                do {
                    result = try await client.settings.updateSettings(UpdateSettingsRequest(expectedVersion: document.version, settings: settings))
                } catch let error as RPCError {
                    var message = "error: \(error.code): \(error.message)\n"
                    message += "your edits are kept in \(file.path)\n"
                    FileHandle.standardError.write(Data(message.utf8))
                    throw ExitCode(Int32(100 + error.code.rawValue))
                }
                try? FileManager.default.removeItem(at: file)
                switch global.output {
                case .json: print(Output.json(result))
                case .table: print("version  \(result.version)")
                }
            }
        }

        /// Paths of the edited file's fields that decoding dropped (a misspelt name): in the
        /// edited JSON with a non-zero value, but not in the decoded settings' JSON.
        static func unknownFields(edited: Data, decoded: Settings) -> [String] {
            guard let mine = try? JSONSerialization.jsonObject(with: edited),
                  let theirs = try? JSONSerialization.jsonObject(with: Data(Output.json(decoded).utf8)) else { return [] }
            func isZero(_ value: Any) -> Bool {
                switch value {
                case is NSNull: true
                case let number as NSNumber: number.doubleValue == 0
                case let string as String: string.isEmpty || string == "0"
                case let array as [Any]: array.isEmpty
                case let object as [String: Any]: object.values.allSatisfy(isZero)
                default: false
                }
            }
            func walk(_ mine: Any, _ theirs: Any?, _ path: String) -> [String] {
                if let object = mine as? [String: Any] {
                    let known = theirs as? [String: Any] ?? [:]
                    return object.keys.sorted().flatMap { key -> [String] in
                        let field = path.isEmpty ? key : "\(path).\(key)"
                        guard let match = known[key] ?? known[SettingsPath.jsonName(key)] else {
                            return isZero(object[key]!) ? [] : [field]
                        }
                        return walk(object[key]!, match, field)
                    }
                }
                if let array = mine as? [Any], let known = theirs as? [Any], array.count == known.count {
                    return zip(array, known).enumerated().flatMap { walk($1.0, $1.1, "\(path)[\($0)]") }
                }
                return []
            }
            return walk(mine, theirs, "")
        }

        /// A decoding error in a sentence: what was wrong and where.
        static func describe(_ error: any Error, in data: Data) -> String {
            // JSONDecoder does not say where the syntax is broken; JSONSerialization does.
            do {
                _ = try JSONSerialization.jsonObject(with: data)
            } catch {
                let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
                if let range = detail.range(of: #"character \d+"#, options: .regularExpression),
                   let offset = Int(detail[range].dropFirst("character ".count)) {
                    let line = data.prefix(offset).reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
                    return "\(detail.trimmingCharacters(in: CharacterSet(charactersIn: "."))) (line \(line))"
                }
                return detail
            }
            func path(_ keys: [any CodingKey]) -> String {
                keys.isEmpty ? "the top level" : keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            }
            switch error as? DecodingError {
            case .dataCorrupted(let context):
                let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
                return "\(context.debugDescription)\(underlying.map { " (\($0))" } ?? "") at \(path(context.codingPath))"
            case .typeMismatch(_, let context), .valueNotFound(_, let context):
                return "\(context.debugDescription) at \(path(context.codingPath))"
            case .keyNotFound(let key, let context):
                return "missing '\(key.stringValue)' at \(path(context.codingPath))"
            default:
                return "\(error)"
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the settings and their version.", discussion: "Example: switchboard-cli settings get --output json")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await global.run { client in
                let document = try await client.settings.getSettings(GetSettingsRequest())
                switch global.output {
                case .json: print(Output.json(document))
                case .table:
                    print("version  \(document.version)")
                    if let settings = document.settings {
                        for (section, fields) in Output.object(settings).sorted(by: { $0.key < $1.key }) {
                            print("\(section)  \(fields.text)")
                        }
                    }
                }
            }
        }
    }
}
