/// A TCP endpoint written `host:port`: a host name or IPv4 address (`127.0.0.1:7420`,
/// `hooks.example.com:7500`) or an IPv6 address in brackets (`[::1]:7420`).
///
/// The one parser of such addresses in Switchboard: the CLI's `--server`, the settings'
/// `allocation.hook_address` and the hook client all read them through it, so they accept and
/// reject the same texts with the same messages.
public struct HostAndPort: Sendable, Hashable, CustomStringConvertible {
    /// The host: a name, an IPv4 address, or an IPv6 address without its brackets.
    public var host: String
    /// The port, 1 to 65535.
    public var port: Int

    /// Creates an endpoint from its parts, unchecked.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `text` (`host:port` or `[ipv6]:port`).
    ///
    /// - Parameter field: what `text` came from, named in the error: an option (`--server`) or a
    ///   field (`settings.allocation.hook_address`).
    /// - Throws: ``ParseError`` saying what is wrong, for `field`.
    public init(parsing text: String, field: String) throws(ParseError) {
        guard let colon = text.lastIndex(of: ":") else {
            throw ParseError(field: field, text: text, problem: .missingPort)
        }
        var host = text[..<colon]
        let port = text[text.index(after: colon)...]
        if host.hasPrefix("[") && host.hasSuffix("]") && host.count >= 2 {
            host = host.dropFirst().dropLast()
        } else if host.contains(":") {
            throw ParseError(field: field, text: text, problem: .unbracketedIPv6)
        }
        guard port.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(port), (1...65535).contains(number) else {
            throw ParseError(field: field, text: text, problem: .invalidPort)
        }
        guard !host.isEmpty, host.count <= 253,
            host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ".-:_".contains($0)) })
        else {
            throw ParseError(field: field, text: text, problem: .invalidHost)
        }
        self.init(host: String(host), port: number)
    }

    /// `host:port`, with an IPv6 host in brackets: text that ``init(parsing:field:)`` reads back.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

extension HostAndPort {
    /// Why a text is not a `host:port`, for the option or field it came from.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// What was wrong.
        public struct Problem: Sendable, Hashable {
            private enum Value: Sendable, Hashable {
                case missingPort, invalidPort, invalidHost, unbracketedIPv6
            }

            private let value: Value

            /// There is no `:port`.
            public static let missingPort = Problem(value: .missingPort)
            /// The port is not a number from 1 to 65535.
            public static let invalidPort = Problem(value: .invalidPort)
            /// The host is empty, too long, or has characters no host name or IP address has.
            public static let invalidHost = Problem(value: .invalidHost)
            /// An IPv6 address without brackets (its colons make the port ambiguous).
            public static let unbracketedIPv6 = Problem(value: .unbracketedIPv6)
        }

        /// The option or field the text came from, for example `--server`.
        public var field: String
        /// The text that was rejected.
        public var text: String
        /// What was wrong with it.
        public var problem: Problem

        /// Creates an error.
        public init(field: String, text: String, problem: Problem) {
            self.field = field
            self.text = text
            self.problem = problem
        }

        /// What the text must be, without the field: `must be host:port, got 'x'`.
        public var reason: String {
            switch problem {
            case .missingPort: "must be host:port, got '\(text)'"
            case .invalidPort: "must end with a port from 1 to 65535, got '\(text)'"
            case .unbracketedIPv6: "must put an IPv6 address in brackets, as in [::1]:7420, got '\(text)'"
            default: "must name a host (a name or an IP address), got '\(text)'"
            }
        }

        /// `<field> <reason>`, for example `--server must be host:port, got 'localhost'`.
        public var description: String {
            "\(field) \(reason)"
        }
    }
}
