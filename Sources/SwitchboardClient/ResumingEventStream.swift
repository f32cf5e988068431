public import SwitchboardProto
public import SwitchboardRPC
public import SwitchboardServices

/// A watch stream that resumes by itself: when the connection drops (`UNAVAILABLE`), it calls
/// again after the last event it delivered, so the caller sees every event exactly once, in
/// order, across reconnects and server restarts. Other errors end the iteration.
public struct ResumingEventStream<Event: ProtoMessage>: AsyncSequence, Sendable {
    /// The error iteration throws.
    public typealias Failure = RPCError

    private let open: @Sendable (Int64) -> RPCResponseStream<Event>
    private let sequence: @Sendable (Event) -> Int64
    private let after: Int64
    private let retryDelay: Duration

    init(
        after: Int64, retryDelay: Duration, open: @escaping @Sendable (Int64) -> RPCResponseStream<Event>,
        sequence: @escaping @Sendable (Event) -> Int64
    ) {
        self.after = after
        self.retryDelay = retryDelay
        self.open = open
        self.sequence = sequence
    }

    /// Starts watching.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(stream: self)
    }

    /// Iterates over the events.
    public struct AsyncIterator: AsyncIteratorProtocol {
        private let stream: ResumingEventStream
        private var current: RPCResponseStream<Event>.AsyncIterator?
        /// The sequence number of the last event delivered.
        public private(set) var lastSequence: Int64

        init(stream: ResumingEventStream) {
            self.stream = stream
            self.lastSequence = stream.after
        }

        /// The next event; `nil` when the server ended the stream.
        public mutating func next() async throws(RPCError) -> Event? {
            try await next(isolation: nil)
        }

        /// The next event; `nil` when the server ended the stream.
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(RPCError) -> Event? {
            while true {
                if Task.isCancelled { throw RPCError(code: .cancelled, message: "the watch was cancelled") }
                if current == nil { current = stream.open(lastSequence).makeAsyncIterator() }
                do {
                    guard let event = try await current!.next(isolation: actor) else { return nil }
                    let number = stream.sequence(event)
                    if number <= lastSequence { continue }
                    lastSequence = number
                    return event
                } catch where error.code == .unavailable {
                    current = nil
                    do {
                        try await Task.sleep(for: stream.retryDelay)
                    } catch {
                        throw RPCError(code: .cancelled, message: "the watch was cancelled")
                    }
                }
            }
        }
    }
}

extension SwitchboardClient {
    /// The events of a session after `after`, resuming by itself after a dropped connection.
    public func watchSession(_ sessionID: String, after: Int64 = 0, retryDelay: Duration = .milliseconds(250))
        -> ResumingEventStream<SessionEvent>
    {
        let sessions = self.sessions
        return ResumingEventStream(after: after, retryDelay: retryDelay, open: { last in
            sessions.watchSession(WatchSessionRequest(sessionID: sessionID, afterSequence: last))
        }, sequence: \.sequence)
    }

    /// The events of an agent after `after`, resuming by itself after a dropped connection.
    public func watchAgent(_ agentID: String, after: Int64 = 0, retryDelay: Duration = .milliseconds(250))
        -> ResumingEventStream<AgentEvent>
    {
        let agents = self.agents
        return ResumingEventStream(after: after, retryDelay: retryDelay, open: { last in
            agents.watchAgent(WatchAgentRequest(agentID: agentID, afterSequence: last))
        }, sequence: \.sequence)
    }
}
