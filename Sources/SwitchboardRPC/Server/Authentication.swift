/// Who is calling: what an ``RPCAuthenticator`` found in a call's credentials.
public struct Principal: Sendable, Hashable {
    /// The credential's public identifier (for example an API key's id); never a secret.
    public var id: String
    /// The role the credential grants, as the application names it (`admin`, `gateway`, `agent`).
    public var role: String
    /// What the credential is bound to, if anything (for an `agent` key: the agent's id).
    public var subject: String?
    /// The namespace the credential acts in, if it is bound to one (for Switchboard: the key's
    /// tenant; `nil` for an operator's key, which acts in any).
    public var scope: String?

    /// Creates a principal.
    public init(id: String, role: String, subject: String? = nil, scope: String? = nil) {
        self.id = id
        self.role = role
        self.subject = subject
        self.scope = scope
    }
}

/// Decides, before a call's handler runs, whether the caller may make the call.
///
/// It runs on the connection's event loop for every request frame, so it must be quick and must
/// not block: look credentials up in memory.
public protocol RPCAuthenticator: Sendable {
    /// The caller of `method` with `metadata`: a principal, `nil` for an anonymous call that is
    /// allowed, or a thrown `UNAUTHENTICATED` (missing or bad credentials) or `PERMISSION_DENIED`
    /// (the credentials do not allow this method).
    func authenticate(_ method: MethodDescriptor, metadata: Metadata) throws(RPCError) -> Principal?
}

/// Lets in only calls carrying `authorization: Bearer <token>` with one fixed token (compared in
/// constant time): enough for a single trusted caller, such as Switchboard calling a hook.
public struct BearerTokenAuthenticator: RPCAuthenticator {
    private let expected: [UInt8]

    /// Creates an authenticator expecting `token`.
    public init(token: String) {
        expected = Array(token.utf8)
    }

    public func authenticate(_ method: MethodDescriptor, metadata: Metadata) throws(RPCError) -> Principal? {
        switch metadata.bearerToken {
        case .missing:
            throw RPCError(code: .unauthenticated, message: "missing credentials: send metadata 'authorization: Bearer <token>'")
        case .otherScheme:
            throw RPCError(code: .unauthenticated, message: "invalid token")
        case .token(let token):
            guard constantTimeEqual(Array(token.utf8), expected) else {
                throw RPCError(code: .unauthenticated, message: "invalid token")
            }
            return Principal(id: "token", role: "caller")
        }
    }
}

/// Whether `presented` equals `expected`, in time that depends on `expected`'s length only (not on
/// where they differ, nor on `presented`'s length): for comparing secrets and their hashes.
public func constantTimeEqual(_ presented: [UInt8], _ expected: [UInt8]) -> Bool {
    var difference = UInt8(truncatingIfNeeded: presented.count ^ expected.count)
    for index in expected.indices {
        difference |= expected[index] ^ (index < presented.count ? presented[index] : 0)
    }
    return difference == 0
}
