import Foundation
import SwitchboardTestSupport
import Testing

/// Runs the command-line walkthrough of README.md against a server, so the README cannot rot.
@Suite("README walkthrough")
struct ReadmeTests {
    /// The `swift run switchboard-cli ...` lines of the block after the walkthrough marker.
    static func walkthrough() throws -> [String] {
        let readme = try String(contentsOf: repository.appendingPathComponent("README.md"), encoding: .utf8)
        guard let marker = readme.range(of: "<!-- The lines of this block run in CI") else { return [] }
        let block = readme[marker.upperBound...].components(separatedBy: "```sh\n").dropFirst().first?
            .components(separatedBy: "```").first ?? ""
        return block.split(separator: "\n").map { line in
            String(line.split(separator: "#", maxSplits: 1).first ?? "").trimmingCharacters(in: .whitespaces)
        }.filter { $0.hasPrefix("swift run switchboard-cli ") }
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

    @Test("every command of the walkthrough succeeds")
    func walkthroughRuns() async throws {
        let lines = try Self.walkthrough()
        try #require(lines.count >= 5, "the README's walkthrough block was not found")
        let binary = repository.appendingPathComponent(".build/debug/switchboard-cli")
        try await withTestServer { server in
            var sessionID = ""
            for line in lines {
                var arguments = Array(Self.words(line).dropFirst(3))  // swift run switchboard-cli
                arguments = arguments.map { $0 == "<session-id>" ? sessionID : $0 }
                arguments += ["--server", "127.0.0.1:\(server.port)"]
                let run = try await runProgram(binary, arguments: arguments, timeout: .seconds(30))
                #expect(run.status == 0, "\(line)\n\(run.output)")
                if arguments.starts(with: ["session", "create"]) {
                    sessionID = run.output.split(separator: "\n").first { $0.hasPrefix("id ") }
                        .map { String($0.dropFirst(2)).trimmingCharacters(in: .whitespaces) } ?? ""
                    #expect(sessionID.hasPrefix("s-"), "no session id in:\n\(run.output)")
                }
            }
        }
    }
}
