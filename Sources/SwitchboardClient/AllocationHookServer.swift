public import Logging
public import SwitchboardProto
public import SwitchboardRPC
public import SwitchboardServices

/// Serves `switchboard.hook.v1.AllocationHook` from a closure: the easy way for a business server
/// written in Swift to choose agents for Switchboard.
///
/// ```swift
/// let hook = AllocationHookServer(port: 7500) { request in
///     request.attributes["tier"] == "vip" ? .group("vip") : .automatic
/// }
/// try await hook.run()   // or add it to a ServiceGroup
/// ```
public struct AllocationHookServer: Sendable {
    /// A decision, as the closure returns it.
    public enum Decision: Sendable, Hashable {
        /// A group of Switchboard.
        case group(String)
        /// Some agents of Switchboard.
        case agents([String])
        /// No agent; the message goes to the user.
        case reject(String)
        /// Switchboard allocates automatically.
        case automatic
    }

    private struct Service: HookAllocationHook.ServiceProtocol {
        let decide: @Sendable (HookAllocateRequest) async throws -> Decision

        func allocate(request: HookAllocateRequest, context: ServerContext) async throws -> HookAllocateResponse {
            switch try await decide(request) {
            case .group(let id): HookAllocateResponse(decision: .groupID(id))
            case .agents(let ids): HookAllocateResponse(decision: .agents(HookAgentList(agentIDs: ids)))
            case .reject(let message): HookAllocateResponse(decision: .reject(HookRejection(message: message)))
            case .automatic: HookAllocateResponse(decision: .automatic(true))
            }
        }
    }

    /// The ttrpc server; run it, or add it to a `ServiceGroup`.
    public let server: RPCServer

    /// Creates a hook server answering with `decide`. With `token`, calls must carry
    /// `authorization: Bearer <token>` (start Switchboard with `--hook-token`); others get
    /// `UNAUTHENTICATED`.
    public init(
        host: String = "127.0.0.1", port: Int = 7500, token: String? = nil,
        logger: Logger = Logger(label: "switchboard.hook-server"),
        decide: @escaping @Sendable (HookAllocateRequest) async throws -> Decision
    ) {
        server = RPCServer(
            configuration: .init(host: host, port: port, authenticator: token.map { BearerTokenAuthenticator(token: $0) }),
            services: [Service(decide: decide)], logger: logger
        )
    }

    /// Serves until a graceful shutdown or cancellation.
    public func run() async throws {
        try await server.run()
    }
}
