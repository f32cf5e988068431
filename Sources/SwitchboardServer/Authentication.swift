import Crypto
public import Logging
import NIOConcurrencyHelpers
public import ServiceLifecycle
public import SwitchboardCore
public import SwitchboardRPC
public import SwitchboardStore

/// Making and checking API keys.
public enum APIKeys {
    /// A new key: its text (shown once, never stored) and the record to store.
    public static func make(
        role: APIRole, agentID: String?, description: String, now: Timestamp, tenantID: String? = TenantRules.defaultID
    ) -> (token: APIKeyToken, record: APIKeyRecord) {
        var generator = SystemRandomNumberGenerator()
        let token = APIKeyToken(id: hex(count: 6, using: &generator), secret: hex(count: 32, using: &generator))
        let record = APIKeyRecord(
            id: token.id, role: role, agentID: agentID, secretHash: hash(secret: token.secret),
            description: description, createdAt: now, tenantID: tenantID
        )
        return (token, record)
    }

    /// SHA-256 of a key's secret. Keys are 256 random bits, so a fast hash is enough: there is
    /// nothing to guess a password from.
    public static func hash(secret: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(secret.utf8)))
    }

    private static func hex(count: Int, using generator: inout some RandomNumberGenerator) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(count * 2)
        for _ in 0..<count {
            let byte = UInt8.random(in: .min ... .max, using: &generator)
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The API keys in force, in memory: what every call is checked against.
///
/// Loaded from the store at start-up and reloaded by ``APIKeyRefresher``, so keys created or
/// revoked with `switchboard-server keys` (even while the server runs) take effect within seconds.
public final class APIKeyRing: Sendable {
    private struct State {
        var active: [String: APIKeyRecord] = [:]
        var required = false
        /// Key texts already verified, so that a caller's every call does not hash its key again
        /// (SHA-256 and parsing cost ~1 us a call; a lookup ~0.1 us). Only valid keys get in, so it
        /// holds at most one entry per key in force; cleared whenever the keys change.
        var verified: [Substring: APIKeyRecord] = [:]
    }

    private let state = NIOLockedValueBox(State())

    /// Creates a ring holding the unrevoked keys of `records`.
    public init(_ records: [APIKeyRecord] = []) {
        replace(with: records)
    }

    /// Replaces the keys with the unrevoked keys of `records`.
    public func replace(with records: [APIKeyRecord]) {
        let active = Dictionary(records.filter { $0.revokedAt == nil }.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
        state.withLockedValue { state in
            state.active = active
            state.verified = [:]
            // Once a key exists, keys are required for good: revoking every key locks the server
            // rather than opening it.
            state.required = state.required || !records.isEmpty
        }
    }

    /// Whether calls need a key: true as soon as any key (even a revoked one) exists.
    public var isRequired: Bool {
        state.withLockedValue { $0.required }
    }

    /// The key `text` stands for, when it is one in force and its secret matches.
    public func verify(_ text: Substring) -> APIKeyRecord? {
        if let record = state.withLockedValue({ $0.verified[text] }) { return record }
        guard let token = APIKeyToken(text), let record = state.withLockedValue({ $0.active[token.id] }) else { return nil }
        guard constantTimeEqual(APIKeys.hash(secret: token.secret), record.secretHash) else { return nil }
        state.withLockedValue { state in
            // Only if the key is still in force (keys may have changed meanwhile).
            if state.active[record.id] == record { state.verified[Substring(String(text))] = record }
        }
        return record
    }

    /// The key `text` stands for, when it is one in force and its secret matches.
    public func verify(_ text: String) -> APIKeyRecord? {
        verify(text[...])
    }
}

/// Checks every call against the ``AccessPolicy`` with the caller's `authorization: Bearer <key>`.
///
/// While no key exists every call is let in (a server on loopback, or one started with
/// `--allow-unauthenticated`). Otherwise a call without a valid key is `UNAUTHENTICATED`, and a
/// call its role does not allow is `PERMISSION_DENIED`. Keys are never logged.
public struct SwitchboardAuthenticator: RPCAuthenticator {
    let keys: APIKeyRing

    /// Creates an authenticator checking against `keys`.
    public init(keys: APIKeyRing) {
        self.keys = keys
    }

    public func authenticate(_ method: MethodDescriptor, metadata: Metadata) throws(RPCError) -> Principal? {
        if !keys.isRequired { return nil }
        let decision = AccessPolicy.decision(service: method.service, method: method.method)
        if case .open = decision { return nil }
        let token: Substring
        switch metadata.bearerToken {
        case .missing:
            throw RPCError(code: .unauthenticated, message: "missing credentials: send metadata 'authorization: Bearer <API key>'")
        case .otherScheme:
            throw RPCError(code: .unauthenticated, message: "metadata 'authorization' must be 'Bearer <API key>'")
        case .token(let value):
            token = value
        }
        guard let record = keys.verify(token) else {
            throw RPCError(code: .unauthenticated, message: "invalid API key (unknown, revoked, or mistyped)")
        }
        if case .roles(let roles) = decision, !roles.contains(record.role) {
            throw RPCError(
                code: .permissionDenied,
                message: "role '\(record.role.rawValue)' (key '\(record.id)') may not call \(method.service)/\(method.method)"
            )
        }
        return Principal(id: record.id, role: record.role.rawValue, subject: record.agentID, scope: record.tenantID)
    }
}

extension ServerContext {
    /// The agent a call acts for: `agentID` from the request, checked against an `agent` key
    /// (whose own agent an empty `agentID` stands for). See ``AccessPolicy/actingAgent(requested:role:boundAgent:field:)``.
    func actingAgent(_ agentID: String, field: String = "agent_id") throws(SwitchboardError) -> String {
        try AccessPolicy.actingAgent(
            requested: agentID, role: principal.flatMap { APIRole(rawValue: $0.role) },
            boundAgent: principal?.subject, field: field
        )
    }
}

/// Reloads the API keys from the store at a steady interval, so keys created or revoked by the
/// offline `switchboard-server keys` command (another process) take effect while the server runs.
public struct APIKeyRefresher: Service {
    private let store: any SwitchboardStore
    private let keys: APIKeyRing
    private let interval: Duration
    private let logger: Logger

    /// Creates a refresher reloading `keys` from `store` every `interval`.
    public init(store: any SwitchboardStore, keys: APIKeyRing, interval: Duration = .seconds(2), logger: Logger) {
        self.store = store
        self.keys = keys
        self.interval = interval
        self.logger = logger
    }

    /// Runs until cancelled or a graceful shutdown.
    public func run() async throws {
        try await runPeriodically(every: interval) { [store, keys, logger] in
            do {
                keys.replace(with: try await store.apiKeys())
            } catch {
                logger.warning("cannot reload the API keys; keeping the ones loaded", metadata: ["error": "\(error)"])
            }
        }
    }
}
