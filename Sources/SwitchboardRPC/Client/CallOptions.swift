/// Per-call settings of a client call.
public struct CallOptions: Sendable {
    /// How long the caller waits; sent as the request's `timeout_nano`, so the server cancels the
    /// work too. `nil` uses the connection's default (none unless configured).
    public var timeout: Duration?

    /// Metadata sent with the call, after the connection's own metadata.
    public var metadata: Metadata

    /// Creates options.
    public init(timeout: Duration? = nil, metadata: Metadata = [:]) {
        self.timeout = timeout
        self.metadata = metadata
    }

    /// No timeout of its own, no metadata.
    public static let defaults = CallOptions()
}
