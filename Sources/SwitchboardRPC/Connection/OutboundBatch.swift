import NIOCore

/// The outbound frames of one connection, batched into one buffer so that many frames cost one
/// socket write; shared by the server's and the client's connection handlers.
///
/// Frames appended while a burst of reads is being handled are flushed once at its end; frames
/// appended at other times (a handler's answer, a new call) once per event loop tick; and in
/// either case at once when ``framesPerFlush`` are waiting, so the peer starts on them while
/// the rest are produced rather than the two sides taking turns.
///
/// The type only decides; its owner performs: it writes ``take()``'s buffer and flushes when a
/// method says so, and schedules the tick when ``append(_:)`` answers ``Flush/onNextTick``.
struct OutboundBatch {
    /// Frames buffered before a flush, even within one read burst or tick. 64 rather than 16:
    /// with containerd's Go client (a syscall per request) at 64 in flight, server CPU per call
    /// 0.96x, and the batching Swift client's calls/s no lower (BENCHMARKS.md).
    static let framesPerFlush = 64
    /// The capacity of a fresh buffer.
    static let bufferCapacity = 4096

    /// What the owner does after appending a frame.
    enum Flush: Equatable {
        /// Nothing yet: a flush is already due (end of the read burst, or a scheduled tick).
        case later
        /// Flush now (``framesPerFlush`` frames are waiting).
        case now
        /// Schedule a flush on the event loop's next tick, then call ``tickFired()``.
        case onNextTick
    }

    private let allocator: ByteBufferAllocator
    private var buffer: ByteBuffer
    private var unflushedFrames = 0
    private var reading = false
    private var flushAtReadEnd = false
    private var tickScheduled = false

    /// Creates an empty batch whose buffers come from `allocator`.
    init(allocator: ByteBufferAllocator) {
        self.allocator = allocator
        self.buffer = allocator.buffer(capacity: Self.bufferCapacity)
    }

    /// Bytes waiting to be written.
    var pendingBytes: Int { buffer.readableBytes }

    /// A burst of reads begins: frames appended from now on wait for ``readCompleted()``.
    mutating func readStarted() {
        reading = true
    }

    /// The burst of reads has ended; `true` when the owner must flush now.
    mutating func readCompleted() -> Bool {
        reading = false
        guard flushAtReadEnd else { return false }
        flushAtReadEnd = false
        return true
    }

    /// Appends one frame, encoded by `encode`, and says when to flush.
    @inline(__always)
    mutating func append(_ encode: (inout ByteBuffer) -> Void) -> Flush {
        encode(&buffer)
        unflushedFrames += 1
        if unflushedFrames >= Self.framesPerFlush {
            return .now
        } else if reading {
            flushAtReadEnd = true
            return .later
        } else if !tickScheduled {
            tickScheduled = true
            return .onNextTick
        }
        return .later
    }

    /// The tick flush scheduled after ``Flush/onNextTick`` is due: the owner flushes now.
    mutating func tickFired() {
        tickScheduled = false
    }

    /// What the owner writes when it flushes: the buffered bytes (`nil` when there are none),
    /// replaced by a fresh buffer, since the channel holds the old one until it is written.
    mutating func take() -> ByteBuffer? {
        unflushedFrames = 0
        guard buffer.readableBytes > 0 else { return nil }
        let frames = buffer
        buffer = allocator.buffer(capacity: Self.bufferCapacity)
        return frames
    }
}
