// Fuzzes the ttrpc envelope: the input is a request frame's flags byte then its data, a
// `ttrpc.Request` (service, method, payload, timeout, metadata) as a client would send it. The
// frame goes to an in-process connection of a real server (in-memory store), which must answer it
// with a well-formed response that is not INTERNAL/UNKNOWN (unless it starts a stream), and keep
// the connection. A decodable envelope must also survive an encode/decode round trip, and a
// second request on the same connection must still be answered.
import FuzzSupport
import NIOCore
import SwitchboardProto
import SwitchboardRPC
import SwitchboardServices

let server = InProcessServer.make()
let healthCheck = try! Ttrpc_Request(
    service: Health.Method.Check.descriptor.service, method: Health.Method.Check.descriptor.method
).serializedBytes()

FuzzDriver.main("FuzzEnvelope") { input in
    guard let flagsByte = input.first else { return }
    let data = Array(input.dropFirst())
    let flags = FrameFlags(rawValue: flagsByte)

    // The envelope alone: what decodes re-encodes to the same value.
    var request: Ttrpc_Request?
    if let decoded = try? Ttrpc_Request(serializedBytes: data) {
        request = decoded
        guard let encoded = try? decoded.serializedBytes() else {
            preconditionFailure("a decoded ttrpc.Request does not encode")
        }
        precondition((try? Ttrpc_Request(serializedBytes: encoded)) == decoded, "ttrpc.Request changed in a round trip")
    }

    let connection = server.connect()
    defer { connection.close() }
    connection.write(requestFrame(streamID: 1, flags: flags, envelope: data))
    let streaming = request.map {
        server.streamingMethods.contains(MethodDescriptor(service: $0.service, method: $0.method))
            && !flags.contains(.remoteOpen) && $0.timeoutNano >= 0
    } ?? false
    if let frame = connection.waitForAnswer(streamID: 1, orData: streaming, timeout: streaming ? .milliseconds(2) : .seconds(10)) {
        if frame.header.type == .response {
            checkResponse(frame, for: "request \(String(describing: request))")
        }
    } else {
        precondition(streaming, "request \(String(describing: request)) was not answered within 10 s")
    }
    precondition(connection.isActive, "the server closed the connection after request \(String(describing: request))")
    connection.write(requestFrame(streamID: 3, envelope: healthCheck))
    guard let frame = connection.waitForAnswer(streamID: 3, timeout: .seconds(10)) else {
        preconditionFailure("a health check after request \(String(describing: request)) was not answered")
    }
    checkResponse(frame, for: "a health check after request \(String(describing: request))")
}
