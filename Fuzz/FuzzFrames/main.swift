// Fuzzes the ttrpc frame decoder and the server's handling of a connection's frames: the input
// is `limit u8, chunking u8, stream...`.
//
// 1. The stream is decoded with a maximum data length of `limit * 64` bytes (so oversized frames
//    are common): whole, in chunks whose sizes follow `chunking`, and through NIO's
//    ByteToMessageHandler in an EmbeddedChannel; all three must yield exactly what a simple
//    reference parser of the format yields (frames, oversized headers, the framing error).
// 2. The stream is written to an in-process connection of a real server (in-memory store), as a
//    client would send it. Unless it breaks the framing (then the server closes the connection),
//    every request frame's stream must get a well-formed response that is not INTERNAL/UNKNOWN,
//    except calls that start a stream (watches), which answer only when they end.
import FuzzSupport
import NIOCore
import NIOEmbedded
import SwitchboardProto
import SwitchboardRPC

enum Outcome: Equatable {
    case item(InboundFrame)
    case framingError
}

/// The format, read naively: what a decoder must yield for the whole stream.
func reference(_ bytes: [UInt8], limit: Int) -> [Outcome] {
    var out: [Outcome] = []
    var offset = 0
    while offset < bytes.count {
        if bytes[offset] != 0 {
            out.append(.framingError)
            return out
        }
        guard bytes.count - offset >= FrameHeader.size else { return out }
        func u32(_ at: Int) -> UInt32 {
            bytes[at..<(at + 4)].reduce(0) { $0 << 8 | UInt32($1) }
        }
        let header = FrameHeader(
            length: u32(offset), streamID: u32(offset + 4), type: FrameType(rawValue: bytes[offset + 8]),
            flags: FrameFlags(rawValue: bytes[offset + 9])
        )
        let length = Int(header.length)
        if length > limit {
            out.append(.item(.oversized(header)))
            offset += FrameHeader.size + length
            continue
        }
        guard bytes.count - offset - FrameHeader.size >= length else { return out }
        let data = ByteBuffer(bytes: bytes[(offset + FrameHeader.size)..<(offset + FrameHeader.size + length)])
        out.append(.item(.frame(Frame(header: header, data: data))))
        offset += FrameHeader.size + length
    }
    return out
}

/// Decodes `bytes` fed in chunks of the given sizes (cycled).
func decodeChunked(_ bytes: [UInt8], limit: Int, chunks: [Int]) -> [Outcome] {
    var decoder = FrameDecoder(maximumDataLength: limit)
    var buffer = ByteBuffer()
    var out: [Outcome] = []
    var offset = 0
    var chunk = 0
    repeat {
        let end = min(bytes.count, offset + chunks[chunk % chunks.count])
        chunk += 1
        buffer.writeBytes(bytes[offset..<end])
        offset = end
        do {
            while let item = try decoder.decode(buffer: &buffer) {
                out.append(.item(item))
            }
        } catch {
            precondition(error is FramingError, "the decoder threw \(error)")
            out.append(.framingError)
            return out
        }
        buffer.discardReadBytes()
    } while offset < bytes.count
    return out
}

/// Collects what the decoder passes down a pipeline, and the error it raises.
final class Collector: ChannelInboundHandler {
    typealias InboundIn = InboundFrame
    var outcomes: [Outcome] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        outcomes.append(.item(unwrapInboundIn(data)))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        precondition(error is FramingError, "the pipeline raised \(error)")
        outcomes.append(.framingError)
    }
}

func decodeInPipeline(_ bytes: [UInt8], limit: Int, chunks: [Int]) -> [Outcome] {
    let collector = Collector()
    let channel = EmbeddedChannel(handlers: [ByteToMessageHandler(FrameDecoder(maximumDataLength: limit)), collector])
    var offset = 0
    var chunk = 0
    while offset < bytes.count, !collector.outcomes.contains(.framingError) {
        let end = min(bytes.count, offset + chunks[chunk % chunks.count])
        chunk += 1
        _ = try? channel.writeInbound(ByteBuffer(bytes: bytes[offset..<end]))
        offset = end
    }
    _ = try? channel.finish()
    return collector.outcomes
}

let server = InProcessServer.make()

/// Writes `bytes` to a server connection; checks that each request frame is answered.
func serve(_ bytes: [UInt8]) {
    let frames = reference(bytes, limit: 4 << 20)  // the server's limit
    guard !frames.contains(.framingError) else { return }
    var streams: [UInt32] = []
    for case .item(let item) in frames {
        switch item {
        case .frame(let frame) where frame.header.type == .request:
            if let request = try? Ttrpc_Request(buffer: frame.data),
                server.streamingMethods.contains(MethodDescriptor(service: request.service, method: request.method))
            {
                continue  // a watch answers when it ends
            }
            if !streams.contains(frame.header.streamID) { streams.append(frame.header.streamID) }
        case .oversized(let header) where header.type == .request:
            if !streams.contains(header.streamID) { streams.append(header.streamID) }
        default:
            break
        }
    }
    let connection = server.connect()
    defer { connection.close() }
    connection.write(ByteBuffer(bytes: bytes))
    for streamID in streams {
        guard let frame = connection.waitForAnswer(streamID: streamID, timeout: .seconds(10)) else {
            preconditionFailure("request stream \(streamID) was not answered within 10 s")
        }
        checkResponse(frame, for: "request stream \(streamID)")
    }
    precondition(connection.isActive, "the server closed a connection whose framing is valid")
}

FuzzDriver.main("FuzzFrames") { input in
    guard input.count >= 2 else { return }
    let limit = Int(input[0]) * 64
    var seed = UInt32(input[1]) | 1
    var chunks: [Int] = []
    for _ in 0..<8 {
        seed = seed &* 1_103_515_245 &+ 12345
        chunks.append(1 + Int(seed >> 16) % 23)
    }
    let bytes = Array(input.dropFirst(2))
    let expected = reference(bytes, limit: limit)
    let whole = decodeChunked(bytes, limit: limit, chunks: [max(1, bytes.count)])
    precondition(whole == expected, "decoding the whole stream: \(whole), expected \(expected)")
    let chunked = decodeChunked(bytes, limit: limit, chunks: chunks)
    precondition(chunked == expected, "decoding in chunks \(chunks): \(chunked), expected \(expected)")
    let piped = decodeInPipeline(bytes, limit: limit, chunks: chunks)
    precondition(piped == expected, "decoding in a pipeline: \(piped), expected \(expected)")
    serve(bytes)
}
