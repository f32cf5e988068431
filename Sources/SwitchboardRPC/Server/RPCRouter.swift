public import SwitchboardProto

/// A service a server can host: it registers its methods with a router.
///
/// Generated `ServiceProtocol`s refine it and implement the registration.
public protocol RegistrableRPCService: Sendable {
    /// Registers the service's methods with `router`.
    func registerMethods(with router: inout RPCRouter)
}

/// The table of methods a server answers, by service and method name.
public struct RPCRouter: Sendable {
    /// A method, type-erased to its encoded request and response.
    @usableFromInline
    enum Handler: Sendable {
        /// Decodes the request, runs the handler, encodes the response.
        case unary(@Sendable ([UInt8], ServerContext) async throws -> [UInt8])
        /// Decodes the request and runs the handler, which writes encoded messages to the sink.
        case serverStreaming(@Sendable ([UInt8], StreamSink, ServerContext) async throws -> Void)
    }

    @usableFromInline
    var services: [String: [String: Handler]] = [:]

    /// Creates an empty router.
    public init() {}

    /// Creates a router holding the methods of `services`.
    public init(services: [any RegistrableRPCService]) {
        for service in services {
            service.registerMethods(with: &self)
        }
    }

    /// The registered methods.
    public var methods: [MethodDescriptor] {
        services.flatMap { service, methods in methods.keys.map { MethodDescriptor(service: service, method: $0) } }
            .sorted { $0.description < $1.description }
    }

    /// Whether a service of that name has methods here.
    public func hasService(_ name: String) -> Bool {
        services[name] != nil
    }

    /// Registers a unary method; a method registered twice keeps the last handler.
    ///
    /// Inlinable so that the type-erasing closure is specialized for the method's message types
    /// where the service is registered.
    @inlinable
    public mutating func registerUnary<Input: ProtoMessage, Output: ProtoMessage>(
        _ method: MethodDescriptor,
        handler: @escaping @Sendable (Input, ServerContext) async throws -> Output
    ) {
        services[method.service, default: [:]][method.method] = .unary { payload, context in
            let request = try decodeRequest(Input.self, payload)
            let response = try await handler(request, context)
            do {
                return try response.serializedBytes()
            } catch {
                throw RPCError(code: .internal, message: "cannot encode the response: \(error)", cause: error)
            }
        }
    }

    /// Registers a server-streaming method.
    @inlinable
    public mutating func registerServerStreaming<Input: ProtoMessage, Output: ProtoMessage>(
        _ method: MethodDescriptor,
        handler: @escaping @Sendable (Input, RPCStreamWriter<Output>, ServerContext) async throws -> Void
    ) {
        services[method.service, default: [:]][method.method] = .serverStreaming { payload, sink, context in
            let request = try decodeRequest(Input.self, payload)
            try await handler(request, RPCStreamWriter(sink: sink), context)
        }
    }
}

@inlinable
func decodeRequest<Input: ProtoMessage>(_: Input.Type, _ payload: [UInt8]) throws(RPCError) -> Input {
    do {
        return try Input(serializedBytes: payload)
    } catch {
        throw RPCError(code: .invalidArgument, message: "invalid \(Input.self): \(error)", cause: error)
    }
}

/// Sends the messages of a server-streaming call.
public struct RPCStreamWriter<Message: ProtoMessage>: Sendable {
    @usableFromInline
    let sink: StreamSink

    @usableFromInline
    init(sink: StreamSink) {
        self.sink = sink
    }

    /// Sends one message. Suspends while the connection's send buffer is full, so a slow reader
    /// slows only its own stream.
    ///
    /// - Throws: `RPCError` `CANCELLED` once the call has ended (the client left or the deadline
    ///   passed), or `INTERNAL` when the message cannot be encoded.
    public func write(_ message: Message) async throws {
        let bytes: [UInt8]
        do {
            bytes = try message.serializedBytes()
        } catch {
            throw RPCError(code: .internal, message: "cannot encode a stream message: \(error)", cause: error)
        }
        try await sink.send(bytes)
    }

    /// Sends a message already encoded as `Message` (stored events, for example), as it is:
    /// no decoding and re-encoding. The caller vouches that `bytes` is a valid `Message`.
    public func write(serialized bytes: [UInt8]) async throws {
        try await sink.send(bytes)
    }

    /// Sends each message of `messages` in order.
    public func write(contentsOf messages: some Sequence<Message>) async throws {
        for message in messages {
            try await write(message)
        }
    }
}

/// A router's methods found by the UTF-8 bytes of their names, as a request carries them, so
/// routing a call makes no strings: the registered descriptor (whose names are already strings)
/// comes with the handler. Built once per server from its router.
struct RouteTable: Sendable {
    struct Route: Sendable {
        let descriptor: MethodDescriptor
        let handler: RPCRouter.Handler
        fileprivate let service: [UInt8]
        fileprivate let method: [UInt8]
    }

    private let buckets: [[Route]]
    private let services: [[[UInt8]]]

    init(_ router: RPCRouter) {
        var routes: [Route] = []
        for (service, methods) in router.services {
            for (method, handler) in methods {
                routes.append(Route(
                    descriptor: MethodDescriptor(service: service, method: method), handler: handler,
                    service: Array(service.utf8), method: Array(method.utf8)
                ))
            }
        }
        var size = 8
        while size < routes.count * 2 { size *= 2 }
        var buckets = [[Route]](repeating: [], count: size)
        var services = [[[UInt8]]](repeating: [], count: size)
        for route in routes {
            route.service.withUnsafeBytes { service in
                route.method.withUnsafeBytes { method in
                    buckets[Self.hash(service, method) & (size - 1)].append(route)
                }
                let slot = Self.hash(service, nil) & (size - 1)
                if !services[slot].contains(route.service) { services[slot].append(route.service) }
            }
        }
        self.buckets = buckets
        self.services = services
    }

    /// The method `service`/`method` names, if registered.
    func route(service: UnsafeRawBufferPointer, method: UnsafeRawBufferPointer) -> Route? {
        for route in buckets[Self.hash(service, method) & (buckets.count - 1)]
        where route.service.elementsEqual(service) && route.method.elementsEqual(method) {
            return route
        }
        return nil
    }

    /// Whether some method of `service` is registered.
    func hasService(_ service: UnsafeRawBufferPointer) -> Bool {
        services[Self.hash(service, nil) & (services.count - 1)].contains { $0.elementsEqual(service) }
    }

    /// FNV-1a of the service's bytes, then a separator and the method's.
    private static func hash(_ service: UnsafeRawBufferPointer, _ method: UnsafeRawBufferPointer?) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in service { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        if let method {
            hash = (hash ^ 0x2F) &* 0x100_0000_01b3
            for byte in method { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        }
        return Int(truncatingIfNeeded: hash ^ (hash >> 32))
    }
}
