public import Foundation

/// Runs a program to its end and returns its exit status and combined output. The output is read
/// once the program exits, so it must fit the pipe buffer (64 KiB): fine for the short programs
/// the tests run.
public func runProgram(
    _ executable: URL, arguments: [String], environment: [String: String]? = nil,
    directory: URL? = nil, timeout: Duration = .seconds(120)
) async throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let environment { process.environment = environment }
    if let directory { process.currentDirectoryURL = directory }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    return try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { process in
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            continuation.resume(returning: (process.terminationStatus, String(decoding: data, as: UTF8.self)))
        }
        do {
            try process.run()
            // A program that hangs is ended (SIGTERM), so a broken test fails instead of hanging.
            let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [process] in
                if process.isRunning { process.terminate() }
            }
        } catch {
            continuation.resume(throwing: error)
        }
    }
}
