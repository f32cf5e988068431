import Dispatch
import Logging
public import NIOCore
import NIOEmbedded
public import SwitchboardProto
@_spi(Testing) public import SwitchboardRPC
import SwitchboardCore
import SwitchboardServer
import SwitchboardServices
import SwitchboardStore
import Synchronization

/// Switchboard's services on an in-memory store, served over an in-process connection: frames
/// written to a `NIOAsyncTestingChannel` carrying the server's own channel handlers (frame
/// decoder, connection handler, router), so a fuzz input takes the path a request from the
/// network takes, without a socket.
public final class InProcessServer: @unchecked Sendable {
    /// Every method the server answers, sorted by name.
    public let methods: [MethodDescriptor]
    /// The server-streaming methods among them (their calls are not answered until they end).
    public let streamingMethods: Set<MethodDescriptor>
    private let router: RPCRouter
    private let backend: SQLiteBackend
    private let engine: SwitchboardEngine
    private let clock = FuzzClock()
    private let logger: Logger

    /// Methods whose response is a `Session` (so its id can be reused by later calls).
    public static let sessionReturning: Set<MethodDescriptor> = [
        SessionService.Method.CreateSession.descriptor, SessionService.Method.RequestAgent.descriptor,
        SessionService.Method.GetSession.descriptor,
    ]

    /// A fresh server: an empty in-memory database, default settings, a clock that moves only
    /// when ``advanceTime(seconds:)`` says, and ``FuzzHook`` as the allocation hook.
    public static func make() -> InProcessServer {
        blocking { try await InProcessServer() }
    }

    private init() async throws {
        var logger = Logger(label: "switchboard.fuzz")
        logger.logLevel = .critical
        self.logger = logger
        backend = try await SQLiteBackend(location: .inMemory, clock: clock)
        let tenants = try await TenantRegistry(
            backend: backend, hook: { _ in FuzzHook() }, clock: clock, tick: nil,
            logger: logger
        )
        let engine = try await tenants.awake(TenantRules.defaultID).engine
        self.engine = engine
        // The services of SwitchboardServer.makeServer.
        let health = HealthService(
            version: SwitchboardServer.version,
            services: [Health.name, SettingsService.name, AgentService.name, SessionService.name, TenantService.name]
        )
        router = RPCRouter(services: [
            health,
            SettingsServiceImplementation(tenants: tenants),
            AgentServiceImplementation(tenants: tenants),
            SessionServiceImplementation(tenants: tenants),
            TenantServiceImplementation(tenants: tenants, keys: nil),
        ])
        methods = router.methods
        streamingMethods = [
            Health.Method.Watch.descriptor, AgentService.Method.WatchAgent.descriptor,
            SessionService.Method.WatchSession.descriptor,
        ]
        precondition(streamingMethods.isSubset(of: methods), "a streaming method is not registered")
    }

    /// Moves the server's clock forward and fires the timers due (offers, user timeouts, queue
    /// messages), as the server's timer driver would.
    public func advanceTime(seconds: Int) {
        clock.advance(seconds: seconds)
        blocking { [engine] in await engine.fireDueTimers() }
    }

    deinit {
        backend.catalog.close()
    }

