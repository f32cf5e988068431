public import SwitchboardProto
public import SwitchboardRPC
public import SwitchboardServices
import Synchronization

/// Serves `switchboard.v1.Health`: whether the server and each of its services are serving.
public final class HealthService: Health.ServiceProtocol {
    private struct State {
        var status = HealthCheckResponse.ServingStatus.serving
        var nextWatcher = 0
        var watchers: [Int: AsyncStream<HealthCheckResponse.ServingStatus>.Continuation] = [:]
    }

    /// The version reported in every answer.
    public let version: String
    private let services: Set<String>
    private let state = Mutex(State())

    /// Creates the service; `services` are the fully qualified names `Check` knows besides the
    /// server as a whole (the empty name).
    public init(version: String, services: [String]) {
        self.version = version
        self.services = Set(services)
    }

    /// Reports `NOT_SERVING` from now on (a graceful shutdown began) or `SERVING` again.
    public func setServing(_ serving: Bool) {
        let (status, watchers) = state.withLock { state in
            state.status = serving ? .serving : .notServing
            return (state.status, Array(state.watchers.values))
        }
        for watcher in watchers { watcher.yield(status) }
    }

    public func check(request: HealthCheckRequest, context: ServerContext) async throws -> HealthCheckResponse {
        try validate(request)
        return HealthCheckResponse(status: state.withLock(\.status), serverVersion: version)
    }

    public func watch(
        request: HealthCheckRequest, response: RPCStreamWriter<HealthCheckResponse>, context: ServerContext
    ) async throws {
        try validate(request)
        let (updates, continuation) = AsyncStream<HealthCheckResponse.ServingStatus>.makeStream(
            bufferingPolicy: .bufferingNewest(1)
        )
        let id = state.withLock { state in
            let id = state.nextWatcher
            state.nextWatcher += 1
            state.watchers[id] = continuation
            continuation.yield(state.status)
            return id
        }
        defer { _ = state.withLock { $0.watchers.removeValue(forKey: id) } }
        var last: HealthCheckResponse.ServingStatus?
        for await status in updates where status != last {
            last = status
            try await response.write(HealthCheckResponse(status: status, serverVersion: version))
        }
    }

    private func validate(_ request: HealthCheckRequest) throws {
        guard request.service.isEmpty || services.contains(request.service) else {
            throw RPCError(code: .notFound, message: "field 'service': unknown service '\(request.service)'")
        }
    }
}
