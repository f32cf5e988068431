import ArgumentParser
import Foundation
import SwitchboardCore
import SwitchboardRPC
import SwitchboardServer

/// What checking a call's API key costs on the event loop, per call.
struct AuthBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auth",
        abstract: "Per-call cost of the authenticator (key lookup, SHA-256, constant-time compare, policy)."
    )

    @Option(help: "Calls measured per case.")
    var calls = 1_000_000
    @Option(help: "File the figures are written to (Markdown).")
    var output = ".build/benchmarks/auth.md"

    func run() throws {
        let now = Timestamp(milliseconds: 1)
        let admin = APIKeys.make(role: .admin, agentID: nil, description: "", now: now)
        let others = (0..<1000).map { _ in APIKeys.make(role: .gateway, agentID: nil, description: "", now: now).record }
        let secured = SwitchboardAuthenticator(keys: APIKeyRing(others + [admin.record]))
        let open = SwitchboardAuthenticator(keys: APIKeyRing())
        let settings = MethodDescriptor(service: "switchboard.v1.SettingsService", method: "GetSettings")
        let health = MethodDescriptor(service: "switchboard.v1.Health", method: "Check")
        let valid: Metadata = ["authorization": "Bearer \(admin.token.text)", "request-id": "r"]
        var wrong = admin.token
        wrong.secret = String(repeating: "0", count: 64)
        let invalid: Metadata = ["authorization": "Bearer \(wrong.text)"]
        let cases: [(String, SwitchboardAuthenticator, MethodDescriptor, Metadata)] = [
            ("no keys exist (loopback default)", open, settings, valid),
            ("Health (open), keys exist", secured, health, [:]),
            ("valid admin key, 1,001 keys", secured, settings, valid),
            ("wrong secret (UNAUTHENTICATED)", secured, settings, invalid),
        ]
        var lines = [
            "# Authentication benchmark", "",
            "`SwitchboardAuthenticator.authenticate` alone, \(calls) calls per case, one thread.", "",
            "| case | ns per call |", "|---|---|",
        ]
        for (name, authenticator, method, metadata) in cases {
            var allowed = 0
            let start = ContinuousClock.now
            for _ in 0..<calls {
                if (try? authenticator.authenticate(method, metadata: metadata)) != nil { allowed += 1 }
            }
            let elapsed = ContinuousClock.now - start
            let nanoseconds = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
            let row = "| \(name) | \(String(format: "%.0f", nanoseconds / Double(calls))) |"
            print(row, "(\(allowed) let in)")
            lines.append(row)
        }
        try FileManager.default.createDirectory(at: URL(fileURLWithPath: output).deletingLastPathComponent(), withIntermediateDirectories: true)
        try (lines.joined(separator: "\n") + "\n").write(toFile: output, atomically: true, encoding: .utf8)
        print("written to \(output)")
    }
}
