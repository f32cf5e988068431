@testable import SwitchboardProto
@testable import SwitchboardTesting
import Testing

@Suite("Every generated message")
struct RegistryTests {
    /// The production messages and the testing protos' (generated into SwitchboardTesting).
    static let messageTypes = _ProtoRegistry.messageTypes + _TestingProtoRegistry.messageTypes

    static func roundTrip<M: ProtoMessage & _ProtoSampled>(_: M.Type) throws -> (sample: M, decoded: M, size: Int) {
        let sample = M._sample
        let bytes = try sample.serializedBytes()
        return (sample, try M(serializedBytes: bytes), bytes.count)
    }

    @Test("round-trips through protobuf-c with every field set", arguments: Self.messageTypes.map { ObjectIdentifier($0) })
    func everyMessage(id: ObjectIdentifier) throws {
        let type = try #require(Self.messageTypes.first { ObjectIdentifier($0) == id })
        let (sample, decoded, size) = try Self.roundTrip(type)
        #expect(size > 0 || type._fieldCount == 0, "\(type)'s sample should encode to something")
        #expect(AnyHashable(decoded) == AnyHashable(sample), "\(type) changed in a round trip")
    }

    @Test("the registry lists the ttrpc envelope and the Health messages")
    func registry() {
        let names = Set(_ProtoRegistry.messageTypes.map { "\($0)" })
        #expect(names.isSuperset(of: ["Ttrpc_Request", "Ttrpc_Response", "Ttrpc_KeyValue", "Google_Rpc_Status", "HealthCheckRequest"]))
    }
}
