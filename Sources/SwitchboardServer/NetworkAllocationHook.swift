public import Logging
import SwitchboardAddress
public import SwitchboardCore
import SwitchboardProto
import SwitchboardRPC
import SwitchboardServices
import Synchronization

/// The business server's `AllocationHook` over ttrpc: one persistent, multiplexed connection to
/// the configured address, the configured deadline, one retry while time remains when the
/// connection drops, and a cool-down after repeated failures (the fallback applies at once, so no
/// user waits on a hook that is down; one trial call after the cool-down).
public final class NetworkAllocationHook: AllocationHook {
    /// Counters of the hook's use, since start.
    public struct Statistics: Sendable, Hashable {
        /// Calls made (a retry counts once more).
        public var calls = 0
        /// Answers used.
        public var answers = 0
        /// Failed allocations (deadline, error, unreachable, no decision).
        public var failures = 0
        /// Allocations answered by the fallback at once, during a cool-down.
        public var skipped = 0
        /// The sum of the answered calls' latencies.
        public var totalLatency = Duration.zero
    }

    private struct State {
        var address = ""
        var connection: RPCConnection?
        var consecutiveFailures = 0
        var coolDownUntil: Timestamp?
        var statistics = Statistics()
    }

    /// Failures in a row that start a cool-down.
    public let failureThreshold: Int
    /// How long the hook is skipped after repeated failures.
    public let coolDown: Duration
    private let clock: any WallClock
    private let logger: Logger
    private let metadata: Metadata
    private let state = Mutex(State())

    /// Creates the hook client; it connects on its first call. With `token`, every call carries
    /// `authorization: Bearer <token>` for the business server to check.
    public init(
        failureThreshold: Int = 3, coolDown: Duration = .seconds(30), clock: any WallClock = SystemWallClock(),
        token: String? = nil, logger: Logger = Logger(label: "switchboard.hook")
    ) {
        var metadata = Metadata()
        if let token { metadata.addBearerToken(token) }
        self.metadata = metadata
        self.failureThreshold = failureThreshold
        self.coolDown = coolDown
        self.clock = clock
        self.logger = logger
    }

    /// The counters so far.
    public var statistics: Statistics { state.withLock { $0.statistics } }

    public func allocate(_ query: AllocationQuery) async -> RoutingState.HookAnswer {
        let now = clock.now()
        enum Plan { case skip, call(RPCConnection, replaced: RPCConnection?) }
        let target: HostAndPort
        do throws(HostAndPort.ParseError) {
            // The settings validated it; a failure here is a bug, answered like a hook failure.
            target = try HostAndPort(parsing: query.address, field: "settings.allocation.hook_address")
        } catch {
            return failed("\(error)", query)
        }
        let plan: Plan = state.withLock { state in
            if let until = state.coolDownUntil, now < until {
                state.statistics.skipped += 1
                return .skip
            }
            var replaced: RPCConnection?
            if state.address != query.address || state.connection == nil {
                // The address changed in the settings: a new connection; the old one is closed.
                replaced = state.connection
                state.address = query.address
                state.connection = RPCConnection(target: target, configuration: .init(metadata: metadata))
            }
            return .call(state.connection!, replaced: replaced)
        }
        guard case .call(let connection, let replaced) = plan else {
            return .failed("the hook is in a cool-down after \(failureThreshold) failures in a row")
        }
        await replaced?.close()
        let client = HookAllocationHook.Client(connection: connection)
        let request = HookAllocateRequest(
            sessionID: query.sessionID, userID: query.userID, groupID: query.groupID ?? "", attributes: query.attributes,
            eventTimeMs: query.eventTime.milliseconds, idempotencyKey: query.idempotencyKey
        )
        let started = ContinuousClock.now
        let deadline = started + query.deadline
        var retried = false
        while true {
            let remaining = deadline - .now
            guard remaining > .zero else { return failed("deadline of \(query.deadline) exceeded", query) }
            state.withLock { $0.statistics.calls += 1 }
            do {
                let response = try await client.allocate(request, options: CallOptions(timeout: remaining))
                let answer = Self.answer(response)
                if case .failed(let reason) = answer { return failed(reason, query) }
                state.withLock { state in
                    state.consecutiveFailures = 0
                    state.coolDownUntil = nil
                    state.statistics.answers += 1
                    state.statistics.totalLatency += ContinuousClock.now - started
                }
                return answer
            } catch {
                if error.code == .unavailable && !retried {
                    retried = true
                    continue
                }
                return failed("\(error)", query)
            }
        }
    }

    private func failed(_ reason: String, _ query: AllocationQuery) -> RoutingState.HookAnswer {
        let now = clock.now()
        let coolingDown = state.withLock { state in
            state.statistics.failures += 1
            state.consecutiveFailures += 1
            if state.consecutiveFailures >= failureThreshold {
                state.coolDownUntil = now.adding(coolDown)
                return true
            }
            return false
        }
        logger.warning(
            "allocation hook failed; the fallback applies",
            metadata: ["session": "\(query.sessionID)", "address": "\(query.address)", "reason": "\(reason)", "cool-down": "\(coolingDown)"]
        )
        return .failed(reason)
    }

    static func answer(_ response: HookAllocateResponse) -> RoutingState.HookAnswer {
        let answer: RoutingState.HookAnswer = switch response.decision {
        case .groupID(let id)?: .group(id)
        case .agents(let list)?: .agents(list.agentIDs)
        case .reject(let rejection)?: .reject(rejection.message)
        case .automatic(true)?: .automatic
        case .automatic(false)?, nil: .failed("malformed answer: no decision")
        }
        return answer.checked()  // held to the rules of any input: out of bounds fails like a malformed answer
    }
}
