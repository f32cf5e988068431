public import Logging
public import NIOCore
import NIOExtras
import NIOConcurrencyHelpers
public import NIOPosix
public import ServiceLifecycle

/// A ttrpc server over TCP, run as a swift-service-lifecycle `Service`.
///
/// ```swift
/// let server = RPCServer(configuration: .init(port: 7420), services: [HealthService()], logger: logger)
/// let group = ServiceGroup(services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
/// try await group.run()
/// ```
/// On graceful shutdown the server stops accepting connections, refuses new calls with
/// `UNAVAILABLE`, ends streams with `UNAVAILABLE`, lets unary calls in flight finish within the
/// grace period, then closes every connection.
public final class RPCServer: Service, Sendable {
    /// How the server listens and what it accepts.
    public struct Configuration: Sendable {
        /// The address to listen on.
        public var host: String
        /// The port; 0 picks a free one (see ``RPCServer/listeningAddress``).
        public var port: Int
        /// The largest frame data accepted, in bytes (default 4 MiB, as ttrpc).
        public var maximumDataLength: Int
        /// How long unary calls in flight may take to finish once a graceful shutdown begins.
        public var shutdownGracePeriod: Duration
        /// Checks every call's credentials before its handler runs; `nil` lets every call in.
        public var authenticator: (any RPCAuthenticator)?
        /// Connections open at once; a connection over the limit is closed as it is accepted.
        public var maximumConnections: Int
        /// Calls in flight on one connection; more are answered `RESOURCE_EXHAUSTED`.
        public var maximumCallsPerConnection: Int
        /// Server-streaming calls (watchers) open at once on the whole server; more are answered
        /// `RESOURCE_EXHAUSTED`.
        public var maximumStreams: Int
        /// A connection on which nothing arrives for this long, with no call in flight, is closed.
        public var idleTimeout: Duration
        /// Once the first byte of a frame arrives, the whole frame must arrive within this time or
        /// the connection is closed (slow senders hold no buffer for long).
        public var frameTimeout: Duration

        /// Creates a configuration.
        public init(
            host: String = "127.0.0.1",
            port: Int = 7420,
            maximumDataLength: Int = 4 << 20,
            shutdownGracePeriod: Duration = .seconds(10),
            authenticator: (any RPCAuthenticator)? = nil,
            maximumConnections: Int = 4096,
            maximumCallsPerConnection: Int = 4096,
            maximumStreams: Int = 10_000,
            idleTimeout: Duration = .seconds(300),
            frameTimeout: Duration = .seconds(10)
        ) {
            self.host = host
            self.port = port
            self.maximumDataLength = maximumDataLength
            self.shutdownGracePeriod = shutdownGracePeriod
            self.authenticator = authenticator
            self.maximumConnections = maximumConnections
            self.maximumCallsPerConnection = maximumCallsPerConnection
            self.maximumStreams = maximumStreams
            self.idleTimeout = idleTimeout
            self.frameTimeout = frameTimeout
        }
    }

    private enum State {
        case idle
        case running(server: any Channel, quiesce: ServerQuiescingHelper)
        case shuttingDown
        case finished
    }

    private struct Shared {
        var state = State.idle
        var children: [ObjectIdentifier: any Channel] = [:]
        var addressWaiters: [CheckedContinuation<SocketAddress, any Error>] = []
        var address: Result<SocketAddress, any Error>?
        var shutdownHooks: [@Sendable () -> Void] = []
        var shutdownRequested = false
        /// Whether the promise of the end (`finished`) is completed: once only.
        var ended = false
    }

    /// The configuration.
    public let configuration: Configuration
    private let router: RPCRouter
    private let logger: Logger
    private let group: any EventLoopGroup
    private let shared = NIOLockedValueBox(Shared())
    private let finished: EventLoopPromise<Void>
    private let connectionCounter = NIOLockedValueBox<UInt64>(0)
    private let streams: StreamBudget

    /// Creates a server hosting `services`.
    public init(
        configuration: Configuration,
        services: [any RegistrableRPCService],
        logger: Logger = Logger(label: "switchboard.rpc"),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        self.streams = StreamBudget(limit: configuration.maximumStreams)
        self.router = RPCRouter(services: services)
        self.logger = logger
        self.group = eventLoopGroup
        self.finished = eventLoopGroup.any().makePromise()
    }

    /// The address the server listens on, once it does (useful with port 0).
    ///
    /// - Throws: the bind error when the server could not listen.
    public var listeningAddress: SocketAddress {
        get async throws {
            try await withCheckedThrowingContinuation { continuation in
                shared.withLockedValue { shared in
                    if let address = shared.address {
                        continuation.resume(with: address)
                    } else {
                        shared.addressWaiters.append(continuation)
                    }
                }
            }
        }
    }

    /// How many server-streaming calls (watchers) are open.
    public var openStreams: Int { streams.inUse }

    /// Adds a function run when a graceful shutdown begins, before connections are quiesced (for
    /// example to report `NOT_SERVING` to health watchers).
    public func onShutdown(_ hook: @escaping @Sendable () -> Void) {
        shared.withLockedValue { $0.shutdownHooks.append(hook) }
    }

