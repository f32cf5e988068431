public import SwitchboardCore
public import SwitchboardRPC

extension SwitchboardError: RPCErrorConvertible {
    /// The status this error is answered with.
    public var rpcError: RPCError {
        let code: RPCError.Code = switch kind {
        case .invalidArgument: .invalidArgument
        case .notFound: .notFound
        case .alreadyExists: .alreadyExists
        case .failedPrecondition: .failedPrecondition
        case .aborted: .aborted
        case .permissionDenied: .permissionDenied
        case .resourceExhausted: .resourceExhausted
        case .unavailable: .unavailable
        case .internal: .internal
        }
        return RPCError(code: code, message: message, cause: self)
    }
}
