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

extension Google_Rpc_Status {
    /// The status of `error`, or OK (code 0, as Go's ttrpc sends it) when `error` is `nil`.
    init(_ error: RPCError?) {
        if let error {
            self.init(code: Int32(truncatingIfNeeded: error.code.rawValue), message: error.message)
        } else {
            self.init()
        }
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
    mutating func writeResponseFrame(streamID: UInt32, payload: [UInt8], error: RPCError?) {
        var response = Ttrpc_Response(status: Google_Rpc_Status(error), payload: error == nil ? payload : [])
        if error?.message.utf8.contains(0) == true {
            // protobuf-c strings end at NUL: escape it rather than let the message be cut.
            response.status?.message = error!.message.replacing("\u{0}", with: "\\0")
        }
        writeFrame(streamID: streamID, type: .response, flags: []) { buffer in
            // Cannot fail: the only string that might hold a NUL was escaped above.
            try! response.encode(into: &buffer)
        }
    }
}
