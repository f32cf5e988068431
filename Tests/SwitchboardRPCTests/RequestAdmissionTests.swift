import NIOCore
import Testing

@testable import SwitchboardRPC

@Suite("Request admission")
struct RequestAdmissionTests {
    private static let method = MethodDescriptor(service: "test.v1.Echo", method: "Echo")

    private static func request(
        _ streamID: UInt32 = 1, route: ReceivedRequest.Route = .unary, timeoutNano: Int64 = 0,
        flags: FrameFlags = [], undecodable: Bool = false
    ) -> ReceivedRequest {
        ReceivedRequest(
            streamID: streamID, flags: flags,
            envelope: undecodable
                ? .undecodable("truncated field")
                : .decoded(method: method, metadata: [:], timeoutNano: timeoutNano, route: route)
        )
    }

    /// Refuses everyone: authentication must run after the request checks and before the limits.
    private struct Refuse: RPCAuthenticator {
        func authenticate(_ method: MethodDescriptor, metadata: Metadata) throws(RPCError) -> Principal? {
            throw RPCError(code: .permissionDenied, message: "no")
        }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var request: ReceivedRequest
        var shuttingDown = false
        var callsInFlight = 0
        var code: RPCError.Code
        var message: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "even id before a bad envelope", request: request(2, undecodable: true), code: .invalidArgument,
             message: "stream id 2 is even; client streams must use odd ids"),
        Case(name: "bad envelope before shutdown", request: request(undecodable: true), shuttingDown: true, code: .invalidArgument,
             message: "invalid request envelope: truncated field"),
        Case(name: "shutdown before the route", request: request(route: .unknownService), shuttingDown: true, code: .unavailable,
             message: "the server is shutting down"),
        Case(name: "unknown service", request: request(route: .unknownService), code: .unimplemented,
             message: "unknown service 'test.v1.Echo'"),
        Case(name: "unknown method", request: request(route: .unknownMethod), code: .unimplemented,
             message: "unknown method 'Echo' of service 'test.v1.Echo'"),
        Case(name: "client streaming", request: request(flags: .remoteOpen), code: .unimplemented,
             message: "client streaming is not supported ('test.v1.Echo/Echo')"),
        Case(name: "negative timeout before credentials", request: request(timeoutNano: -1), code: .invalidArgument,
             message: "field 'timeout_nano' must not be negative"),
    ]

    @Test("checks run in order; each refusal names what was wrong", arguments: cases)
    func refusals(_ test: Case) {
        var admission = RequestAdmission(streams: StreamBudget(limit: 0), authenticator: Refuse())
        let error = #expect(throws: RPCError.self) {
            try admission.admit(test.request, callsInFlight: test.callsInFlight, shuttingDown: test.shuttingDown)
        }
        #expect(error?.code == test.code)
        #expect(error?.message == test.message)
    }

    @Test("credentials are checked before the limits")
    func credentialsBeforeLimits() {
        var admission = RequestAdmission(maximumCallsPerConnection: 0, streams: StreamBudget(limit: 0), authenticator: Refuse())
        let error = #expect(throws: RPCError.self) {
            try admission.admit(Self.request(), callsInFlight: 5, shuttingDown: false)
        }
        #expect(error?.code == .permissionDenied)
    }

    @Test("an admitted stream takes a place in the budget until released")
    func streamPlaces() throws {
        let budget = StreamBudget(limit: 1)
        var admission = RequestAdmission(streams: budget)
        let admitted = try admission.admit(Self.request(1, route: .serverStreaming, timeoutNano: 5), callsInFlight: 0, shuttingDown: false)
        #expect(admitted.streaming && admitted.timeoutNano == 5 && admitted.principal == nil)
        #expect(budget.inUse == 1)
        #expect(throws: RPCError.self) {
            try admission.admit(Self.request(3, route: .serverStreaming), callsInFlight: 1, shuttingDown: false)
        }
        #expect(admission.lastStreamID == 3)
        admission.release(streaming: true)
        admission.release(streaming: false)
        #expect(budget.inUse == 0)
    }

    @Test("stream ids: odd and increasing, as Go's ttrpc", arguments: [
        ([1, 3, 5], [true, true, true]),
        ([1, 1], [true, false]),
        ([2, 1], [false, true]),
        ([7, 5, 9], [true, false, true]),
        ([UInt32.max], [true]),
    ] as [([UInt32], [Bool])])
    func streamIDs(_ ids: [UInt32], _ accepted: [Bool]) {
        var admission = RequestAdmission(streams: StreamBudget(limit: 0))
        for (id, expected) in zip(ids, accepted) {
            let ok: Bool
            do {
                try admission.admitStreamID(id)
                ok = true
            } catch {
                ok = false
            }
            #expect(ok == expected, "stream id \(id)")
        }
    }
}
