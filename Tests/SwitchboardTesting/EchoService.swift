import SwitchboardProto
public import SwitchboardRPC

/// Serves `switchboard.testing.v1.EchoService`, for the RPC layer's tests and benchmark.
///
/// Test support: the production server neither registers nor links it.
public struct EchoService: TestingEchoService.ServiceProtocol {
    /// Creates the service.
    public init() {}

    public func echo(request: TestingEchoRequest, context: ServerContext) async throws -> TestingEchoResponse {
        if request.delayMs > 0 {
            try await Task.sleep(for: .milliseconds(request.delayMs))
        }
        if request.failCode != 0 {
            throw RPCError(
                code: RPCError.Code(rawValue: Int(request.failCode)) ?? .unknown,
                message: "failing as asked (field 'fail_code' is \(request.failCode))"
            )
        }
        var metadata: [String: String] = [:]
        for key in request.echoMetadata {
            metadata[key] = context.metadata.values(key).joined(separator: ",")
        }
        return TestingEchoResponse(payload: request.payload, text: request.text, metadata: metadata)
    }

    public func expand(
        request: TestingExpandRequest, response: RPCStreamWriter<TestingEchoResponse>, context: ServerContext
    ) async throws {
        for index in 0..<request.count {
            if request.intervalMs > 0 && index > 0 {
                try await Task.sleep(for: .milliseconds(request.intervalMs))
            }
            try await response.write(TestingEchoResponse(payload: request.payload, index: index))
        }
        if request.failCode != 0 {
            throw RPCError(
                code: RPCError.Code(rawValue: Int(request.failCode)) ?? .unknown,
                message: "failing as asked after \(request.count) messages"
            )
        }
    }
}
