/// A protobuf message that Switchboard can encode and decode through protobuf-c.
///
/// Every top-level message generated from `Protos/` conforms. Decoding never alters a string: a
/// string field holding invalid UTF-8 or a NUL byte is a ``ProtoDecodingError``, never a truncated
/// or repaired value.
public protocol ProtoMessage: Sendable, Hashable, Codable {
    /// Decodes a message from its protobuf encoding.
    init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError)

    /// Encodes the message: calls `body` once with the encoded size and a function that writes
    /// exactly that many bytes to the memory it is given.
    ///
    /// Not generic over a result, so that callers in generic code pay no runtime generic
    /// metadata lookups; capture what `body` produces instead.
    func encode(_ body: (_ size: Int, _ write: (UnsafeMutableRawPointer) -> Void) -> Void) throws(ProtoEncodingError)
}

extension ProtoMessage {
    /// Decodes a message from its protobuf encoding.
    @inlinable
    public init(serializedBytes bytes: some Collection<UInt8>) throws(ProtoDecodingError) {
        let decoded: Result<Self, ProtoDecodingError>? = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(ProtoDecodingError) in try Self(serializedBytes: UnsafeRawBufferPointer(buffer)) }
        }
        if let decoded {
            self = try decoded.get()
        } else {
            let copy = Array(bytes)
            self = try copy.withUnsafeBytes { raw in
                Result { () throws(ProtoDecodingError) in try Self(serializedBytes: raw) }
            }.get()
        }
    }

    /// The protobuf encoding of the message.
    @inlinable
    public func serializedBytes() throws(ProtoEncodingError) -> [UInt8] {
        var bytes: [UInt8] = []
        try encode { size, write in
            bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
                if size > 0, let base = buffer.baseAddress {
                    write(UnsafeMutableRawPointer(base))
                }
                initialized = size
            }
        }
        return bytes
    }

    /// The number of bytes of the message's protobuf encoding.
    @inlinable
    public func serializedSize() throws(ProtoEncodingError) -> Int {
        var encodedSize = 0
        try encode { size, _ in encodedSize = size }
        return encodedSize
    }
}

/// A failure to decode a protobuf message.
public struct ProtoDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The dotted path of the offending field (`metadata.key`), or `nil` when the encoding as a
    /// whole is invalid.
    public var field: String?

    /// What was wrong, for example `holds invalid UTF-8`.
    public var reason: String

    /// Creates an error.
    public init(field: String?, reason: String) {
        self.field = field
        self.reason = reason
    }

    /// A sentence naming the field and the reason.
    public var description: String {
        if let field {
            return "field '\(field)' \(reason)"
        }
        return reason
    }

    func nested(under parent: String) -> ProtoDecodingError {
        ProtoDecodingError(field: field.map { "\(parent).\($0)" } ?? parent, reason: reason)
    }
}

/// A failure to encode a protobuf message: a string field holds a NUL byte, which protobuf-c's
/// NUL-terminated strings cannot carry.
public struct ProtoEncodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The name of the offending field.
    public var field: String

    /// Creates an error.
    public init(field: String) {
        self.field = field
    }

    /// A sentence naming the field.
    public var description: String {
        "field '\(field)' holds a NUL byte, which cannot be encoded"
    }
}
