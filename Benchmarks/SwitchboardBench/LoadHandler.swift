import Histogram
import NIOCore
import SwitchboardProto
import SwitchboardRPC

/// Keeps `inFlight` calls outstanding on one connection: each answer sends the next request.
/// Requests are a pre-encoded frame whose stream id is patched in; answers are decoded (envelope
/// and status) so errors are counted, and their latency recorded.
final class LoadHandler: ChannelInboundHandler {
    typealias InboundIn = InboundFrame
    typealias OutboundOut = ByteBuffer

    private let template: ByteBuffer
    private let inFlight: Int
    private var context: ChannelHandlerContext?
    private var nextStreamID: UInt32 = 1
    private var started: [UInt32: UInt64] = [:]
    private var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    private var completed = 0
    private var errors = 0
    private var measuring = false
    private var stopped = false

    init(template: ByteBuffer, inFlight: Int) {
        self.template = template
        self.inFlight = inFlight
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func start() {
        for _ in 0..<inFlight { send() }
        context?.flush()
    }

    func beginMeasuring() {
        histogram.reset()
        completed = 0
        errors = 0
        measuring = true
    }

    func stop() -> (Histogram<UInt64>, Int, Int) {
        stopped = true
        return (histogram, completed, errors)
    }

    private func send() {
        guard let context, !stopped else { return }
        var frame = template
        let streamID = nextStreamID
        nextStreamID += 2
        frame.setInteger(streamID, at: frame.readerIndex + 4)
        started[streamID] = DispatchTime.now().uptimeNanoseconds
        context.write(wrapOutboundOut(frame), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .frame(let frame) = unwrapInboundIn(data), frame.header.type == .response,
            let start = started.removeValue(forKey: frame.header.streamID)
        else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        let ok = (try? Ttrpc_Response(buffer: frame.data))?.status.map { $0.code == 0 } ?? true
        if measuring && !stopped {
            if ok {
                completed += 1
                _ = histogram.record(now &- start)
            } else {
                errors += 1
            }
        }
        send()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }
}

import Dispatch
