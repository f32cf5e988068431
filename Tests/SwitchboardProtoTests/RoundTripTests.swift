import SwitchboardProto
import SwitchboardTesting
import Testing

@Suite("Generated messages round-trip through protobuf-c")
struct RoundTripTests {
    static let full = TestingKitchenSink(
        text: "héllo wörld ✓",
        blob: [0, 1, 2, 255],
        i32: -42,
        i64: .min,
        u32: .max,
        u64: .max,
        s32: -7,
        s64: -9_000_000_000,
        f32: 123,
        f64: 456,
        sf32: -1,
        sf64: -2,
        flag: true,
        real: 1.5,
        precise: -2.25,
        color: .darkBlue,
        nested: .init(name: "n", value: 7),
        texts: ["a", "", "ç"],
        blobs: [[], [1], [2, 3]],
        numbers: [1, -1, .max],
        nesteds: [.init(name: "x", value: 1), .init()],
        colors: [.red, .unspecified, .unrecognized(99)],
        labels: ["k": "v", "empty": ""],
        counters: ["a": 1, "b": -2],
        nestedByName: ["one": .init(name: "1", value: 1)],
        maybeText: "",
        maybeCount: 0,
        choice: .choiceNested(.init(name: "c", value: 3)),
        flags: [true, false, true],
        reals: [0.5, -0.25],
        outside: .init(nested: .init(name: "deep", value: 9)),
        namesByID: [1: "one", -5: "minus five"]
    )

    @Test("every kind of field survives encode then decode")
    func fullMessage() throws {
        let bytes = try Self.full.serializedBytes()
        let decoded = try TestingKitchenSink(serializedBytes: bytes)
        #expect(decoded == Self.full)
    }

    @Test("defaults encode to nothing and decode back")
    func emptyMessage() throws {
        let empty = TestingKitchenSink()
        let bytes = try empty.serializedBytes()
        #expect(bytes.isEmpty)
        #expect(try TestingKitchenSink(serializedBytes: bytes) == empty)
    }

    @Test("optional fields keep presence, including zero values", arguments: [
        TestingKitchenSink(maybeText: nil, maybeCount: nil),
        TestingKitchenSink(maybeText: "", maybeCount: 0),
        TestingKitchenSink(maybeText: "x", maybeCount: -3),
    ])
    func presence(message: TestingKitchenSink) throws {
        let decoded = try TestingKitchenSink(serializedBytes: try message.serializedBytes())
        #expect(decoded.maybeText == message.maybeText)
        #expect(decoded.maybeCount == message.maybeCount)
    }

    @Test("every oneof case round-trips", arguments: [
        TestingKitchenSink.Choice.choiceText("t"),
        .choiceText(""),
        .choiceNumber(0),
        .choiceNumber(-99),
        .choiceNested(.init()),
        .choiceColor(.red),
    ])
    func oneof(choice: TestingKitchenSink.Choice) throws {
        let message = TestingKitchenSink(choice: choice)
        #expect(try TestingKitchenSink(serializedBytes: try message.serializedBytes()).choice == choice)
    }

    @Test("the envelope messages round-trip")
    func envelope() throws {
        let request = Ttrpc_Request(
            service: "switchboard.v1.Health",
            method: "Check",
            payload: Array(repeating: 7, count: 5000),
            timeoutNano: 1_000_000,
            metadata: [.init(key: "authorization", value: "Bearer x"), .init(key: "a", value: "b")]
        )
        #expect(try Ttrpc_Request(serializedBytes: try request.serializedBytes()) == request)
        let response = Ttrpc_Response(
            status: .init(code: 5, message: "session 'x' not found", details: [.init(typeURL: "t", value: [1])]),
            payload: [1, 2, 3]
        )
        #expect(try Ttrpc_Response(serializedBytes: try response.serializedBytes()) == response)
    }

    @Test("unknown enum values are kept")
    func unknownEnum() throws {
        let message = HealthCheckResponse(status: .unrecognized(42))
        let decoded = try HealthCheckResponse(serializedBytes: try message.serializedBytes())
        #expect(decoded.status == .unrecognized(42))
        #expect(decoded.status.rawValue == 42)
    }
}

@Suite("Strings are never silently altered")
struct StringIntegrityTests {
    /// Encodes field 1 (string) of `HealthCheckRequest` with raw bytes.
    static func request(withServiceBytes bytes: [UInt8]) -> [UInt8] {
        [0x0A, UInt8(bytes.count)] + bytes
    }

    @Test("invalid UTF-8 is rejected, naming the field", arguments: [
        [0xFF] as [UInt8], [0xC3], [0x61, 0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80],
    ])
    func invalidUTF8(bytes: [UInt8]) {
        #expect {
            _ = try HealthCheckRequest(serializedBytes: Self.request(withServiceBytes: bytes))
        } throws: { error in
            (error as? ProtoDecodingError)?.field == "service" && "\(error)".contains("UTF-8")
        }
    }

    @Test("an embedded NUL is rejected, naming the field", arguments: [
        [0x61, 0x00, 0x62] as [UInt8], [0x00], [0x61, 0x00],
    ])
    func embeddedNul(bytes: [UInt8]) {
        #expect {
            _ = try HealthCheckRequest(serializedBytes: Self.request(withServiceBytes: bytes))
        } throws: { error in
            (error as? ProtoDecodingError)?.field == "service" && "\(error)".contains("NUL")
        }
    }

    @Test("a NUL inside a nested message or map names the path")
    func nestedNul() throws {
        var request = Ttrpc_Request(service: "s", method: "m")
        request.metadata = [.init(key: "k", value: "PLACEHOLDER")]
        var bytes = try request.serializedBytes()
        let marker = Array("PLACEHOLDER".utf8)
        let start = try #require(bytes.firstRange(of: marker))
        bytes[start.lowerBound + 3] = 0
        #expect {
            _ = try Ttrpc_Request(serializedBytes: bytes)
        } throws: { error in
            (error as? ProtoDecodingError)?.field == "metadata.value"
        }
    }

    @Test("valid multi-byte UTF-8 passes unchanged")
    func validUTF8() throws {
        let text = "日本語 ✓ emoji 🎧 and combining é"
        let decoded = try HealthCheckRequest(serializedBytes: try HealthCheckRequest(service: text).serializedBytes())
        #expect(decoded.service == text)
        #expect(Array(decoded.service.utf8) == Array(text.utf8))
    }

    @Test("encoding a string with a NUL fails instead of truncating")
    func encodeNul() {
        #expect(throws: ProtoEncodingError(field: "service")) {
            _ = try HealthCheckRequest(service: "a\u{0}b").serializedBytes()
        }
    }

    @Test("garbage is rejected", arguments: [
        [0xFF, 0xFF, 0xFF] as [UInt8], [0x0A, 0x05, 0x61], [0x08], [0x0B, 0x00],
    ])
    func garbage(bytes: [UInt8]) {
        #expect(throws: ProtoDecodingError.self) {
            _ = try Ttrpc_Request(serializedBytes: bytes)
        }
    }

    @Test("a non-canonical encoding without NUL is accepted")
    func nonCanonical() throws {
        // field 4 (timeout_nano) as a 10-byte varint of value 1, longer than needed
        let bytes: [UInt8] = [0x20, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]
        #expect(try Ttrpc_Request(serializedBytes: bytes).timeoutNano == 1)
    }
}