    /// Listens and serves until a graceful shutdown completes or the task is cancelled (which
    /// closes every connection at once).
    public func run() async throws {
        let settings = ServerConnectionHandler.Settings(
            router: router, maximumDataLength: configuration.maximumDataLength, logger: logger,
            authenticator: configuration.authenticator,
            maximumCallsPerConnection: configuration.maximumCallsPerConnection,
            streams: streams
        )
        let maximumConnections = configuration.maximumConnections
        let idleTimeout = TimeAmount.nanoseconds(configuration.idleTimeout.nanoseconds)
        let frameTimeout = TimeAmount.nanoseconds(configuration.frameTimeout.nanoseconds)
        let quiesce = ServerQuiescingHelper(group: group)
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(quiesce.makeServerChannelHandler(channel: channel))
                    }
                }
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelOption(.maxMessagesPerRead, value: 16)
                .childChannelInitializer { [shared, connectionCounter, logger] channel in
                    let id = connectionCounter.withLockedValue { counter in
                        counter += 1
                        return counter
                    }
                    let key = ObjectIdentifier(channel)
                    let accepted = shared.withLockedValue { shared in
                        guard shared.children.count < maximumConnections else { return false }
                        shared.children[key] = channel
                        return true
                    }
                    guard accepted else {
                        logger.warning("connection refused: the limit of open connections is reached", metadata: [
                            "limit": "\(maximumConnections)", "peer": "\(channel.remoteAddress.map { "\($0)" } ?? "?")",
                        ])
                        return channel.close()
                    }
                    channel.closeFuture.whenComplete { _ in
                        shared.withLockedValue { _ = $0.children.removeValue(forKey: key) }
                    }
                    return channel.eventLoop.makeCompletedFuture {
                        try ServerConnectionHandler.install(
                            on: channel, settings: settings, connectionID: "c\(id)",
                            idleTimeout: idleTimeout, frameTimeout: frameTimeout
                        )
                    }
                }
                .bind(host: configuration.host, port: configuration.port)
                .get()
        } catch {
            resolveAddress(.failure(error))
            // Never running: nothing will complete the promise of its end otherwise (a leaked
            // promise, which a debug build traps on).
            let first = shared.withLockedValue { shared in
                shared.state = .finished
                defer { shared.ended = true }
                return !shared.ended
            }
            if first { finished.fail(error) }
            logger.error("cannot listen", metadata: ["host": "\(configuration.host)", "port": "\(configuration.port)", "error": "\(error)"])
            throw error
        }
        let address = channel.localAddress!
        let shutdownAlreadyRequested = shared.withLockedValue { shared in
            shared.state = .running(server: channel, quiesce: quiesce)
            return shared.shutdownRequested
        }
        resolveAddress(.success(address))
        logger.info("listening", metadata: ["address": "\(address)"])
        if shutdownAlreadyRequested {
            beginGracefulShutdown()
        }

        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await finished.futureResult.get()
            } onGracefulShutdown: {
                self.beginGracefulShutdown()
            }
        } onCancel: {
            self.closeNow()
        }
        logger.info("stopped")
    }

    /// Begins a graceful shutdown; ``run()`` returns once it completes.
    public func beginGracefulShutdown() {
        let action: (ServerQuiescingHelper, [@Sendable () -> Void])? = shared.withLockedValue { shared in
            switch shared.state {
            case .running(_, let quiesce):
                shared.state = .shuttingDown
                return (quiesce, shared.shutdownHooks)
            case .idle:
                shared.shutdownRequested = true
                return nil
            case .shuttingDown, .finished:
                return nil
            }
        }
        guard let (quiesce, hooks) = action else { return }
        logger.info("graceful shutdown: draining calls", metadata: ["grace": "\(configuration.shutdownGracePeriod)"])
        for hook in hooks { hook() }
        let loop = group.any()
        let drained = loop.makePromise(of: Void.self)
        // One pass of every event loop first, so what the hooks set off (a health watcher's
        // NOT_SERVING) is written before streams are ended.
        let barrier = group.makeIterator().map { $0.submit {} }
        EventLoopFuture.andAllComplete(barrier, on: loop).whenComplete { _ in
            quiesce.initiateShutdown(promise: drained)
        }
        let grace = TimeAmount.nanoseconds(Int64(configuration.shutdownGracePeriod.nanoseconds))
        let timer = loop.scheduleTask(in: grace) {
            self.logger.warning("grace period over: closing connections with calls in flight")
            self.closeChildren()
        }
        drained.futureResult.whenComplete { _ in
            timer.cancel()
            self.markFinished()
        }
    }

    private func closeNow() {
        let server: (any Channel)? = shared.withLockedValue { shared in
            defer { shared.state = .finished }
            if case .running(let server, _) = shared.state { return server }
            return nil
        }
        server?.close(promise: nil)
        closeChildren()
        markFinished()
    }

    private func closeChildren() {
        let children = shared.withLockedValue { Array($0.children.values) }
        for child in children { child.close(promise: nil) }
    }

    private func markFinished() {
        let first = shared.withLockedValue { shared in
            shared.state = .finished
            defer { shared.ended = true }
            return !shared.ended
        }
        if first { finished.succeed() }
    }

    private func resolveAddress(_ result: Result<SocketAddress, any Error>) {
        let waiters = shared.withLockedValue { shared in
            shared.address = result
            defer { shared.addressWaiters.removeAll() }
            return shared.addressWaiters
        }
        for waiter in waiters { waiter.resume(with: result) }
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
