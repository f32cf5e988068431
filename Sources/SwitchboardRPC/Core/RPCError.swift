/// An error a call ends with: a gRPC status code, a message that says what was wrong (naming the
/// field when a field was wrong), and optionally the underlying error.
///
/// Servers throw it (or an ``RPCErrorConvertible``) from handlers; clients receive it from every
/// failed call. The code travels on the wire as `google.rpc.Status.code`.
public struct RPCError: Error, Sendable, CustomStringConvertible {
    /// The status code.
    public var code: Code

    /// A message for developers, for example `field 'user_id' must not be empty`.
    public var message: String

    /// The error that caused this one, if any; never sent over the wire.
    public var cause: (any Error)?

    /// Creates an error.
    public init(code: Code, message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// `CODE: message`.
    public var description: String {
        "\(code): \(message)"
    }
}

extension RPCError: Equatable {
    /// Errors are equal when their codes and messages are; causes are not compared.
    public static func == (lhs: RPCError, rhs: RPCError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message
    }
}

extension RPCError {
    /// A gRPC status code other than OK.
    ///
    /// A struct over a raw value rather than an enum, so that codes can be added and a code this
    /// version does not know (received from a peer) is kept as it was.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The wire value (`google.rpc.Code`).
        public let rawValue: Int

        /// Creates a code from its wire value; `nil` for 0, which is OK and not an error.
        public init?(rawValue: Int) {
            guard rawValue != 0 else { return nil }
            self.rawValue = rawValue
        }

        private init(_ rawValue: Int) {
            self.rawValue = rawValue
        }

        /// The operation was cancelled, typically by the caller.
        public static let cancelled = Code(1)
        /// An error that fits no other code.
        public static let unknown = Code(2)
        /// The caller gave a bad argument; the message names the field.
        public static let invalidArgument = Code(3)
        /// The deadline passed before the operation completed.
        public static let deadlineExceeded = Code(4)
        /// A requested entity does not exist.
        public static let notFound = Code(5)
        /// The entity the caller tried to create already exists.
        public static let alreadyExists = Code(6)
        /// The caller may not perform the operation.
        public static let permissionDenied = Code(7)
        /// A limit was reached: a frame too large, too many calls, a full queue.
        public static let resourceExhausted = Code(8)
        /// The system is not in the state the operation requires.
        public static let failedPrecondition = Code(9)
        /// A concurrency conflict, such as a stale version on update.
        public static let aborted = Code(10)
        /// A value is outside its valid range.
        public static let outOfRange = Code(11)
        /// The method is not implemented or not known.
        public static let unimplemented = Code(12)
        /// An invariant of the server broke.
        public static let `internal` = Code(13)
        /// The service is unavailable, for example the connection dropped; retrying may work.
        public static let unavailable = Code(14)
        /// Data was lost or corrupted.
        public static let dataLoss = Code(15)
        /// The caller is not authenticated.
        public static let unauthenticated = Code(16)

        private static let names: [Int: String] = [
            1: "CANCELLED", 2: "UNKNOWN", 3: "INVALID_ARGUMENT", 4: "DEADLINE_EXCEEDED", 5: "NOT_FOUND",
            6: "ALREADY_EXISTS", 7: "PERMISSION_DENIED", 8: "RESOURCE_EXHAUSTED", 9: "FAILED_PRECONDITION",
            10: "ABORTED", 11: "OUT_OF_RANGE", 12: "UNIMPLEMENTED", 13: "INTERNAL", 14: "UNAVAILABLE",
            15: "DATA_LOSS", 16: "UNAUTHENTICATED",
        ]

        /// The canonical name, for example `NOT_FOUND`; `CODE_<n>` for a code this version does not know.
        public var description: String {
            Self.names[rawValue] ?? "CODE_\(rawValue)"
        }
    }
}

/// An error that knows which ``RPCError`` it is; handlers may throw it directly.
///
/// Domain errors conform so that the server answers with the right status, for example a missing
/// session becomes `NOT_FOUND`.
public protocol RPCErrorConvertible: Error {
    /// The status the error is answered with.
    var rpcError: RPCError { get }
}

extension RPCError {
    /// The status a handler's error is answered with: itself, its ``RPCErrorConvertible`` form,
    /// `CANCELLED` for cancellation, and `UNKNOWN` otherwise (the message does not leak details).
    public init(from error: any Error) {
        switch error {
        case let error as RPCError:
            self = error
        case let error as any RPCErrorConvertible:
            self = error.rpcError
        case is CancellationError:
            self = RPCError(code: .cancelled, message: "the call was cancelled", cause: error)
        default:
            self = RPCError(code: .unknown, message: "the handler failed: \(type(of: error))", cause: error)
        }
    }
}
