#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a fuzz target's test function: under libFuzzer when built by `scripts/fuzz`
/// (`-sanitize=fuzzer -DFUZZING`), otherwise once over each corpus file (a regression check that
/// a plain `swift build` also builds).
///
/// The test function gets one input and must trap on a finding (`precondition`, `fatalError`);
/// returning means the input passed.
public enum FuzzDriver {
    nonisolated(unsafe) private static var test: ((UnsafeRawBufferPointer) -> Void)?

    /// Runs `test`, never returns. `name` names the corpus directory `Fuzz/corpus/<name>` that a
    /// plain build replays when given no paths.
    public static func main(_ name: String, _ test: @escaping (UnsafeRawBufferPointer) -> Void) -> Never {
        Self.test = test
        #if FUZZING
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput))
        #else
        var paths = Array(CommandLine.arguments.dropFirst()).filter { !$0.hasPrefix("-") }
        if paths.isEmpty { paths = ["Fuzz/corpus/\(name)"] }
        var count = 0
        for path in paths {
            for file in files(at: path) {
                guard let bytes = read(file) else {
                    print("\(name): cannot read \(file)")
                    exit(2)
                }
                bytes.withUnsafeBytes { test($0) }
                count += 1
            }
        }
        print("\(name): \(count) inputs replayed, no failures (built without libFuzzer: replay only)")
        exit(0)
        #endif
    }

    static func runOne(_ input: UnsafeRawBufferPointer) {
        guard let test else { fatalError("the fuzz target's main did not run FuzzDriver.main") }
        test(input)
    }

    /// The regular files at `path`: itself, or (for a directory) the files in it, sorted.
    static func files(at path: String) -> [String] {
        guard let directory = opendir(path) else { return [path] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if !name.hasPrefix(".") { names.append("\(path)/\(name)") }
        }
        return names.sorted().flatMap { files(at: $0) }
    }

    static func read(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            bytes += chunk[0..<count]
            if count < chunk.count { break }
        }
        return bytes
    }
}

#if FUZZING
/// The test function as libFuzzer's own `main` would call it. The linker pulls that `main`'s
/// object in, so the symbol must exist; the program's `main` is still `<Module>_main` (SwiftPM
/// links executables with `--defsym main=<Module>_main`), which runs the driver below.
@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FuzzDriver.runOne(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

/// libFuzzer's entry point for programs with their own `main` (SwiftPM renames an executable's
/// `main` to `<Module>_main`, so libFuzzer's own `main` is not the one that runs).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32
#endif
