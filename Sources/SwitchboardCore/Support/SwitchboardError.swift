/// A domain error: what went wrong, in words that name the field or entity, and its kind, which
/// the RPC layer maps to a status code.
public struct SwitchboardError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure; each maps to one gRPC status code.
    public enum Kind: Sendable, Hashable {
        /// A bad value; the message names the field (`INVALID_ARGUMENT`).
        case invalidArgument
        /// The named entity does not exist (`NOT_FOUND`).
        case notFound
        /// The entity to create exists (`ALREADY_EXISTS`).
        case alreadyExists
        /// The state does not allow the operation (`FAILED_PRECONDITION`).
        case failedPrecondition
        /// A concurrent change won, such as a newer settings version (`ABORTED`).
        case aborted
        /// The caller may not act on this (`PERMISSION_DENIED`).
        case permissionDenied
        /// A limit was reached (`RESOURCE_EXHAUSTED`).
        case resourceExhausted
        /// Storage or a dependency is unavailable (`UNAVAILABLE`).
        case unavailable
        /// An invariant broke (`INTERNAL`).
        case `internal`
    }

    /// The kind of failure.
    public var kind: Kind
    /// What went wrong.
    public var message: String

    /// Creates an error.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// `INVALID_ARGUMENT` for `field`: `field '<field>' <problem>`.
    public static func invalid(_ field: String, _ problem: String) -> SwitchboardError {
        SwitchboardError(.invalidArgument, "field '\(field)' \(problem)")
    }

    /// The message.
    public var description: String { message }
}
