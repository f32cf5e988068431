import Foundation
public import SwitchboardCore

/// A PostgreSQL database as `--database` names it: `postgres://user:password@host:port/database`,
/// with `?sslmode=disable|prefer|require` (default `prefer`, as libpq).
public struct PostgresLocation: Sendable, Hashable, CustomStringConvertible {
    public enum TLSMode: String, Sendable, Hashable {
        case disable, prefer, require
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode
    /// Connections to the database at most (`--database-pool-size`).
    public var poolSize: Int = 10
    /// How long an operation (a connection, a query, a commit) may take before it fails with
    /// `UNAVAILABLE` (`--database-timeout-seconds`).
    public var timeout: Duration = .seconds(10)

    /// Reads a `postgres://` or `postgresql://` URL.
    public init(url text: String) throws(SwitchboardError) {
        guard let url = URLComponents(string: text), url.scheme == "postgres" || url.scheme == "postgresql" else {
            throw SwitchboardError(.invalidArgument, "--database: '\(Self.redacted(text))' is not a postgres://user@host:port/database URL")
        }
        guard let host = url.host, !host.isEmpty else {
            throw SwitchboardError(.invalidArgument, "--database: the URL names no host (postgres://user@host:port/database)")
        }
        guard let user = url.user, !user.isEmpty else {
            throw SwitchboardError(.invalidArgument, "--database: the URL names no user (postgres://user@host:port/database)")
        }
        let database = String(url.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else {
            throw SwitchboardError(.invalidArgument, "--database: the URL names no database (postgres://user@host:port/database)")
        }
        self.host = host
        self.port = url.port ?? 5432
        self.username = url.percentEncodedUser.flatMap { $0.removingPercentEncoding } ?? user
        self.password = url.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
        self.database = database.removingPercentEncoding ?? database
        var tls = TLSMode.prefer
        for item in url.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                    throw SwitchboardError(.invalidArgument, "--database: sslmode must be disable, prefer or require, got '\(item.value ?? "")'")
                }
                tls = mode
            default:
                throw SwitchboardError(.invalidArgument, "--database: unknown URL parameter '\(item.name)' (only sslmode is known)")
            }
        }
        self.tls = tls
    }

    /// The URL without its password, for logs and messages.
    public var description: String {
        "postgres://\(username)@\(host):\(port)/\(database)"
    }

    /// `text` with the password of a URL in it replaced by `***`.
    static func redacted(_ text: String) -> String {
        guard var url = URLComponents(string: text), url.password != nil else { return text }
        url.password = "***"
        return url.string ?? text
    }
}
