import SwitchboardRPC
import Testing

@Suite("Bearer tokens in metadata")
struct BearerTokenTests {
    @Test("addBearerToken writes what bearerToken reads")
    func roundTrip() {
        var metadata: Metadata = ["request-id": "r"]
        metadata.addBearerToken("sb_key.secret")
        #expect(metadata.first("authorization") == "Bearer sb_key.secret")
        #expect(metadata.bearerToken == .token("sb_key.secret"))
    }

    @Test(
        "bearerToken reads the first authorization entry",
        arguments: [
            ([] as [(String, String)], BearerTokenLookup.missing),
            ([("request-id", "r")], .missing),
            ([("authorization", "Bearer abc")], .token("abc")),
            ([("Authorization", "bearer abc")], .token("abc")),
            ([("authorization", "BEARER   abc  ")], .token("abc")),
            ([("authorization", "Bearer ")], .token("")),
            ([("authorization", "Basic abc")], .otherScheme),
            ([("authorization", "Bearer")], .otherScheme),
            ([("authorization", "Bearerabc")], .otherScheme),
            ([("authorization", "Bearer first"), ("authorization", "Bearer second")], .token("first")),
        ]
    )
    func lookup(entries: [(String, String)], expected: BearerTokenLookup) {
        let metadata = Metadata(entries.map { Metadata.Element(key: $0.0, value: $0.1) })
        #expect(metadata.bearerToken == expected)
    }

    @Test("BearerTokenAuthenticator lets in exactly its token")
    func authenticator() throws {
        let authenticator = BearerTokenAuthenticator(token: "hook-secret")
        let method = MethodDescriptor(service: "switchboard.hook.v1.AllocationHook", method: "Allocate")
        var good = Metadata()
        good.addBearerToken("hook-secret")
        #expect(try authenticator.authenticate(method, metadata: good) == Principal(id: "token", role: "caller"))
        for value in [nil, "Bearer other", "Basic hook-secret", "Bearer hook-secre", "Bearer hook-secret2"] as [String?] {
            var metadata = Metadata()
            if let value { metadata.add("authorization", value) }
            #expect(throws: RPCError.self) { try authenticator.authenticate(method, metadata: metadata) }
        }
    }
}
