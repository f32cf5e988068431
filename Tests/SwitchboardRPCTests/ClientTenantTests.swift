import SwitchboardClient
import SwitchboardRPC
import SwitchboardTestSupport
import SwitchboardTesting
import Testing

@Suite("SwitchboardClient's tenant")
struct ClientTenantTests {
    @Test("tenant: puts switchboard-tenant into the connection's metadata, beside the token")
    func metadata() {
        let client = SwitchboardClient(host: "127.0.0.1", port: 7420, token: "sbk_key", tenant: "acme")
        let metadata = client.connection.configuration.metadata
        #expect(metadata.values(SwitchboardClient.tenantMetadataKey) == ["acme"])
        #expect(metadata.first("authorization") == "Bearer sbk_key")
        #expect(client.tenant == "acme")
        #expect(client.tenants.connection === client.connection)

        let target = SwitchboardClient(target: HostAndPort(host: "127.0.0.1", port: 7420), tenant: "beta-2")
        #expect(target.connection.configuration.metadata.values("switchboard-tenant") == ["beta-2"])
    }

    @Test("without tenant: no switchboard-tenant, or the configuration's own; a tenant replaces the configuration's")
    func defaults() {
        let plain = SwitchboardClient()
        #expect(plain.tenant == nil)
        #expect(plain.connection.configuration.metadata.isEmpty)

        let configured = RPCConnection.Configuration(metadata: ["switchboard-tenant": "from-configuration", "request-id": "r"])
        #expect(SwitchboardClient(configuration: configured).tenant == "from-configuration")
        let replaced = SwitchboardClient(tenant: "acme", configuration: configured)
        #expect(replaced.connection.configuration.metadata.values(SwitchboardClient.tenantMetadataKey) == ["acme"])
        #expect(replaced.connection.configuration.metadata.first("request-id") == "r")
    }

    @Test(
        "isValidTenantID: 1 to 63 bytes of lowercase ASCII letters, digits and '-', starting with a letter or a digit",
        arguments: [
            ("default", true), ("acme", true), ("a", true), ("9", true), ("acme-eu-2", true), ("a-", true),
            ("0-0", true), (String(repeating: "a", count: 63), true),
            ("", false), (String(repeating: "a", count: 64), false), ("-acme", false), ("Acme", false),
            ("acme_eu", false), ("acme eu", false), ("acme.eu", false), ("äcme", false), ("acme\n", false),
        ]
    )
    func validation(id: String, valid: Bool) {
        #expect(SwitchboardClient.isValidTenantID(id) == valid)
    }

    @Test("every call carries the tenant to the server")
    func onTheWire() async throws {
        try await withTestServer { server in
            // `default` exists on every server, whatever it makes of the metadata.
            let client = SwitchboardClient(host: "127.0.0.1", port: server.port, tenant: "default")
            let echo = TestingEchoService.Client(connection: client.connection)
            for _ in 0..<2 {
                let response = try await echo.echo(TestingEchoRequest(echoMetadata: ["switchboard-tenant"]))
                #expect(response.metadata == ["switchboard-tenant": "default"])
            }
            await client.close()
        }
    }
}
