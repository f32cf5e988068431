public import Foundation

/// Runs a program to its end and returns its exit status and combined output. The output is read
/// once the program exits, so it must fit the pipe buffer (64 KiB): fine for the short programs
/// the tests run.
public func runProgram(
    _ executable: URL, arguments: [String], environment: [String: String]? = nil,
    directory: URL? = nil
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
        } catch {
            continuation.resume(throwing: error)
        }
    }
}
