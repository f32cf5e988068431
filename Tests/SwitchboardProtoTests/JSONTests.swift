import Foundation
@testable import SwitchboardProto
@testable import SwitchboardTesting
import Testing

@Suite("Protobuf JSON")
struct JSONTests {
    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    @Test("the canonical mapping: camelCase names, defaults omitted, 64-bit as strings, enums by name, bytes in base64")
    func mapping() throws {
        let message = TestingKitchenSink(
            text: "hé", blob: [0, 255, 1], i32: 0, i64: -5, u64: .max, flag: true, color: .darkBlue,
            colors: [.red, .unrecognized(9)], labels: ["k": "v"], counters: ["a": 2], maybeText: "", maybeCount: 0,
            choice: .choiceNumber(7), namesByID: [3: "three"]
        )
        #expect(try Self.json(message) == """
            {"blob":"AP8B","choiceNumber":"7","color":"COLOR_DARK_BLUE","colors":["COLOR_RED",9],"counters":{"a":"2"},"flag":true,"i64":"-5","labels":{"k":"v"},"maybeCount":0,"maybeText":"","namesById":{"3":"three"},"text":"hé","u64":"18446744073709551615"}
            """)
        #expect(try Self.json(TestingKitchenSink()) == "{}")
    }

    /// Every generated message with its protobuf name: the production messages and the testing
    /// protos' (generated into SwitchboardTesting).
    static let registry: [(any (ProtoMessage & _ProtoSampled).Type, String)] =
        Array(zip(_ProtoRegistry.messageTypes, _ProtoRegistry.protoNames))
        + Array(zip(_TestingProtoRegistry.messageTypes, _TestingProtoRegistry.protoNames))

    @Test("base64", arguments: [([] as [UInt8], ""), ([102], "Zg=="), ([102, 111], "Zm8="), ([102, 111, 111], "Zm9v"), ([102, 111, 111, 98], "Zm9vYg==")])
    func base64(bytes: [UInt8], expected: String) {
        #expect(_ProtoJSON.base64(bytes) == expected)
    }

    /// Google's Python protobuf writes the same JSON for every generated message (needs protoc and
    /// Python's protobuf, which `scripts/install-deps --test` installs).
    @Test("Google's protobuf writes the same JSON for every message's sample")
    func matchesGoogle() async throws {
        let available = FileManager.default.isExecutableFile(atPath: "/usr/bin/protoc")
        try #require(available || ProcessInfo.processInfo.environment["CI"] == nil, "CI must have protoc")
        guard available else { return }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-json-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        var cases: [[String: String]] = []
        // google.protobuf.Any has a special JSON form that needs the packed message's type; the
        // generated mapping writes its two fields plainly. Only the ttrpc envelope holds it.
        let anyHolders: Set<String> = ["google.protobuf.Any", "google.rpc.Status", "ttrpc.Response"]
        for (type, name) in Self.registry where !anyHolders.contains(name) {
            let (bytes, json) = try Self.sample(type)
            cases.append(["name": name, "bytes": _ProtoJSON.base64(bytes), "json": json])
        }
        try JSONSerialization.data(withJSONObject: cases).write(to: work.appendingPathComponent("cases.json"))
        let script = """
            import base64, glob, importlib, json, os, subprocess, sys
            work, protos = sys.argv[1], sys.argv[2]
            files = [os.path.relpath(p, protos) for p in glob.glob(protos + '/**/*.proto', recursive=True)]
            subprocess.check_call(['protoc', '-I', protos, '-I', '/usr/include', '--python_out=' + work] + files)
            # Regular packages, so that these modules win over an installed switchboard client.
            for top in ('switchboard', 'ttrpc'):
                for folder, _, _ in os.walk(os.path.join(work, top)):
                    open(os.path.join(folder, '__init__.py'), 'a').close()
            sys.path.insert(0, work)
            from google.protobuf import json_format, symbol_database
            for f in files:
                importlib.import_module(f[:-len('.proto')].replace('/', '.') + '_pb2')
            failures = 0
            for case in json.load(open(os.path.join(work, 'cases.json'))):
                cls = symbol_database.Default().GetSymbol(case['name'])
                message = cls.FromString(base64.b64decode(case['bytes']))
                google = json.loads(json_format.MessageToJson(message))
                ours = json.loads(case['json'])
                if google != ours:
                    failures += 1
                    print('MISMATCH', case['name'], '\\n  google:', google, '\\n  ours:  ', ours)
            print('checked', len(json.load(open(os.path.join(work, 'cases.json')))), 'failures', failures)
            sys.exit(1 if failures else 0)
            """
        let scriptURL = work.appendingPathComponent("check.py")
        try script.write(to: scriptURL, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", scriptURL.path, work.path, root.appendingPathComponent("Protos").path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(output)")
        #expect(output.contains("failures 0"), "\(output)")
    }

    @Test("every message reads back the JSON it writes", arguments: Self.registry.map(\.1))
    func roundTrip(name: String) throws {
        let type = try #require(Self.registry.first { $0.1 == name }?.0)
        #expect(try Self.jsonRoundTrip(type), "\(name) changed in a JSON round trip")
    }

    @Test("reading accepts .proto field names, enum numbers, 64-bit integers as numbers, and null")
    func lenientReading() throws {
        let json = #"{"maybe_text": "x", "color": 2, "i64": 12, "u64": "7", "colors": ["COLOR_RED", 1], "nested": null}"#
        let message = try JSONDecoder().decode(TestingKitchenSink.self, from: Data(json.utf8))
        #expect(message == TestingKitchenSink(i64: 12, u64: 7, color: .darkBlue, colors: [.red, .red], maybeText: "x"))
        #expect(throws: DecodingError.self) {
            _ = try JSONDecoder().decode(TestingKitchenSink.self, from: Data(#"{"color": "NO_SUCH_COLOR"}"#.utf8))
        }
    }

    static func jsonRoundTrip<M: ProtoMessage & _ProtoSampled>(_: M.Type) throws -> Bool {
        let sample = M._sample
        return try JSONDecoder().decode(M.self, from: JSONEncoder().encode(sample)) == sample
    }

    static func sample<M: ProtoMessage & _ProtoSampled>(_: M.Type) throws -> ([UInt8], String) {
        let sample = M._sample
        return (try sample.serializedBytes(), try json(sample))
    }
}
