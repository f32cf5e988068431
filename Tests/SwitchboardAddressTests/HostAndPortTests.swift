import SwitchboardAddress
import Testing

@Suite("host:port")
struct HostAndPortTests {
    @Test(
        "reads names, IPv4 and bracketed IPv6 addresses",
        arguments: [
            ("127.0.0.1:7420", "127.0.0.1", 7420),
            ("localhost:1", "localhost", 1),
            ("hooks.example.com:7500", "hooks.example.com", 7500),
            ("my_host-2.internal:65535", "my_host-2.internal", 65535),
            ("[::1]:7420", "::1", 7420),
            ("[2001:db8::5]:80", "2001:db8::5", 80),
        ]
    )
    func valid(text: String, host: String, port: Int) throws {
        let address = try HostAndPort(parsing: text, field: "--server")
        #expect(address == HostAndPort(host: host, port: port))
        #expect(address.description == text, "prints back what it read")
    }

    @Test(
        "rejects, naming the field and what is wrong",
        arguments: [
            ("localhost", HostAndPort.ParseError.Problem.missingPort, "--server must be host:port, got 'localhost'"),
            ("", .missingPort, "--server must be host:port, got ''"),
            ("localhost:", .invalidPort, "--server must end with a port from 1 to 65535, got 'localhost:'"),
            ("localhost:0", .invalidPort, "--server must end with a port from 1 to 65535, got 'localhost:0'"),
            ("localhost:65536", .invalidPort, "--server must end with a port from 1 to 65535, got 'localhost:65536'"),
            ("localhost:+80", .invalidPort, "--server must end with a port from 1 to 65535, got 'localhost:+80'"),
            ("localhost:http", .invalidPort, "--server must end with a port from 1 to 65535, got 'localhost:http'"),
            (":7420", .invalidHost, "--server must name a host (a name or an IP address), got ':7420'"),
            ("[]:7420", .invalidHost, "--server must name a host (a name or an IP address), got '[]:7420'"),
            ("my host:7420", .invalidHost, "--server must name a host (a name or an IP address), got 'my host:7420'"),
            ("::1:7420", .unbracketedIPv6, "--server must put an IPv6 address in brackets, as in [::1]:7420, got '::1:7420'"),
        ]
    )
    func invalid(text: String, problem: HostAndPort.ParseError.Problem, message: String) {
        #expect(throws: HostAndPort.ParseError(field: "--server", text: text, problem: problem)) {
            try HostAndPort(parsing: text, field: "--server")
        }
        do {
            _ = try HostAndPort(parsing: text, field: "--server")
        } catch {
            #expect(error.description == message)
            #expect(error.field == "--server")
        }
    }

    @Test("a host name longer than DNS allows is rejected")
    func tooLong() {
        let text = String(repeating: "a", count: 254) + ":80"
        #expect(throws: HostAndPort.ParseError.self) { try HostAndPort(parsing: text, field: "settings.allocation.hook_address") }
    }
}
