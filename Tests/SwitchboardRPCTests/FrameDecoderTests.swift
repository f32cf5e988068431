import NIOCore
import SwitchboardRPC
import Testing

@Suite("Frame decoder")
struct FrameDecoderTests {
    static func frame(streamID: UInt32, type: UInt8 = 1, flags: UInt8 = 0, data: [UInt8]) -> [UInt8] {
        var buffer = ByteBuffer()
        buffer.writeMultipleIntegers(UInt32(data.count), streamID, type, flags)
        buffer.writeBytes(data)
        return Array(buffer.readableBytesView)
    }

    /// Feeds `bytes` in chunks of `chunk` bytes and collects what the decoder yields.
    static func decodeAll(_ bytes: [UInt8], chunk: Int, limit: Int = 1024) throws -> [InboundFrame] {
        var decoder = FrameDecoder(maximumDataLength: limit)
        var buffer = ByteBuffer()
        var out: [InboundFrame] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + chunk)
            buffer.writeBytes(bytes[offset..<end])
            offset = end
            while let item = try decoder.decode(buffer: &buffer) {
                out.append(item)
            }
            buffer.discardReadBytes()
        }
        return out
    }

    static let stream: [UInt8] =
        frame(streamID: 1, data: Array("hello".utf8))
        + frame(streamID: 3, type: 3, flags: 5, data: [])
        + frame(streamID: 5, type: 2, data: Array(repeating: 0xAB, count: 300))

    @Test("frames split at every size decode the same", arguments: [1, 2, 3, 9, 10, 11, 64, 1000])
    func chunked(chunk: Int) throws {
        let items = try Self.decodeAll(Self.stream, chunk: chunk)
        #expect(items.count == 3)
        guard case .frame(let a) = items[0], case .frame(let b) = items[1], case .frame(let c) = items[2] else {
            Issue.record("expected three frames")
            return
        }
        #expect(a.header == FrameHeader(length: 5, streamID: 1, type: .request, flags: []))
        #expect(Array(a.data.readableBytesView) == Array("hello".utf8))
        #expect(b.header == FrameHeader(length: 0, streamID: 3, type: .data, flags: [.remoteClosed, .noData]))
        #expect(c.header.type == .response)
        #expect(c.data.readableBytes == 300)
    }

    @Test("an oversized frame is reported from its header, skipped, and the next frame decodes", arguments: [1, 7, 4096])
    func oversized(chunk: Int) throws {
        let big = Self.frame(streamID: 7, data: Array(repeating: 1, count: 2000))
        let next = Self.frame(streamID: 9, data: [42])
        let items = try Self.decodeAll(big + next, chunk: chunk, limit: 1024)
        #expect(items.count == 2)
        guard case .oversized(let header) = items[0], case .frame(let frame) = items[1] else {
            Issue.record("expected oversized then a frame")
            return
        }
        #expect(header.streamID == 7)
        #expect(header.length == 2000)
        #expect(frame.header.streamID == 9)
    }

    @Test("an oversized header is reported before its data arrives")
    func oversizedEarly() throws {
        var decoder = FrameDecoder(maximumDataLength: 16)
        var buffer = ByteBuffer(bytes: Self.frame(streamID: 1, data: []).prefix(10))
        buffer.setInteger(UInt32(0x00FF_FFFF), at: 0)  // announces ~16 MiB, none of it sent
        let item = try decoder.decode(buffer: &buffer)
        guard case .oversized(let header)? = item else {
            Issue.record("expected an oversized report")
            return
        }
        #expect(header.length == 0x00FF_FFFF)
        #expect(try decoder.decode(buffer: &buffer) == nil)
    }

    @Test("a non-zero reserved byte is a framing error, seen from the first byte", arguments: [
        [0x01] as [UInt8], [0x80, 0, 0, 0], [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1, 1, 0],
    ])
    func reservedByte(bytes: [UInt8]) {
        var decoder = FrameDecoder(maximumDataLength: 1024)
        var buffer = ByteBuffer(bytes: bytes)
        #expect(throws: FramingError.self) {
            _ = try decoder.decode(buffer: &buffer)
        }
    }

    @Test("a partial header or body waits for more bytes")
    func partial() throws {
        var decoder = FrameDecoder(maximumDataLength: 1024)
        let bytes = Self.frame(streamID: 1, data: [1, 2, 3])
        for cut in 0..<bytes.count {
            var buffer = ByteBuffer(bytes: bytes.prefix(cut))
            #expect(try decoder.decode(buffer: &buffer) == nil)
            #expect(buffer.readerIndex == 0)
        }
    }

    @Test("the limit is capped at what the header can express")
    func cap() {
        #expect(FrameDecoder(maximumDataLength: .max).maximumDataLength == 0x00FF_FFFF)
    }
}
