public import NIOCore
public import SwitchboardProto

extension ProtoMessage {
    /// Appends the message's protobuf encoding to `buffer`.
    @inlinable
    public func encode(into buffer: inout ByteBuffer) throws(ProtoEncodingError) {
        try encode { size, write in
            guard size > 0 else { return }
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { destination in
                write(destination.baseAddress!)
                return size
            }
        }
    }

    /// Decodes a message from the readable bytes of `buffer`, without copying them.
    @inlinable
    public init(buffer: ByteBuffer) throws(ProtoDecodingError) {
        var decoded: Self?
        var failure: ProtoDecodingError?
        buffer.withUnsafeReadableBytes { bytes in
            do throws(ProtoDecodingError) {
                decoded = try Self(serializedBytes: bytes)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        self = decoded!
    }
}

extension RPCError {
    /// The error a received status stands for, or `nil` for OK.
    init?(status: Google_Rpc_Status?) {
        guard let status, let code = Code(rawValue: Int(status.code)) else { return nil }
        self.init(code: code, message: status.message)
    }
}

extension ByteBuffer {
    /// Writes a `response` frame carrying `payload` (OK) or `error`'s status.
    ///
    /// Encoded here rather than through protobuf-c (the bytes are the same, as the tests check):
    /// field 1, the `google.rpc.Status` (empty for OK, as Go's ttrpc sends it), then field 2,
    /// the payload, straight from the handler's bytes into the frame.
    mutating func writeResponseFrame(streamID: UInt32, payload: [UInt8], error: RPCError?) {
        var message = error?.message ?? ""
        if message.utf8.contains(0) {
            // protobuf-c's strings end at NUL, and clients decode with it: escape it rather than
            // let the message be cut.
            message = message.replacing("\u{0}", with: "\\0")
        }
        let code = UInt64(bitPattern: Int64(error.map { Int32(truncatingIfNeeded: $0.code.rawValue) } ?? 0))
        let messageLength = message.utf8.count
        var status = 0
        if code != 0 { status += 1 + Self.varintSize(code) }
        if messageLength > 0 { status += 1 + Self.varintSize(UInt64(messageLength)) + messageLength }
        let body = error == nil ? payload : []
        var length = 1 + Self.varintSize(UInt64(status)) + status
        if !body.isEmpty { length += 1 + Self.varintSize(UInt64(body.count)) + body.count }
        writeFrameHeader(FrameHeader(length: UInt32(length), streamID: streamID, type: .response, flags: []))
        writeInteger(UInt8(0x0A))
        writeVarint(UInt64(status))
        if code != 0 {
            writeInteger(UInt8(0x08))
            writeVarint(code)
        }
        if messageLength > 0 {
            writeInteger(UInt8(0x12))
            writeVarint(UInt64(messageLength))
            writeString(message)
        }
        if !body.isEmpty {
            writeInteger(UInt8(0x12))
            writeVarint(UInt64(body.count))
            writeBytes(body)
        }
    }

    private static func varintSize(_ value: UInt64) -> Int {
        var size = 1
        var rest = value >> 7
        while rest != 0 {
            size += 1
            rest >>= 7
        }
        return size
    }

    private mutating func writeVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            writeInteger(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        writeInteger(UInt8(rest))
    }
}

/// A `ttrpc.Request` read straight from a frame's bytes, the server's first step of every call.
///
/// The envelope has five fields, so it is parsed here rather than through protobuf-c: no C
/// struct is unpacked and copied, and the service and method stay bytes until the route table
/// has found the registered method (whose names it already holds), so a call's routing makes
/// no strings. It accepts exactly what protobuf-c's `ttrpc.Request` accepts, as the tests and the
/// envelope fuzzer check against it: unknown fields skipped, the last of a repeated singular field
/// kept, a known field with another wire type refused, strings that are valid UTF-8 without NUL.
struct RequestEnvelope {
    /// Where the service's and the method's UTF-8 bytes are in the frame.
    var service: Range<Int> = 0..<0
    var method: Range<Int> = 0..<0
    var payload: Range<Int> = 0..<0
    var timeoutNano: Int64 = 0
    var metadata: [Metadata.Element] = []

    /// Parses `bytes`, a frame's data.
    init(_ bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError) {
        var reader = WireReader(bytes)
        while !reader.isAtEnd {
            let (field, wireType) = try reader.readTag()
            switch field {
            case 1: service = try reader.readString(wireType, "service")
            case 2: method = try reader.readString(wireType, "method")
            case 3: payload = try reader.readLengthDelimited(wireType)
            case 4: timeoutNano = Int64(bitPattern: try reader.readVarint(wireType))
            case 5:
                let entry = try reader.readLengthDelimited(wireType)
                metadata.append(try Self.keyValue(UnsafeRawBufferPointer(rebasing: bytes[entry])))
            default: try reader.skip(wireType)
            }
        }
    }

    private static func keyValue(_ bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError) -> Metadata.Element {
        var reader = WireReader(bytes)
        var key = 0..<0
        var value = 0..<0
        do {
            while !reader.isAtEnd {
                let (field, wireType) = try reader.readTag()
                switch field {
                case 1: key = try reader.readString(wireType, "key")
                case 2: value = try reader.readString(wireType, "value")
                default: try reader.skip(wireType)
                }
            }
        } catch {
            throw error.field.map { ProtoDecodingError(field: "metadata.\($0)", reason: error.reason) } ?? error
        }
        return Metadata.Element(key: reader.string(key), value: reader.string(value))
    }
}

/// Reads protobuf's wire format from a buffer: tags, varints, length-delimited fields.
struct WireReader {
    private let bytes: UnsafeRawBufferPointer
    private var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { offset >= bytes.count }

    static let invalid = ProtoDecodingError(field: nil, reason: "is not a valid protobuf encoding of Ttrpc_Request")

    mutating func readTag() throws(ProtoDecodingError) -> (field: UInt64, wireType: UInt8) {
        let tag = try varint()
        let field = tag >> 3
        guard field > 0, field <= 0x1FFF_FFFF else { throw Self.invalid }
        return (field, UInt8(tag & 7))
    }

    private mutating func varint() throws(ProtoDecodingError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count, shift < 70 {
            let byte = bytes[offset]
            offset += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        throw Self.invalid
    }

    mutating func readVarint(_ wireType: UInt8) throws(ProtoDecodingError) -> UInt64 {
        guard wireType == 0 else { throw Self.invalid }
        return try varint()
    }

    mutating func readLengthDelimited(_ wireType: UInt8) throws(ProtoDecodingError) -> Range<Int> {
        guard wireType == 2 else { throw Self.invalid }
        let length = try varint()
        guard length <= UInt64(bytes.count - offset) else { throw Self.invalid }
        let range = offset..<(offset + Int(length))
        offset = range.upperBound
        return range
    }

    /// A string field: valid UTF-8 with no NUL (protobuf-c's strings end at a NUL).
    mutating func readString(_ wireType: UInt8, _ field: StaticString) throws(ProtoDecodingError) -> Range<Int> {
        let range = try readLengthDelimited(wireType)
        let text = UnsafeRawBufferPointer(rebasing: bytes[range])
        if text.contains(0) {
            throw ProtoDecodingError(field: "\(field)", reason: "holds a NUL byte")
        }
        if !Self.isValidUTF8(text) {
            throw ProtoDecodingError(field: "\(field)", reason: "holds invalid UTF-8")
        }
        return range
    }

    mutating func skip(_ wireType: UInt8) throws(ProtoDecodingError) {
        switch wireType {
        case 0: _ = try varint()
        case 1: try advance(8)
        case 2: _ = try readLengthDelimited(2)
        case 5: try advance(4)
        default: throw Self.invalid  // groups (3, 4) and the undefined 6 and 7
        }
    }

    private mutating func advance(_ count: Int) throws(ProtoDecodingError) {
        guard bytes.count - offset >= count else { throw Self.invalid }
        offset += count
    }

    /// The text at `range` (checked by ``readString(_:_:)``).
    func string(_ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    func bytes(_ range: Range<Int>) -> [UInt8] {
        [UInt8](UnsafeRawBufferPointer(rebasing: bytes[range]))
    }

    func slice(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[range])
    }

    static func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        // ASCII, the common case, without the decoder.
        if !bytes.contains(where: { $0 >= 0x80 }) { return true }
        return String(validating: bytes, as: UTF8.self) != nil
    }
}
