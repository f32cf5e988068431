import Foundation
import SwitchboardServer
import SwitchboardTestSupport
import Testing

/// Runs the command-line walkthrough of README.md against a server, so the README cannot rot.
@Suite("README walkthrough")
struct ReadmeTests {
    /// A command of the walkthrough and the lines its output must contain.
    struct Step: CustomStringConvertible {
        var line: String
        var expected: [String] = []
        var description: String { line }
    }

    static let startMarker = "<!-- The sh blocks from here to the end marker run in CI"
    static let endMarker = "<!-- end of the walkthrough -->"

    /// The commands of every sh block between the markers, each with the `#` lines under it.
    static func walkthrough() throws -> [Step] {
        let readme = try String(contentsOf: repository.appendingPathComponent("README.md"), encoding: .utf8)
        guard let start = readme.range(of: startMarker), let end = readme.range(of: endMarker, range: start.upperBound..<readme.endIndex) else {
            return []
        }
        var steps: [Step] = []
        for block in readme[start.upperBound..<end.lowerBound].components(separatedBy: "```sh\n").dropFirst() {
            for raw in (block.components(separatedBy: "```").first ?? "").split(separator: "\n") {
                let line = raw.trimmingCharacters(in: .whitespaces)
                if line.hasPrefix("#") {
                    steps[steps.count - 1].expected.append(String(line.dropFirst()).trimmingCharacters(in: .whitespaces))
                } else if !line.isEmpty {
                    steps.append(Step(line: withoutComment(line)))
                }
            }
        }
        return steps
    }

    /// A shell line without its trailing `# comment`.
    static func withoutComment(_ line: String) -> String {
        var quoted = false
        var previous: Character = " "
        for index in line.indices {
            let character = line[index]
            if character == "\"" { quoted.toggle() }
            if character == "#" && !quoted && previous == " " { return line[..<index].trimmingCharacters(in: .whitespaces) }
            previous = character
        }
        return line
    }

    /// Splits a shell line into words, honoring double quotes.
    static func words(_ line: String) -> [String] {
        var words: [String] = []
        var current = ""
        var quoted = false
        for character in line {
            if character == "\"" {
                quoted.toggle()
            } else if character == " " && !quoted {
                if !current.isEmpty { words.append(current) }
                current = ""
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    /// Runs of spaces as one, so that a README line matches a table whatever its column widths.
    static func collapsed(_ text: String) -> String {
        text.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    /// Whether `output` holds `expected`: each of its parts between "..." on one output line,
    /// in order.
    static func contains(_ output: String, _ expected: String) -> Bool {
        let parts = expected.components(separatedBy: "...").map { collapsed($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return output.split(separator: "\n").contains { line in
            var rest = Substring(collapsed(String(line)))
            for part in parts {
                guard let found = rest.range(of: part) else { return false }
                rest = rest[found.upperBound...]
            }
            return true
        }
    }

    /// Starts a program in the background and waits for the example hook's `READY host:port`
    /// line (its port, as `--port 0` picks a free one).
    static func startInBackground(_ executable: URL, arguments: [String]) throws -> (Process, port: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // A program that never gets ready is ended, so that reading its output ends too.
        let ready = Flag()
        DispatchQueue.global().asyncAfter(deadline: .now() + 60) { [process] in
            if !ready.isSet && process.isRunning { process.terminate() }
        }
        var text = ""
        while true {
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("READY ") }), let port = line.split(separator: ":").last {
                ready.set()
                return (process, String(port))
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }  // it exited
            text += String(decoding: chunk, as: UTF8.self)
        }
        process.terminate()
        process.waitUntilExit()
        throw ReadmeError("\(executable.lastPathComponent) did not print READY:\n\(text)")
    }

    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        var isSet: Bool { lock.withLock { value } }
        func set() { lock.withLock { value = true } }
    }

    struct ReadmeError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    @Test("every command of the walkthrough succeeds and prints what the README shows")
    func walkthroughRuns() async throws {
        let steps = try Self.walkthrough()
        try #require(steps.count >= 30, "the README's walkthrough was not found")
        #expect(steps.first?.line.hasPrefix("scripts/serve ") == true, "the walkthrough starts the server first")
        #expect(steps.contains { !$0.expected.isEmpty })
        let binaries = repository.appendingPathComponent(".build/debug")
        var background: [Process] = []
        defer {
            for process in background where process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
        }
        // The real server's hook client, so that the business-server policy works.
        try await withTestServer(hook: NetworkAllocationHook()) { server in
            var sessionID = ""
            // README ports and the free ones the test uses instead.
            var ports: [String: String] = [:]
            func substituted(_ word: String) -> String {
                var word = word.replacingOccurrences(of: "<session-id>", with: sessionID)
                for (readme, actual) in ports { word = word.replacingOccurrences(of: ":\(readme)", with: ":\(actual)") }
                return word
            }
            for step in steps {
                var words = Self.words(step.line)
                if words.first == "scripts/serve" { continue }  // the test server stands in for it
                let inBackground = words.last == "&"
                if inBackground { words.removeLast() }
                guard words.count >= 3, words[0] == "swift", words[1] == "run" else {
                    Issue.record("the test does not know how to run this README line: \(step.line)")
                    continue
                }
                let executable = binaries.appendingPathComponent(words[2])
                try #require(FileManager.default.isExecutableFile(atPath: executable.path), "build the package first (\(words[2]))")
                var arguments = words.dropFirst(3).map(substituted)
                if inBackground {
                    // `--port N` becomes `--port 0`; later lines' `:N` become the port it picked.
                    let index = try #require(arguments.firstIndex(of: "--port"), "a background line needs --port: \(step.line)")
                    let readmePort = arguments[index + 1]
                    arguments[index + 1] = "0"
                    let (process, port) = try Self.startInBackground(executable, arguments: arguments)
                    background.append(process)
                    ports[readmePort] = port
                    continue
                }
                if words[2] == "switchboard-cli" { arguments += ["--server", "127.0.0.1:\(server.port)"] }
                let run = try await runProgram(executable, arguments: arguments, timeout: .seconds(30))
                #expect(run.status == 0, "\(step.line)\n\(run.output)")
                if arguments.starts(with: ["session", "create"]) {
                    sessionID = run.output.split(separator: "\n").first { $0.hasPrefix("id ") }
                        .map { String($0.dropFirst(2)).trimmingCharacters(in: .whitespaces) } ?? ""
                    #expect(sessionID.hasPrefix("s-"), "no session id in:\n\(run.output)")
                }
                for expected in step.expected.map(substituted) {
                    #expect(Self.contains(run.output, expected), "\(step.line)\nshould print: \(expected)\nprinted:\n\(run.output)")
                }
            }
        }
    }

    @Test("the expected-output check: runs of spaces and \"...\"")
    func expectedOutput() {
        let output = "agentId       alice\nmessage   createdAtMs=1 sender=SENDER_USER text=Hi there\n"
        #expect(Self.contains(output, "agentId alice"))
        #expect(Self.contains(output, "message ... sender=SENDER_USER ... text=Hi there"))
        #expect(!Self.contains(output, "agentId bob"))
        #expect(!Self.contains(output, "text=Hi there ... sender=SENDER_USER"))
        #expect(Self.withoutComment(#"swift run x "a # b"   # note"#) == #"swift run x "a # b""#)
    }
}
