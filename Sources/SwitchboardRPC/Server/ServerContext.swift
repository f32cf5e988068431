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

    /// Who the server's ``RPCAuthenticator`` found the caller to be; `nil` without one, or for an
    /// anonymous call it allowed.
    public let principal: Principal?

    private let connectionID: String
    private let callNumber: UInt64
    private var baseLogger: Logger

    /// Creates a context (servers do; tests of handlers may).
    public init(
        method: MethodDescriptor, metadata: Metadata, deadline: ContinuousClock.Instant?,
        remotePeer: String, connectionID: String, callNumber: UInt64, logger: Logger,
        principal: Principal? = nil
    ) {
        self.principal = principal
        self.method = method
        self.metadata = metadata
        self.deadline = deadline
        self.remotePeer = remotePeer
        self.connectionID = connectionID
        self.callNumber = callNumber
        self.baseLogger = logger
    }

    /// The request id: the caller's `request-id` metadata, or `<connection>-<call>` made by the
    /// server. Made when asked for, so calls that never log pay nothing for it.
    public var requestID: String {
        metadata.first("request-id") ?? "\(connectionID)-\(callNumber)"
    }

    /// A logger whose metadata carries the request id and the method.
    public var logger: Logger {
        get {
            var logger = baseLogger
            logger[metadataKey: "request-id"] = "\(requestID)"
            logger[metadataKey: "method"] = "\(method)"
            return logger
        }
        set {
            baseLogger = newValue
        }
    }
}
