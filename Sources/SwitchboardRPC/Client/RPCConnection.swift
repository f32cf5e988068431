public import NIOCore
import NIOConcurrencyHelpers
public import NIOPosix
public import SwitchboardAddress
public import SwitchboardProto

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A client connection to a ttrpc server: one TCP connection carrying many concurrent calls.
///
/// The connection is made by the first call. When it breaks, its calls in flight fail with
/// `UNAVAILABLE` and the next call connects again. Generated clients (`Health.Client`, ...) call
/// through it; it is safe to share between tasks.
public final class RPCConnection: Sendable {
    /// Connection-wide settings.
    public struct Configuration: Sendable {
        /// The largest frame data accepted from the server, in bytes.
        public var maximumDataLength: Int
        /// How long connecting may take.
        public var connectTimeout: Duration
        /// The timeout of calls whose options name none; `nil` for none.
        public var defaultTimeout: Duration?
        /// Metadata sent with every call (for example `authorization`).
        public var metadata: Metadata

        /// Creates a configuration.
        public init(
            maximumDataLength: Int = 4 << 20,
            connectTimeout: Duration = .seconds(5),
            defaultTimeout: Duration? = nil,
            metadata: Metadata = [:]
        ) {
            self.maximumDataLength = maximumDataLength
            self.connectTimeout = connectTimeout
            self.defaultTimeout = defaultTimeout
            self.metadata = metadata
        }
    }

    private struct Connected: Sendable {
        let channel: any Channel
        let handler: NIOLoopBound<ClientConnectionHandler>
    }

    private enum State {
        case idle
        case connecting(EventLoopFuture<Connected>)
        case connected(Connected)
        case closed
    }

    /// The server's host.
    public let host: String
    /// The server's port.
    public let port: Int
    /// The server's address, `host:port`.
    public var target: HostAndPort { HostAndPort(host: host, port: port) }
    /// The settings.
    public let configuration: Configuration
    private let group: any EventLoopGroup
    private let state = NIOLockedValueBox(State.idle)

    /// Creates a connection to `host:port`; nothing is connected until the first call.
    public init(
        host: String,
        port: Int,
        configuration: Configuration = Configuration(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.host = host
        self.port = port
        self.configuration = configuration
        self.group = eventLoopGroup
    }

    /// Creates a connection to `target`; nothing is connected until the first call.
    public convenience init(
        target: HostAndPort,
        configuration: Configuration = Configuration(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.init(host: target.host, port: target.port, configuration: configuration, eventLoopGroup: eventLoopGroup)
    }

    /// Makes a unary call.
    ///
    /// - Throws: `RPCError`: the server's status, `UNAVAILABLE` when the connection cannot be made
    ///   or drops, `DEADLINE_EXCEEDED` when the timeout passes, `CANCELLED` when the task is
    ///   cancelled, `INTERNAL` when the answer cannot be decoded.
    public func unary<Input: ProtoMessage, Output: ProtoMessage>(
        _ request: Input, method: MethodDescriptor, options: CallOptions = .defaults
    ) async throws(RPCError) -> Output {
        let timeout = options.timeout ?? configuration.defaultTimeout
        let frame = try encodeRequest(request, method: method, options: options, timeout: timeout, flags: [])
        let connected = try await connection()
        let loop = connected.channel.eventLoop
        let token = NIOLoopBoundBox<UInt32?>.makeEmptyBox(valueType: UInt32.self, eventLoop: loop)
        let payload: [UInt8]
        do {
            payload = try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    loop.execute {
                        connected.handler.value.startUnary(frame, token: token, timeout: timeout, continuation: continuation)
                    }
                }
            } onCancel: {
                loop.execute { connected.handler.value.cancel(token: token) }
            }
        } catch {
            throw RPCError(from: error)
        }
        do {
            return try Output(serializedBytes: payload)
        } catch {
            throw RPCError(code: .internal, message: "invalid \(Output.self) from the server: \(error)", cause: error)
        }
    }

