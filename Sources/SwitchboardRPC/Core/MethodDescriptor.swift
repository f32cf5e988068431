/// Names a method: its fully qualified service and its bare method name.
public struct MethodDescriptor: Hashable, Sendable, CustomStringConvertible {
    /// The fully qualified service name, for example `switchboard.v1.Health`.
    public let service: String
    /// The bare method name, for example `Check`.
    public let method: String

    /// Creates a descriptor.
    public init(service: String, method: String) {
        self.service = service
        self.method = method
    }

    /// `service/method`.
    public var description: String {
        "\(service)/\(method)"
    }
}
