/// Bearer credentials in call metadata, `authorization: Bearer <token>`: the one place that writes
/// them (clients, the CLI, the hook client) and the one place that reads them (server
/// authenticators).
extension Metadata {
    /// The metadata key credentials travel under.
    public static let authorizationKey = "authorization"

    /// Adds `authorization: Bearer <token>`.
    public mutating func addBearerToken(_ token: String) {
        add(Self.authorizationKey, "Bearer \(token)")
    }

    /// What the first `authorization` entry holds.
    ///
    /// The scheme is matched case-insensitively and spaces around the token are ignored, as
    /// HTTP does for `Authorization` (RFC 7235).
    public var bearerToken: BearerTokenLookup {
        guard let header = first(Self.authorizationKey) else { return .missing }
        guard header.count >= 7, header.prefix(7).lowercased() == "bearer " else { return .otherScheme }
        var token = header.dropFirst(7)
        while token.first == " " { token = token.dropFirst() }
        while token.last == " " { token = token.dropLast() }
        return .token(token)
    }
}

/// What a call's `authorization` metadata holds: see ``Metadata/bearerToken``.
public enum BearerTokenLookup: Sendable, Hashable {
    /// No `authorization` entry.
    case missing
    /// An `authorization` entry that is not `Bearer <token>`.
    case otherScheme
    /// The token of `authorization: Bearer <token>`.
    case token(Substring)
}
