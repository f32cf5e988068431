import Foundation
import SwitchboardTestSupport
import Testing

/// containerd's Go ttrpc client (Debian's golang-github-containerd-ttrpc-dev 1.1.1) against the
/// Swift server: the program under Tests/Interop/go makes the calls and checks the answers.
@Suite("Interop with Go ttrpc")
struct GoTTRPCInteropTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let goPath = "/usr/share/gocode"
    static let available =
        FileManager.default.isExecutableFile(atPath: "/usr/bin/go")
        && FileManager.default.fileExists(atPath: "\(goPath)/src/github.com/containerd/ttrpc/client.go")

    /// Builds the Go interop client into a temporary folder.
    static func buildClient() throws -> URL {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-interop-\(getpid())")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/go")
        process.arguments = ["build", "-o", output.path, "switchboard-interop"]
        process.currentDirectoryURL = repository
        var environment = ProcessInfo.processInfo.environment
        environment["GO111MODULE"] = "off"
        environment["GOPATH"] = "\(repository.path)/Tests/Interop/go:\(goPath)"
        environment["GOFLAGS"] = "-mod="
        if environment["HOME"] == nil { environment["HOME"] = NSTemporaryDirectory() }
        process.environment = environment
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw InteropError(description: "go build failed with status \(process.terminationStatus)")
        }
        return output
    }

    struct InteropError: Error, CustomStringConvertible {
        let description: String
    }

    @Test("Go ttrpc's client calls Health/Check, gets UNIMPLEMENTED and other codes intact")
    func goClient() async throws {
        try #require(
            Self.available || ProcessInfo.processInfo.environment["CI"] == nil,
            "CI must have golang-go and golang-github-containerd-ttrpc-dev (scripts/install-deps installs them)"
        )
        guard Self.available else { return }
        let binary = try Self.buildClient()
        defer { try? FileManager.default.removeItem(at: binary) }
        try await withTestServer { server in
            let process = Process()
            process.executableURL = binary
            process.arguments = ["127.0.0.1:\(server.port)"]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let output = try await Task.detached {
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                return String(decoding: data, as: UTF8.self)
            }.value
            #expect(process.terminationStatus == 0, "interop client output:\n\(output)")
            #expect(output.contains("interop: all checks passed"), "interop client output:\n\(output)")
        }
    }
}
