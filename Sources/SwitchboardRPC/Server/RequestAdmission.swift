import NIOCore

/// A request frame as the connection received it, decoded as far as admission needs.
struct ReceivedRequest {
    /// What the router knows of the requested method.
    enum Route: Equatable {
        case unary
        case serverStreaming
        /// The service is served, the method is not.
        case unknownMethod
        case unknownService
    }

    /// The envelope: decoded, or why it could not be.
    enum Envelope {
        case decoded(method: MethodDescriptor, metadata: Metadata, timeoutNano: Int64, route: Route)
        /// The request envelope did not decode; the text says why.
        case undecodable(String)
    }

    var streamID: UInt32
    /// The frame's flags (`remote open` asks for client streaming).
    var flags: FrameFlags
    var envelope: Envelope
}

/// A request that may start.
struct AdmittedRequest {
    var streamID: UInt32
    /// Who is calling, as the authenticator found (`nil`: anonymous, or no authenticator).
    var principal: Principal?
    /// A server-streaming call, which holds one place of the server-wide stream budget until
    /// ``RequestAdmission/release(streaming:)``.
    var streaming: Bool
    /// The request's `timeout_nano` (0: none).
    var timeoutNano: Int64
}

/// Decides whether a request frame may start a call: the ttrpc stream id rules, the envelope,
/// the route, authentication and the limits, always in that order, with the `RPCError` a refused
/// request is answered with.
///
/// 1. Stream ids are odd and increasing (as Go's ttrpc): an even or repeated id is
///    `INVALID_ARGUMENT`, and does not advance the last id.
/// 2. An undecodable envelope is `INVALID_ARGUMENT`.
/// 3. While the server shuts down, `UNAVAILABLE`.
/// 4. An unknown method or service is `UNIMPLEMENTED`; client streaming (`remote open`) too.
/// 5. A negative `timeout_nano` is `INVALID_ARGUMENT`.
/// 6. The authenticator's verdict (`UNAUTHENTICATED`, `PERMISSION_DENIED`): credentials before
///    the limits, so a caller who is refused takes no place under them.
/// 7. The connection's limit of calls in flight, then the server-wide budget of streams:
///    `RESOURCE_EXHAUSTED`.
struct RequestAdmission {
    /// Calls in flight one connection may have.
    let maximumCallsPerConnection: Int
    /// The server-wide budget of server-streaming calls, shared by every connection.
    let streams: StreamBudget
    let authenticator: (any RPCAuthenticator)?
    /// The largest stream id admitted so far (0: none).
    private(set) var lastStreamID: UInt32 = 0

    init(maximumCallsPerConnection: Int = .max, streams: StreamBudget, authenticator: (any RPCAuthenticator)? = nil) {
        self.maximumCallsPerConnection = maximumCallsPerConnection
        self.streams = streams
        self.authenticator = authenticator
    }

    /// Checks the ttrpc stream id rules for a new stream and records `streamID` as the last.
    mutating func admitStreamID(_ streamID: UInt32) throws(RPCError) {
        if streamID % 2 == 0 {
            throw RPCError(code: .invalidArgument, message: "stream id \(streamID) is even; client streams must use odd ids")
        }
        if streamID <= lastStreamID {
            throw RPCError(code: .invalidArgument, message: "stream id \(streamID) is not greater than \(lastStreamID); stream ids must increase")
        }
        lastStreamID = streamID
    }

    /// Runs every check on `request`, given the calls in flight on the connection and whether the
    /// server is shutting down; an admitted streaming call has taken its place in the budget.
    mutating func admit(
        _ request: ReceivedRequest, callsInFlight: Int, shuttingDown: Bool
    ) throws(RPCError) -> AdmittedRequest {
        try admitStreamID(request.streamID)
        let method: MethodDescriptor, metadata: Metadata, timeoutNano: Int64, route: ReceivedRequest.Route
        switch request.envelope {
        case .undecodable(let reason):
            throw RPCError(code: .invalidArgument, message: "invalid request envelope: \(reason)")
        case .decoded(let m, let md, let t, let r):
            (method, metadata, timeoutNano, route) = (m, md, t, r)
        }
        if shuttingDown {
            throw RPCError(code: .unavailable, message: "the server is shutting down")
        }
        switch route {
        case .unknownMethod:
            throw RPCError(code: .unimplemented, message: "unknown method '\(method.method)' of service '\(method.service)'")
        case .unknownService:
            throw RPCError(code: .unimplemented, message: "unknown service '\(method.service)'")
        case .unary, .serverStreaming:
            break
        }
        if request.flags.contains(.remoteOpen) {
            throw RPCError(code: .unimplemented, message: "client streaming is not supported ('\(method.service)/\(method.method)')")
        }
        if timeoutNano < 0 {
            throw RPCError(code: .invalidArgument, message: "field 'timeout_nano' must not be negative")
        }
        let principal = try authenticator?.authenticate(method, metadata: metadata)
        try admitCall(streaming: route == .serverStreaming, callsInFlight: callsInFlight)
        return AdmittedRequest(
            streamID: request.streamID, principal: principal, streaming: route == .serverStreaming,
            timeoutNano: timeoutNano
        )
    }

    /// The limits: the connection's calls in flight, then (for a stream) the server-wide budget,
    /// of which a place is taken when admitted.
    func admitCall(streaming: Bool, callsInFlight: Int) throws(RPCError) {
        if callsInFlight >= maximumCallsPerConnection {
            throw RPCError(
                code: .resourceExhausted,
                message: "too many calls in flight on this connection (limit \(maximumCallsPerConnection)); wait for answers or open another connection"
            )
        }
        if streaming, !streams.acquire() {
            throw RPCError(code: .resourceExhausted, message: "too many streams open on the server (limit \(streams.limit)); retry later")
        }
    }

    /// A call admitted by ``admit(_:callsInFlight:shuttingDown:)`` has ended: a stream gives
    /// its place in the budget back.
    func release(streaming: Bool) {
        if streaming { streams.release() }
    }
}
