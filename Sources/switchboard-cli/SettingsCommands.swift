import ArgumentParser
import Foundation
import SwitchboardClient

/// `settings ...`: SettingsService.
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
                    var message = "error: \(GlobalOptions.describe(error))\n"
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

/// Names in settings paths: snake_case is accepted for the JSON's lowerCamelCase.
enum SettingsPath {
    static func jsonName(_ name: String) -> String {
        guard name.contains("_") else { return name }
        let parts = name.split(separator: "_")
        return String(parts[0]) + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }
}
