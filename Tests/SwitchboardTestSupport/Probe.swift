public import SwitchboardProto
public import SwitchboardRPC
public import SwitchboardServices
import SwitchboardServer
public import SwitchboardTesting
import Synchronization

/// An echo service whose calls with text `block` wait until released or cancelled, reporting
/// each step, so tests observe cancellation and draining without sleeping.
public final class ProbeService: TestingEchoService.ServiceProtocol {
    /// What a blocked call went through.
    public enum Event: Sendable, Equatable {
        case started(String)
        case cancelled(String)
        case released(String)
    }

    /// Every event, in order.
    public let events: AsyncStream<Event>
    private let continuation: AsyncStream<Event>.Continuation
    private let gates = Mutex<[String: CheckedContinuation<Void, any Error>]>([:])
    private let released = Mutex<Set<String>>([])

    public init() {
        (events, continuation) = AsyncStream.makeStream()
    }

    /// Lets the blocked call whose payload text is `id` answer.
    public func release(_ id: String) {
        let gate = gates.withLock { gates in
            let gate = gates.removeValue(forKey: id)
            if gate == nil { released.withLock { _ = $0.insert(id) } }
            return gate
        }
        gate?.resume()
    }

    public func echo(request: TestingEchoRequest, context: ServerContext) async throws -> TestingEchoResponse {
        guard request.text.hasPrefix("block") else {
            return TestingEchoResponse(payload: request.payload, text: request.text)
        }
        let id = request.text
        continuation.yield(.started(id))
        do {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (gate: CheckedContinuation<Void, any Error>) in
                    // Under the gates lock, like release(), so an early release is never missed;
                    // cancellation that came before the gate existed is seen here.
                    let early = gates.withLock { gates in
                        let early = released.withLock { $0.remove(id) != nil }
                        if !early { gates[id] = gate }
                        return early
                    }
                    if early {
                        gate.resume()
                    } else if Task.isCancelled, let waiting = gates.withLock({ $0.removeValue(forKey: id) }) {
                        waiting.resume(throwing: CancellationError())
                    }
                }
                try Task.checkCancellation()
            } onCancel: {
                let gate = gates.withLock { $0.removeValue(forKey: id) }
                gate?.resume(throwing: CancellationError())
            }
        } catch {
            continuation.yield(.cancelled(id))
            throw error
        }
        continuation.yield(.released(id))
        return TestingEchoResponse(text: id)
    }

    public func expand(
        request: TestingExpandRequest, response: RPCStreamWriter<TestingEchoResponse>, context: ServerContext
    ) async throws {
        try await EchoService().expand(request: request, response: response, context: context)
    }
}
