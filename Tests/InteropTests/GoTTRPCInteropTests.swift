import Foundation
import SwitchboardTestSupport
import Testing

let repository = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// containerd's Go ttrpc client (Debian's golang-github-containerd-ttrpc-dev 1.1.1) against the
/// Swift server: the program under Tests/Interop/go makes the calls and checks the answers.
@Suite("Interop with Go ttrpc")
struct GoTTRPCInteropTests {
    static let goPath = "/usr/share/gocode"
    static let available =
        FileManager.default.isExecutableFile(atPath: "/usr/bin/go")
        && FileManager.default.fileExists(atPath: "\(goPath)/src/github.com/containerd/ttrpc/client.go")

    /// Builds the Go program `name` of the GOPATH tree `tree` (GOPATH mode, Debian's Go packages)
    /// into a temporary file; `nil` when Go or the ttrpc package is missing outside CI.
    static func build(_ name: String, in tree: String) async throws -> URL? {
        try #require(
            available || ProcessInfo.processInfo.environment["CI"] == nil,
            "CI must have golang-go and golang-github-containerd-ttrpc-dev (scripts/install-deps --test)"
        )
        guard available else { return nil }
        let binary = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-\(name)-\(getpid())-\(UUID().uuidString)")
        var environment = ProcessInfo.processInfo.environment
        environment["GO111MODULE"] = "off"
        environment["GOPATH"] = "\(repository.path)/\(tree):\(goPath)"
        if environment["HOME"] == nil { environment["HOME"] = NSTemporaryDirectory() }
        let build = try await runProgram(
            URL(fileURLWithPath: "/usr/bin/go"), arguments: ["build", "-o", binary.path, name],
            environment: environment, directory: repository
        )
        try #require(build.status == 0, "go build failed:\n\(build.output)")
        return binary
    }

    @Test("Go ttrpc's client calls Health/Check, gets UNIMPLEMENTED and other codes intact")
    func goClient() async throws {
        guard let binary = try await Self.build("switchboard-interop", in: "Tests/Interop/go") else { return }
        defer { try? FileManager.default.removeItem(at: binary) }
        try await withTestServer { server in
            let run = try await runProgram(binary, arguments: ["127.0.0.1:\(server.port)"])
            #expect(run.status == 0, "interop client output:\n\(run.output)")
            #expect(run.output.contains("interop: all checks passed"), "interop client output:\n\(run.output)")
        }
    }
}

/// The benchmarks' load generator on containerd's Go client (Benchmarks/go/src/ttrpc-load) against
/// the Swift server, so that `switchboard-bench go` and `scripts/bench-compare` cannot rot.
@Suite("The Go load generator")
struct GoLoadGeneratorTests {
    @Test("ttrpc-load's bare calls, echoes and full lifecycles all succeed", arguments: ["check", "echo", "lifecycle"])
    func load(mode: String) async throws {
        guard let binary = try await GoTTRPCInteropTests.build("ttrpc-load", in: "Benchmarks/go") else { return }
        defer { try? FileManager.default.removeItem(at: binary) }
        try await withTestServer { server in
            // What a lifecycle needs: agents online with room (the default is 5 sessions each).
            for index in 0..<4 {
                _ = try await server.engine.createAgent(id: "agent-\(index)", displayName: "Agent \(index)", maxSessions: nil)
                _ = try await server.engine.setAgentStatus(id: "agent-\(index)", .online)
            }
            let run = try await runProgram(
                binary, arguments: [mode, "127.0.0.1:\(server.port)", "--in-flight", "8", "--warmup", "0.1", "--duration", "0.4"]
            )
            #expect(run.status == 0, "ttrpc-load output:\n\(run.output)")
            // Whatever the machine's speed: no call failed, and each worker finished at least
            // the unit it was in (how many fell in the measured window depends on the speed).
            struct Figures: Decodable {
                let errors: Int
                let completed: Int
            }
            let line = run.output.split(separator: "\n").last.map(String.init) ?? ""
            let figures = try JSONDecoder().decode(Figures.self, from: Data(line.utf8))
            #expect(figures.errors == 0, "ttrpc-load output:\n\(run.output)")
            #expect(figures.completed >= 8, "ttrpc-load output:\n\(run.output)")
        }
    }
}

/// The standard-library Python example of docs/PROTOCOL.md against the Swift server, so the
/// document cannot rot.
@Suite("Interop with the Python example")
struct PythonExampleTests {
    @Test("docs/examples/health_check.py gets SERVING and UNIMPLEMENTED")
    func pythonExample() async throws {
        let script = repository.appendingPathComponent("docs/examples/health_check.py")
        try await withTestServer { server in
            let run = try await runProgram(
                URL(fileURLWithPath: "/usr/bin/env"), arguments: ["python3", script.path, "127.0.0.1:\(server.port)"]
            )
            #expect(run.status == 0, "output:\n\(run.output)")
            #expect(run.output.contains("Health/Check: SERVING"), "output:\n\(run.output)")
            #expect(run.output.contains("code 12 (UNIMPLEMENTED)"), "output:\n\(run.output)")
        }
    }
}
