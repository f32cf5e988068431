import NIOCore
import SwitchboardProto
import Testing

@testable import SwitchboardRPC

/// The server's own envelope codec against protobuf-c's `ttrpc.Request` and `ttrpc.Response`.
@Suite("ttrpc envelope")
struct EnvelopeTests {
    /// What the hand-written parser makes of `bytes`, in protobuf-c's terms (`nil`: refused).
    static func parsed(_ bytes: [UInt8]) -> Ttrpc_Request? {
        bytes.withUnsafeBytes { raw in
            guard let envelope = try? RequestEnvelope(raw) else { return nil }
            let reader = WireReader(raw)
            return Ttrpc_Request(
                service: reader.string(envelope.service), method: reader.string(envelope.method),
                payload: reader.bytes(envelope.payload), timeoutNano: envelope.timeoutNano,
                metadata: envelope.metadata.map { Ttrpc_KeyValue(key: $0.key, value: $0.value) }
            )
        }
    }

    static let requests = [
        Ttrpc_Request(),
        Ttrpc_Request(service: "switchboard.v1.Health", method: "Check"),
        Ttrpc_Request(
            service: "s.v1.Ü", method: "Call ✓", payload: Array(0...255) + Array(repeating: 7, count: 300), timeoutNano: 5_000_000_000,
            metadata: [.init(key: "authorization", value: "Bearer x"), .init(key: "request-id", value: "é 1"), .init(key: "", value: "")]
        ),
        Ttrpc_Request(service: "a", method: "b", timeoutNano: -1),
        Ttrpc_Request(service: "a", method: "b", timeoutNano: .max),
    ]

    @Test("requests protobuf-c encodes parse to the same values", arguments: requests)
    func parsesWhatProtobufCEncodes(request: Ttrpc_Request) throws {
        #expect(Self.parsed(try request.serializedBytes()) == request)
    }

    /// Hand-made encodings, valid and not: the parser agrees with protobuf-c on each.
    static let edgeCases: [(String, [UInt8])] = [
        ("empty", []),
        ("service twice: the last is kept", [0x0A, 1, 0x61, 0x12, 1, 0x62, 0x0A, 1, 0x63]),
        ("unknown fields of every wire type skipped", [0x30, 5, 0x39] + Array(repeating: 0, count: 8) + [0x42, 2, 1, 2, 0x4D, 0, 0, 0, 0, 0x0A, 1, 0x61]),
        ("a truncated varint", [0x20, 0x80]),
        ("a varint of 11 bytes", [0x20] + Array(repeating: 0x80, count: 10) + [0x01]),
        ("a length past the end", [0x0A, 5, 0x61]),
        ("service as a varint", [0x08, 1]),
        ("timeout as bytes", [0x22, 1, 0]),
        ("a group", [0x33, 0x34]),
        ("wire type 7", [0x0F]),
        ("field number 0", [0x02, 0]),
        ("invalid UTF-8 in the method", [0x12, 2, 0xC3, 0x28]),
        ("a NUL in the service", [0x0A, 3, 0x61, 0, 0x62]),
        ("a NUL in a metadata key", [0x2A, 5, 0x0A, 3, 0x6B, 0, 0x6B]),
        ("metadata with an unknown field", [0x2A, 7, 0x0A, 1, 0x6B, 0x18, 1, 0x12, 0]),
        ("truncated metadata", [0x2A, 4, 0x0A, 5, 0x6B, 0x6B]),
        ("payload empty but present", [0x1A, 0, 0x0A, 1, 0x61]),
    ]

    @Test("hand-made encodings, valid and not, are taken or refused as protobuf-c does", arguments: edgeCases.indices)
    func agreesWithProtobufC(index: Int) {
        let (name, bytes) = Self.edgeCases[index]
        let reference = try? Ttrpc_Request(serializedBytes: bytes)
        #expect(Self.parsed(bytes) == reference, "\(name): protobuf-c says \(String(describing: reference))")
    }

    @Test("a refused string names its field")
    func namesTheField() {
        #expect(throws: ProtoDecodingError(field: "method", reason: "holds invalid UTF-8")) {
            try [UInt8]([0x12, 2, 0xC3, 0x28]).withUnsafeBytes { try RequestEnvelope($0) }
        }
        #expect(throws: ProtoDecodingError(field: "metadata.key", reason: "holds a NUL byte")) {
            try [UInt8]([0x2A, 5, 0x0A, 3, 0x6B, 0, 0x6B]).withUnsafeBytes { try RequestEnvelope($0) }
        }
    }

    static let responses: [([UInt8], RPCError?)] = [
        ([], nil),
        ([1, 2, 3], nil),
        (Array(repeating: 9, count: 70_000), nil),
        ([1, 2, 3], RPCError(code: .notFound, message: "session 's-1' not found")),
        ([], RPCError(code: .cancelled, message: "")),
        ([], RPCError(code: .internal, message: String(repeating: "é", count: 200))),
        ([], RPCError(code: .invalidArgument, message: "a\u{0}b")),
    ]

    @Test("responses are the bytes protobuf-c makes", arguments: responses.indices)
    func responseBytes(index: Int) throws {
        let (payload, error) = Self.responses[index]
        var buffer = ByteBuffer()
        buffer.writeResponseFrame(streamID: 7, payload: payload, error: error)
        var message = error?.message ?? ""
        if message.utf8.contains(0) { message = message.replacing("\u{0}", with: "\\0") }
        let reference = try Ttrpc_Response(
            status: Google_Rpc_Status(code: Int32(error?.code.rawValue ?? 0), message: message),
            payload: error == nil ? payload : []
        ).serializedBytes()
        var expected = ByteBuffer()
        expected.writeFrameHeader(FrameHeader(length: UInt32(reference.count), streamID: 7, type: .response, flags: []))
        expected.writeBytes(reference)
        #expect(buffer == expected)
    }
}
