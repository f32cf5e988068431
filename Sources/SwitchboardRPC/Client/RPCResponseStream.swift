public import SwitchboardProto

/// The messages of a server-streaming call, as an `AsyncSequence`.
///
/// The call starts when iteration starts. Iteration ends when the server ends the stream, and
/// throws `RPCError` when the call fails (the server's status, `UNAVAILABLE` when the connection
/// drops, `DEADLINE_EXCEEDED`, `CANCELLED`). Each iteration starts a new call.
public struct RPCResponseStream<Element: ProtoMessage>: AsyncSequence, Sendable {
    /// The error iteration throws.
    public typealias Failure = RPCError

    private let start: @Sendable () async throws(RPCError) -> AsyncThrowingStream<[UInt8], any Error>

    init(start: @escaping @Sendable () async throws(RPCError) -> AsyncThrowingStream<[UInt8], any Error>) {
        self.start = start
    }

    /// Starts the call.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(start: start)
    }

    /// Iterates over the messages of one call.
    public struct AsyncIterator: AsyncIteratorProtocol {
        private let start: @Sendable () async throws(RPCError) -> AsyncThrowingStream<[UInt8], any Error>
        private var base: AsyncThrowingStream<[UInt8], any Error>.AsyncIterator?
        private var done = false

        init(start: @escaping @Sendable () async throws(RPCError) -> AsyncThrowingStream<[UInt8], any Error>) {
            self.start = start
        }

        /// The next message, or `nil` when the server ended the stream.
        public mutating func next() async throws(RPCError) -> Element? {
            try await next(isolation: nil)
        }

        /// The next message, or `nil` when the server ended the stream.
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(RPCError) -> Element? {
            guard !done else { return nil }
            do {
                if base == nil {
                    base = try await start().makeAsyncIterator()
                }
                guard let bytes = try await base!.next(isolation: actor) else {
                    done = true
                    return nil
                }
                do {
                    return try Element(serializedBytes: bytes)
                } catch {
                    throw RPCError(code: .internal, message: "invalid \(Element.self) from the server: \(error)", cause: error)
                }
            } catch {
                done = true
                throw RPCError(from: error)
            }
        }
    }
}