    /// A new connection to the server.
    public func connect() -> Connection {
        blocking { [router, logger] in
            let channel = try await NIOAsyncTestingChannel { channel in
                try router.configureServerConnection(channel, logger: logger)
            }
            try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 7420)).get()
            return Connection(channel: channel)
        }
    }

    /// One client connection: writes bytes, collects the frames the server answers.
    public final class Connection: @unchecked Sendable {
        let channel: NIOAsyncTestingChannel
        private var received = ByteBuffer()
        private var decoder = FrameDecoder(maximumDataLength: 1 << 24)
        /// The frames answered so far, in order.
        public private(set) var frames: [Frame] = []

        init(channel: NIOAsyncTestingChannel) {
            self.channel = channel
        }

        /// Whether the connection is open (the server closes it on a framing violation).
        public var isActive: Bool { channel.isActive }

        /// Writes `bytes` as received from the client and runs what they set off on the loop.
        public func write(_ bytes: ByteBuffer) {
            blocking { [channel] in
                // Errors go to the connection handler, which closes the connection.
                _ = try? await channel.writeInbound(bytes)
                await channel.testingEventLoop.run()
            }
            drain()
        }

        /// Waits until a `response` frame on `streamID` arrives (or, with `orData`, any frame on
        /// it); `nil` when none comes within `timeout` or the connection closed.
        public func waitForAnswer(streamID: UInt32, orData: Bool = false, timeout: Duration) -> Frame? {
            let deadline = ContinuousClock.now + timeout
            while true {
                if let frame = frames.first(where: {
                    $0.header.streamID == streamID && ($0.header.type == .response || orData)
                }) {
                    return frame
                }
                if ContinuousClock.now >= deadline || !channel.isActive { return nil }
                let more: ByteBuffer? = blocking { [channel] in
                    await channel.testingEventLoop.run()
                    if let buffer = try await channel.readOutbound(as: ByteBuffer.self) { return buffer }
                    try? await Task.sleep(for: .microseconds(50))
                    return nil
                }
                if let more { append(more) }
            }
        }

        /// Takes what the server wrote so far.
        func drain() {
            while let buffer = blocking({ [channel] in try await channel.readOutbound(as: ByteBuffer.self) }) {
                append(buffer)
            }
        }

        private func append(_ buffer: ByteBuffer) {
            var buffer = buffer
            received.writeBuffer(&buffer)
            do {
                while let item = try decoder.decode(buffer: &received) {
                    guard case .frame(let frame) = item else {
                        preconditionFailure("the server wrote a frame over 16 MiB")
                    }
                    frames.append(frame)
                }
            } catch {
                preconditionFailure("the server wrote a malformed frame: \(error)")
            }
            received.discardReadBytes()
        }

        /// Closes the connection (the client leaves), cancelling calls in flight.
        public func close() {
            blocking { [channel] in
                if channel.isActive {
                    try? await channel.close()
                }
                await channel.testingEventLoop.run()
            }
        }
    }
}

/// A request frame carrying `request`.
public func requestFrame(streamID: UInt32, flags: FrameFlags = [], envelope: [UInt8]) -> ByteBuffer {
    var buffer = ByteBuffer()
    buffer.writeFrameHeader(FrameHeader(length: UInt32(envelope.count), streamID: streamID, type: .request, flags: flags))
    buffer.writeBytes(envelope)
    return buffer
}

/// Checks what the server answered on a stream: a well-formed `ttrpc.Response` whose status is
/// OK or a known error code, never `INTERNAL`/`UNKNOWN` (a client's bad input is the client's
/// error, which the server must name). Returns the decoded response.
@discardableResult
public func checkResponse(_ frame: Frame, for what: @autoclosure () -> String) -> Ttrpc_Response {
    let response: Ttrpc_Response
    do {
        response = try Ttrpc_Response(buffer: frame.data)
    } catch {
        preconditionFailure("\(what()): the server answered an undecodable ttrpc.Response: \(error)")
    }
    let code = response.status?.code ?? 0
    precondition((0...16).contains(code), "\(what()): status code \(code) is not a gRPC code")
    precondition(
        code != 2 && code != 13,
        "\(what()): answered \(code == 2 ? "UNKNOWN" : "INTERNAL"): \(response.status?.message ?? "")"
    )
    return response
}

/// Runs `body` to completion from synchronous code (the fuzzer's thread is not one of the Swift
/// concurrency pool's, so blocking it is safe).
public func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do {
            box.result = .success(try await body())
        } catch {
            box.result = .failure(error)
        }
        done.signal()
    }
    done.wait()
    switch box.result! {
    case .success(let value): return value
    case .failure(let error): fatalError("fuzz harness failure: \(error)")
    }
}

private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}

/// The wall clock of an in-process server: starts on a Monday at 10:00 UTC, moves by hand.
final class FuzzClock: WallClock {
    private let current = Mutex(Timestamp(milliseconds: 1_796_032_800_000))

    func now() -> Timestamp { current.withLock { $0 } }

    func advance(seconds: Int) {
        current.withLock { $0 = $0.adding(.seconds(seconds)) }
    }
}

/// The business server's allocation hook, answering from the session's attributes so that inputs
/// choose the answer: `hook` = `group:<id>`, `agents:<id>,<id>...`, `reject:<message>`,
/// `automatic`; anything else (or none) is a failed call.
struct FuzzHook: AllocationHook {
    func allocate(_ query: AllocationQuery) async -> RoutingState.HookAnswer {
        guard let answer = query.attributes["hook"] else { return .failed("no 'hook' attribute") }
        if answer == "automatic" { return .automatic }
        if answer.hasPrefix("group:") { return .group(String(answer.dropFirst(6))) }
        if answer.hasPrefix("agents:") { return .agents(answer.dropFirst(7).split(separator: ",").map(String.init)) }
        if answer.hasPrefix("reject:") { return .reject(String(answer.dropFirst(7))) }
        return .failed("'hook' attribute \(answer) is not an answer")
    }
}
