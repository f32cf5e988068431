public import NIOCore

/// What the frame decoder yields: a frame, or the header of a frame too large to accept.
public enum InboundFrame: Sendable, Equatable {
    /// A whole frame.
    case frame(Frame)
    /// A frame whose announced length exceeds the limit. Its data is skipped without being
    /// buffered, so the stream can be answered with `RESOURCE_EXHAUSTED` and the connection kept.
    case oversized(FrameHeader)
}

/// A ttrpc framing violation after which the byte stream cannot be trusted; the connection closes.
public struct FramingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What was wrong.
    public let description: String

    /// The reserved first byte of a frame's length was not 0.
    static func reservedByteSet(_ value: UInt8) -> FramingError {
        FramingError(description: "reserved first byte of a frame header is \(value), must be 0")
    }

    /// A frame began but did not arrive whole within the frame timeout.
    static func slowFrame(_ timeout: TimeAmount) -> FramingError {
        FramingError(description: "a frame did not arrive whole within \(timeout.nanoseconds / 1_000_000) ms of its first byte")
    }
}

/// Splits a ttrpc byte stream into frames.
///
/// ```
///  +----------------+----------------+--------+--------+----------------...
///  | length u32 BE  | stream id u32  | type u8| flags u8| data (length bytes)
///  +----------------+----------------+--------+--------+----------------...
/// ```
/// The decoder never trusts a length: the reserved byte is checked as soon as it arrives (a
/// non-zero byte throws ``FramingError`` and the connection closes), and a length above
/// `maximumDataLength` is reported as ``InboundFrame/oversized(_:)`` before any of its data is
/// buffered; the data is then discarded as it arrives.
public struct FrameDecoder: ByteToMessageDecoder, Sendable {
    public typealias InboundOut = InboundFrame

    private enum State {
        case header
        /// Discarding the data of an oversized frame.
        case skipping(remaining: Int)
    }

    /// The largest data length accepted.
    public let maximumDataLength: Int
    /// How long a frame may take to arrive whole once its first byte has; `nil`: forever.
    public let frameTimeout: TimeAmount?
    private var state = State.header
    private var pendingFrameTimer: Scheduled<Void>?

    /// Creates a decoder; `maximumDataLength` is capped at 16 MiB - 1, what the header can hold.
    /// With `frameTimeout`, a frame that has begun but is not whole after that time is a
    /// ``FramingError`` (fired down the pipeline, which closes the connection).
    public init(maximumDataLength: Int, frameTimeout: TimeAmount? = nil) {
        precondition(maximumDataLength >= 0, "maximumDataLength must not be negative")
        self.maximumDataLength = min(maximumDataLength, 0x00FF_FFFF)
        self.frameTimeout = frameTimeout
    }

    /// Whether the decoder is inside an oversized frame, discarding its data: a frame has begun
    /// even when none of its bytes is buffered.
    var isSkippingData: Bool {
        if case .skipping = state { true } else { false }
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        switch try decode(buffer: &buffer) {
        case .some(let frame):
            // A frame is whole: the next one's clock starts with its first byte.
            pendingFrameTimer?.cancel()
            pendingFrameTimer = nil
            context.fireChannelRead(wrapInboundOut(frame))
            return .continue
        case .none:
            let partial = buffer.readableBytes > 0 || { if case .skipping = state { true } else { false } }()
            if !partial {
                pendingFrameTimer?.cancel()
                pendingFrameTimer = nil
            } else if let frameTimeout, pendingFrameTimer == nil {
                let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
                pendingFrameTimer = context.eventLoop.scheduleTask(in: frameTimeout) {
                    let context = loopBound.value
                    guard context.channel.isActive else { return }
                    context.fireErrorCaught(FramingError.slowFrame(frameTimeout))
                }
            }
            return .needMoreData
        }
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        // A partial frame at the end of the stream is dropped with the connection.
        pendingFrameTimer?.cancel()
        pendingFrameTimer = nil
        while case .some(let frame) = try decode(buffer: &buffer) {
            context.fireChannelRead(wrapInboundOut(frame))
        }
        return .needMoreData
    }

    /// Decodes at most one item from `buffer`; `nil` when more bytes are needed.
    public mutating func decode(buffer: inout ByteBuffer) throws -> InboundFrame? {
        while true {
            switch state {
            case .skipping(let remaining):
                let skipped = min(remaining, buffer.readableBytes)
                buffer.moveReaderIndex(forwardBy: skipped)
                if skipped < remaining {
                    state = .skipping(remaining: remaining - skipped)
                    return nil
                }
                state = .header
            case .header:
                guard let reserved = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else {
                    return nil
                }
                guard reserved == 0 else {
                    throw FramingError.reservedByteSet(reserved)
                }
                guard
                    let (length, streamID, type, flags) = buffer.getMultipleIntegers(
                        at: buffer.readerIndex, as: (UInt32, UInt32, UInt8, UInt8).self
                    )
                else {
                    return nil
                }
                let header = FrameHeader(
                    length: length, streamID: streamID, type: FrameType(rawValue: type),
                    flags: FrameFlags(rawValue: flags)
                )
                if Int(length) > maximumDataLength {
                    buffer.moveReaderIndex(forwardBy: FrameHeader.size)
                    state = .skipping(remaining: Int(length))
                    return .oversized(header)
                }
                guard buffer.readableBytes >= FrameHeader.size + Int(length) else {
                    return nil
                }
                buffer.moveReaderIndex(forwardBy: FrameHeader.size)
                let data = buffer.readSlice(length: Int(length))!
                return .frame(Frame(header: header, data: data))
            }
        }
    }
}
