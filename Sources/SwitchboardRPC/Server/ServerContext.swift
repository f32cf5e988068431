public import Logging

/// What a handler knows about the call it serves, besides the request message.
public struct ServerContext: Sendable {
    /// The method being called.
    public let method: MethodDescriptor

    /// The metadata the caller sent, such as `authorization` and `request-id`.
    public let metadata: Metadata

    /// When the caller stops waiting, from the request's `timeout_nano`; `nil` for no deadline.
    /// When it passes, the caller gets `DEADLINE_EXCEEDED` and the handler's task is cancelled.
    public let deadline: ContinuousClock.Instant?

    /// The caller's address, for example `127.0.0.1:50432`.
    public let remotePeer: String

    /// The request id: the caller's `request-id` metadata, or one the server made.
    public let requestID: String

    /// A logger whose metadata carries the request id and the method.
    public var logger: Logger

    /// Creates a context (servers do; tests of handlers may).
    public init(
        method: MethodDescriptor, metadata: Metadata, deadline: ContinuousClock.Instant?,
        remotePeer: String, requestID: String, logger: Logger
    ) {
        self.method = method
        self.metadata = metadata
        self.deadline = deadline
        self.remotePeer = remotePeer
        self.requestID = requestID
        self.logger = logger
    }
}
