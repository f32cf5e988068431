import NIOCore
import Testing

@testable import SwitchboardRPC

@Suite("Outbound batch")
struct OutboundBatchTests {
    private func frame(_ byte: UInt8) -> (inout ByteBuffer) -> Void {
        { $0.writeInteger(byte) }
    }

    @Test("frames written during a read burst are flushed once, at its end")
    func readBurst() {
        var batch = OutboundBatch(allocator: ByteBufferAllocator())
        batch.readStarted()
        let flush = batch.append(frame(1))
        #expect(flush == .later)
        let flush2 = batch.append(frame(2))
        #expect(flush2 == .later)
        let flushes = batch.readCompleted()
        #expect(flushes)
        let frames = batch.take()
        #expect(frames.map { Array($0.readableBytesView) } == [1, 2])
        let frames2 = batch.take()
        #expect(frames2 == nil)
        // A burst without writes flushes nothing.
        batch.readStarted()
        let flushes2 = batch.readCompleted()
        #expect(!flushes2)
    }

    @Test("frames written outside a read ask for one flush on the next tick")
    func tick() {
        var batch = OutboundBatch(allocator: ByteBufferAllocator())
        let flush = batch.append(frame(1))
        #expect(flush == .onNextTick)
        let flush2 = batch.append(frame(2))
        #expect(flush2 == .later)
        batch.tickFired()
        let frames = batch.take()
        #expect(frames?.readableBytes == 2)
        let flush3 = batch.append(frame(3))
        #expect(flush3 == .onNextTick)
    }

    @Test("every framesPerFlush frames are flushed at once, in a burst or not")
    func everyN() {
        var batch = OutboundBatch(allocator: ByteBufferAllocator())
        batch.readStarted()
        for index in 1..<OutboundBatch.framesPerFlush {
            let flush = batch.append(frame(UInt8(index)))
            #expect(flush == .later)
        }
        let flush2 = batch.append(frame(0))
        #expect(flush2 == .now)
        let frames = batch.take()
        #expect(frames?.readableBytes == OutboundBatch.framesPerFlush)
        let flush3 = batch.append(frame(0))
        #expect(flush3 == .later)
        #expect(batch.pendingBytes == 1)
    }
}