    /// Makes a server-streaming call; the call starts when the returned sequence is iterated.
    public func serverStreaming<Input: ProtoMessage, Output: ProtoMessage>(
        _ request: Input, method: MethodDescriptor, options: CallOptions = .defaults
    ) -> RPCResponseStream<Output> {
        RPCResponseStream { () async throws(RPCError) -> AsyncThrowingStream<[UInt8], any Error> in
            let timeout = options.timeout ?? self.configuration.defaultTimeout
            let frame = try self.encodeRequest(
                request, method: method, options: options, timeout: timeout, flags: .remoteClosed
            )
            let connected = try await self.connection()
            let loop = connected.channel.eventLoop
            let token = NIOLoopBoundBox<UInt32?>.makeEmptyBox(valueType: UInt32.self, eventLoop: loop)
            let (stream, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
            continuation.onTermination = { termination in
                if case .cancelled = termination {
                    loop.execute { connected.handler.value.cancel(token: token) }
                }
            }
            loop.execute {
                connected.handler.value.startStream(frame, token: token, timeout: timeout, continuation: continuation)
            }
            return stream
        }
    }

    /// Closes the connection; calls in flight fail with `UNAVAILABLE`, later calls too.
    public func close() async {
        let channel: (any Channel)? = state.withLockedValue { state in
            defer { state = .closed }
            if case .connected(let connected) = state { return connected.channel }
            return nil
        }
        try? await channel?.close()
    }

    // MARK: Internals

    private func encodeRequest<Input: ProtoMessage>(
        _ request: Input, method: MethodDescriptor, options: CallOptions, timeout: Duration?, flags: FrameFlags
    ) throws(RPCError) -> ByteBuffer {
        var metadata = configuration.metadata.map { Ttrpc_KeyValue(key: $0.key, value: $0.value) }
        metadata.append(contentsOf: options.metadata.map { Ttrpc_KeyValue(key: $0.key, value: $0.value) })
        let envelope: Ttrpc_Request
        do {
            envelope = Ttrpc_Request(
                service: method.service,
                method: method.method,
                payload: try request.serializedBytes(),
                timeoutNano: timeout.map { max(1, $0.nanoseconds) } ?? 0,
                metadata: metadata
            )
        } catch {
            throw RPCError(code: .invalidArgument, message: "cannot encode \(Input.self): \(error)", cause: error)
        }
        var buffer = ByteBufferAllocator().buffer(capacity: 64 + envelope.payload.count)
        do {
            try buffer.writeFrame(streamID: 0, type: .request, flags: flags) { buffer throws(ProtoEncodingError) in
                try envelope.encode(into: &buffer)
            }
        } catch {
            throw RPCError(code: .invalidArgument, message: "cannot encode the request envelope: \(error)", cause: error)
        }
        return buffer
    }

    private func connection() async throws(RPCError) -> Connected {
        let future: EventLoopFuture<Connected>? = state.withLockedValue { state in
            switch state {
            case .connected(let connected) where connected.channel.isActive:
                return connected.channel.eventLoop.makeSucceededFuture(connected)
            case .connected:
                // Closed, and its close callback has not run yet: connect again now.
                let future = connect()
                state = .connecting(future)
                return future
            case .connecting(let future):
                return future
            case .idle:
                let future = connect()
                state = .connecting(future)
                return future
            case .closed:
                return nil
            }
        }
        guard let future else {
            throw RPCError(code: .unavailable, message: "the connection to \(target) was closed by close()")
        }
        do {
            return try await future.get()
        } catch {
            let failure = ConnectionFailure(target: target, error: error, connectTimeout: configuration.connectTimeout)
            throw RPCError(code: .unavailable, message: failure.description, cause: failure)
        }
    }

    private func connect() -> EventLoopFuture<Connected> {
        let maximumDataLength = configuration.maximumDataLength
        let peer = "\(host):\(port)"
        let future = ClientBootstrap(group: group)
            .connectTimeout(.nanoseconds(Int64(configuration.connectTimeout.nanoseconds)))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(FrameDecoder(maximumDataLength: maximumDataLength)),
                        ClientConnectionHandler(peer: peer)
                    )
                }
            }
            .connect(host: host, port: port)
            .flatMapThrowing { channel in
                let handler = try channel.pipeline.syncOperations.handler(type: ClientConnectionHandler.self)
                return Connected(channel: channel, handler: NIOLoopBound(handler, eventLoop: channel.eventLoop))
            }
        future.whenComplete { [state] result in
            state.withLockedValue { state in
                guard case .connecting = state else { return }
                switch result {
                case .success(let connected): state = .connected(connected)
                case .failure: state = .idle
                }
            }
            if case .success(let connected) = result {
                connected.channel.closeFuture.whenComplete { _ in
                    state.withLockedValue { state in
                        if case .connected(let current) = state, current.channel === connected.channel {
                            state = .idle
                        }
                    }
                }
            }
        }
        return future
    }
}

/// Why a connection to a server could not be made: the `cause` of the `UNAVAILABLE` ``RPCError``
/// that calls fail with then, and its message (`cannot connect to 127.0.0.1:7420: connection
/// refused`).
public struct ConnectionFailure: Error, CustomStringConvertible {
    /// The address that could not be reached.
    public var target: HostAndPort
    /// What went wrong, in a few words: `connection refused`, `no answer within 5 seconds`,
    /// `cannot resolve the host name`.
    public var reason: String
    /// The transport's own error.
    public var underlying: any Error

    /// Creates a failure from the transport's error.
    init(target: HostAndPort, error: any Error, connectTimeout: Duration) {
        self.target = target
        self.underlying = error
        self.reason = Self.reason(error, connectTimeout: connectTimeout)
    }

    /// `cannot connect to <target>: <reason>`.
    public var description: String {
        "cannot connect to \(target): \(reason)"
    }

    private static func reason(_ error: any Error, connectTimeout: Duration) -> String {
        switch error {
        case let error as NIOConnectionError:
            if let failure = error.connectionErrors.first {
                return reason(failure.error, connectTimeout: connectTimeout)
            }
            if error.dnsAError != nil || error.dnsAAAAError != nil {
                return "cannot resolve the host name"
            }
            return "no address found for the host"
        case let error as IOError:
            return describe(errno: error.errnoCode)
        case ChannelError.connectTimeout:
            return "no answer within \(connectTimeout.formatted())"
        default:
            return "\(error)"
        }
    }

    private static func describe(errno code: CInt) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        let message = String(cString: text)
        return message.prefix(1).lowercased() + message.dropFirst()
    }
}

extension Duration {
    fileprivate func formatted() -> String {
        let (seconds, attoseconds) = components
        if attoseconds == 0 { return seconds == 1 ? "1 second" : "\(seconds) seconds" }
        return "\(seconds * 1000 + attoseconds / 1_000_000_000_000_000) ms"
    }
}
