public import NIOCore

/// The kind of a ttrpc frame (its message type byte).
public struct FrameType: Hashable, Sendable, CustomStringConvertible {
    /// The wire value.
    public let rawValue: UInt8

    /// Creates a type from its wire value; unknown types are kept (and ignored by peers).
    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// Starts a stream: carries a `ttrpc.Request`.
    public static let request = FrameType(rawValue: 1)
    /// Ends a stream: carries a `ttrpc.Response`.
    public static let response = FrameType(rawValue: 2)
    /// Stream data: carries a bare message of a streaming call.
    public static let data = FrameType(rawValue: 3)

    /// `request`, `response`, `data` or `type(<n>)`.
    public var description: String {
        switch rawValue {
        case 1: "request"
        case 2: "response"
        case 3: "data"
        default: "type(\(rawValue))"
        }
    }
}

/// The flags byte of a ttrpc frame.
public struct FrameFlags: OptionSet, Hashable, Sendable {
    /// The wire value.
    public let rawValue: UInt8

    /// Creates flags from their wire value.
    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// On a request: non-unary, the client sends no data. On data: the sender's last frame.
    public static let remoteClosed = FrameFlags(rawValue: 0x01)
    /// On a request: non-unary, the client still sends data (client streaming; not served here).
    public static let remoteOpen = FrameFlags(rawValue: 0x02)
    /// On data: the frame carries no message (an end-of-stream marker).
    public static let noData = FrameFlags(rawValue: 0x04)
}

/// The 10-byte header that precedes every ttrpc frame's data.
///
/// ```
///  +----------------+----------------+--------+--------+----------------...
///  | length u32 BE  | stream id u32  | type u8| flags u8| data (length bytes)
///  +----------------+----------------+--------+--------+----------------...
/// ```
/// `length` counts the data only. Its first byte is reserved and must be 0, so no frame can
/// announce more than 16 MiB - 1 bytes.
public struct FrameHeader: Hashable, Sendable {
    /// The size of the header on the wire.
    public static let size = 10

    /// The number of data bytes after the header.
    public var length: UInt32
    /// The stream: odd for client-initiated streams.
    public var streamID: UInt32
    /// The kind of frame.
    public var type: FrameType
    /// The flags, whose meaning depends on `type`.
    public var flags: FrameFlags

    /// Creates a header.
    public init(length: UInt32, streamID: UInt32, type: FrameType, flags: FrameFlags) {
        self.length = length
        self.streamID = streamID
        self.type = type
        self.flags = flags
    }
}

/// One ttrpc frame: its header and its data.
public struct Frame: Sendable, Equatable {
    /// The header; `header.length` equals `data.readableBytes`.
    public var header: FrameHeader
    /// The data.
    public var data: ByteBuffer

    /// Creates a frame.
    public init(header: FrameHeader, data: ByteBuffer) {
        self.header = header
        self.data = data
    }
}

extension ByteBuffer {
    /// Writes a frame header.
    @inlinable
    public mutating func writeFrameHeader(_ header: FrameHeader) {
        writeMultipleIntegers(header.length, header.streamID, header.type.rawValue, header.flags.rawValue)
    }

    /// Writes a whole frame whose data is `encode`'s output, filling in the length afterwards.
    @inlinable
    mutating func writeFrame(
        streamID: UInt32, type: FrameType, flags: FrameFlags, _ encode: (inout ByteBuffer) throws -> Void
    ) rethrows {
        let start = writerIndex
        writeFrameHeader(FrameHeader(length: 0, streamID: streamID, type: type, flags: flags))
        try encode(&self)
        setInteger(UInt32(writerIndex - start - FrameHeader.size), at: start)
    }
}
