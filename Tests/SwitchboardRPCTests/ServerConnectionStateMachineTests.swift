import NIOCore
import Testing

@testable import SwitchboardRPC

/// Time the tests move by hand: instants handed to the state machine.
private struct TestTime {
    private(set) var now = NIODeadline.uptimeNanoseconds(1_000_000_000)

    mutating func advance(by amount: TimeAmount) {
        now = now + amount
    }
}

/// Grants every call; refuses a call without `authorization: ok` when `required`.
private struct FakeAuthenticator: RPCAuthenticator {
    func authenticate(_ method: MethodDescriptor, metadata: Metadata) throws(RPCError) -> Principal? {
        guard metadata.first("authorization") == "ok" else {
            throw RPCError(code: .unauthenticated, message: "missing credentials")
        }
        return Principal(id: "k1", role: "admin")
    }
}

private typealias Machine = ServerConnectionStateMachine<Int>

private func request(
    _ streamID: UInt32, route: ReceivedRequest.Route = .unary, timeoutNano: Int64 = 0,
    flags: FrameFlags = [], metadata: Metadata = [:]
) -> ReceivedRequest {
    ReceivedRequest(
        streamID: streamID, flags: flags,
        envelope: .decoded(
            method: MethodDescriptor(service: "test.v1.Echo", method: "Echo"), metadata: metadata,
            timeoutNano: timeoutNano, route: route
        )
    )
}

private func makeMachine(
    idleTimeout: TimeAmount? = nil, frameTimeout: TimeAmount? = nil, maximumCalls: Int = .max,
    streams: StreamBudget = StreamBudget(limit: .max), authenticator: (any RPCAuthenticator)? = nil
) -> Machine {
    Machine(
        configuration: .init(idleTimeout: idleTimeout, frameTimeout: frameTimeout),
        admission: RequestAdmission(maximumCallsPerConnection: maximumCalls, streams: streams, authenticator: authenticator)
    )
}

extension Machine {
    /// Receives `request` and, when admitted, starts it with its stream id as the handle.
    mutating func startCall(_ request: ReceivedRequest, now: NIODeadline) -> RPCError? {
        switch requestReceived(request, now: now) {
        case .none:
            Issue.record("request \(request.streamID) was ignored")
            return nil
        case .reject(_, let error):
            return error
        case .start(let admitted, _):
            callStarted(admitted.streamID, streaming: admitted.streaming, handle: Int(admitted.streamID))
            return nil
        }
    }
}

private func header(_ streamID: UInt32, type: FrameType = .data, flags: FrameFlags = [], length: UInt32 = 0) -> FrameHeader {
    FrameHeader(length: length, streamID: streamID, type: type, flags: flags)
}

@Suite("Server connection state machine")
struct ServerConnectionStateMachineTests {
    // MARK: Idle timeout

    @Test("a connection without reads or calls closes at the idle timeout (10 minutes, no waiting)")
    func idleCloses() {
        var time = TestTime()
        var machine = makeMachine(idleTimeout: .minutes(10))
        let first = machine.connectionStarted(now: time.now)
        #expect(first == time.now + .minutes(10))
        let armed = machine.connectionStarted(now: time.now)
        #expect(armed == nil)  // armed once
        time.advance(by: .minutes(10))
        let idle = machine.idleTimerFired(now: time.now)
        #expect(idle == .close)
        #expect(machine.phase == .closing)
        #expect(!machine.acceptsFrames)
    }

    @Test("a read moves the idle deadline on; a read in progress is never idle")
    func idleMovedByReads() {
        var time = TestTime()
        var machine = makeMachine(idleTimeout: .minutes(10))
        _ = machine.connectionStarted(now: time.now)
        time.advance(by: .minutes(4))
        machine.readStarted()
        machine.readCompleted(now: time.now)
        let lastRead = time.now
        time.advance(by: .minutes(6))
        let idle = machine.idleTimerFired(now: time.now)
        #expect(idle == .schedule(at: lastRead + .minutes(10)))
        machine.readStarted()
        time.advance(by: .minutes(4))
        let idle2 = machine.idleTimerFired(now: time.now)
        #expect(idle2 == .schedule(at: time.now + .minutes(10)))
        machine.readCompleted(now: time.now)
        time.advance(by: .minutes(10))
        let idle3 = machine.idleTimerFired(now: time.now)
        #expect(idle3 == .close)
    }

    @Test("an idle connection with a call (stream) in flight stays open until the call ends")
    func idleWithCallInFlight() {
        var time = TestTime()
        var machine = makeMachine(idleTimeout: .seconds(30))
        _ = machine.connectionStarted(now: time.now)
        machine.readStarted()
        let refusal = machine.startCall(request(1, route: .serverStreaming), now: time.now)
        #expect(refusal == nil)
        machine.readCompleted(now: time.now)
        time.advance(by: .seconds(30))
        let idle = machine.idleTimerFired(now: time.now)
        #expect(idle == .schedule(at: time.now + .seconds(30)))
        guard case .answer(1, close: false) = machine.callReturned(1) else {
            Issue.record("the stream's end is answered")
            return
        }
        time.advance(by: .seconds(30))
        let idle2 = machine.idleTimerFired(now: time.now)
        #expect(idle2 == .close)
    }

    @Test("without an idle timeout no timer is armed")
    func noIdleTimeout() {
        var machine = makeMachine()
        let armed = machine.connectionStarted(now: .uptimeNanoseconds(0))
        #expect(armed == nil)
        let idle = machine.idleTimerFired(now: .uptimeNanoseconds(0))
        #expect(idle == .none)
    }

    // MARK: Slow frames

    @Test("a frame's first bytes arm the slow-frame timer; more bytes of it do not reset it")
    func slowFrame() throws {
        var time = TestTime()
        var machine = makeMachine(frameTimeout: .seconds(10))
        let timer = machine.bytesDecoded(midFrame: false, completedFrame: true, now: time.now)
        #expect(timer == .none)
        let start = time.now
        let timer2 = machine.bytesDecoded(midFrame: true, completedFrame: false, now: time.now)
        #expect(timer2 == .arm(at: start + .seconds(10)))
        time.advance(by: .seconds(6))
        let timer3 = machine.bytesDecoded(midFrame: true, completedFrame: false, now: time.now)
        #expect(timer3 == .none)
        time.advance(by: .seconds(3))
        let lateness = machine.frameTimerFired(now: time.now)
        #expect(lateness == nil)  // early: not late yet
        time.advance(by: .seconds(1))
        let lateness2 = machine.frameTimerFired(now: time.now)
        let error = try #require(lateness2)
        #expect(error.description.contains("did not arrive whole within 10000 ms"))
        #expect(machine.phase == .closing)
    }

    @Test("a frame that completes cancels the timer; the next frame's clock starts afresh")
    func slowFrameRestarts() {
        var time = TestTime()
        var machine = makeMachine(frameTimeout: .seconds(10))
        _ = machine.bytesDecoded(midFrame: true, completedFrame: false, now: time.now)
        time.advance(by: .seconds(9))
        // The rest arrives with the first bytes of the next frame.
        let timer = machine.bytesDecoded(midFrame: true, completedFrame: true, now: time.now)
        #expect(timer == .arm(at: time.now + .seconds(10)))
        time.advance(by: .seconds(9))
        let lateness = machine.frameTimerFired(now: time.now)
        #expect(lateness == nil)
        let timer2 = machine.bytesDecoded(midFrame: false, completedFrame: true, now: time.now)
        #expect(timer2 == .cancel)
        time.advance(by: .minutes(5))
        let lateness2 = machine.frameTimerFired(now: time.now)
        #expect(lateness2 == nil)
        #expect(machine.phase == .active)
    }

    // MARK: Stream ids

    @Test("stream ids must be odd and increasing; a refused id does not advance the last one")
    func streamIDs() {
        let now = TestTime().now
        var machine = makeMachine()
        let refusal = machine.startCall(request(2), now: now)
        #expect(refusal?.message == "stream id 2 is even; client streams must use odd ids")
        let refusal2 = machine.startCall(request(5), now: now)
        #expect(refusal2 == nil)
        let reused = machine.startCall(request(5), now: now)
        #expect(reused?.code == .invalidArgument)
        #expect(reused?.message == "stream id 5 is not greater than 5; stream ids must increase")
        let refusal3 = machine.startCall(request(3), now: now)
        #expect(refusal3?.message == "stream id 3 is not greater than 5; stream ids must increase")
        let refusal4 = machine.startCall(request(7), now: now)
        #expect(refusal4 == nil)
        #expect(machine.callsInFlight == 2)
    }

    @Test("an oversized request is RESOURCE_EXHAUSTED on a valid stream, the id error otherwise")
    func oversized() {
        var machine = makeMachine()
        guard case .reject(3, let error) = machine.oversizedFrameReceived(header(3, type: .request, length: 5000), maximumDataLength: 1024) else {
            Issue.record("oversized request refused")
            return
        }
        #expect(error.code == .resourceExhausted)
        #expect(error.message == "request frame of 5000 bytes exceeds the limit of 1024 bytes")
        guard case .reject(3, let reused) = machine.oversizedFrameReceived(header(3, type: .request, length: 5000), maximumDataLength: 1024) else {
            Issue.record("reused id refused")
            return
        }
        #expect(reused.code == .invalidArgument)
        guard case .none = machine.oversizedFrameReceived(header(9, type: .data, length: 5000), maximumDataLength: 1024) else {
            Issue.record("oversized data is dropped")
            return
        }
    }

    // MARK: Limits and authentication

    @Test("calls in flight per connection are limited; an answer frees a place")
    func callsPerConnection() {
        let now = TestTime().now
        var machine = makeMachine(maximumCalls: 2)
        let refusal = machine.startCall(request(1), now: now)
        #expect(refusal == nil)
        let refusal2 = machine.startCall(request(3), now: now)
        #expect(refusal2 == nil)
        let refused = machine.startCall(request(5), now: now)
        #expect(refused?.code == .resourceExhausted)
        #expect(refused?.message.contains("too many calls in flight on this connection (limit 2)") == true)
        _ = machine.callReturned(1)
        let refusal3 = machine.startCall(request(7), now: now)
        #expect(refusal3 == nil)
    }

    @Test("the stream budget is server-wide; ended, quiesced and dropped streams give places back")
    func streamBudget() {
        let now = TestTime().now
        let budget = StreamBudget(limit: 2)
        var first = makeMachine(streams: budget)
        var second = makeMachine(streams: budget)
        let refusal = first.startCall(request(1, route: .serverStreaming), now: now)
        #expect(refusal == nil)
        let refusal2 = second.startCall(request(1, route: .serverStreaming), now: now)
        #expect(refusal2 == nil)
        let refusal3 = second.startCall(request(3), now: now)
        #expect(refusal3 == nil)  // unary calls are not streams
        let refused = first.startCall(request(3, route: .serverStreaming), now: now)
        #expect(refused?.code == .resourceExhausted)
        #expect(refused?.message == "too many streams open on the server (limit 2); retry later")
        #expect(budget.inUse == 2)
        _ = first.callReturned(1)
        #expect(budget.inUse == 1)
        let refusal4 = first.startCall(request(5, route: .serverStreaming), now: now)
        #expect(refusal4 == nil)
        _ = first.quiesceRequested()
        #expect(budget.inUse == 1)
        let cancelled = second.channelInactive()
        #expect(cancelled.count == 2)
        #expect(budget.inUse == 0)
    }

    @Test("a caller who is refused credentials gets UNAUTHENTICATED before any limit, and takes no place")
    func authentication() {
        let now = TestTime().now
        let budget = StreamBudget(limit: 1)
        var machine = makeMachine(maximumCalls: 1, streams: budget, authenticator: FakeAuthenticator())
        let refusal = machine.startCall(request(1, route: .serverStreaming), now: now)
        #expect(refusal?.code == .unauthenticated)
        #expect(budget.inUse == 0 && machine.callsInFlight == 0)
        guard case .start(let admitted, _) = machine.requestReceived(request(3, metadata: ["authorization": "ok"]), now: now) else {
            Issue.record("an authenticated call starts")
            return
        }
        #expect(admitted.principal == Principal(id: "k1", role: "admin"))
        machine.callStarted(3, streaming: false, handle: 3)
        // The connection is full, yet the anonymous caller learns about its credentials first.
        let refusal2 = machine.startCall(request(5), now: now)
        #expect(refusal2?.code == .unauthenticated)
        let refusal3 = machine.startCall(request(7, metadata: ["authorization": "ok"]), now: now)
        #expect(refusal3?.code == .resourceExhausted)
    }

    // MARK: Deadlines and data frames

    @Test("a request's timeout_nano becomes the call's deadline; at it the call ends DEADLINE_EXCEEDED")
    func deadline() throws {
        var time = TestTime()
        var machine = makeMachine()
        guard case .start(let admitted, let deadline) = machine.requestReceived(request(1, timeoutNano: 50_000_000), now: time.now) else {
            Issue.record("the call starts")
            return
        }
        #expect(deadline == time.now + .milliseconds(50))
        machine.callStarted(admitted.streamID, streaming: false, handle: 1)
        time.advance(by: .milliseconds(50))
        let expired = machine.deadlineExpired(1, timeout: .milliseconds(50))
        let (ended, close) = try #require(expired)
        #expect(ended.handle == 1 && !close)
        #expect(ended.error.code == .deadlineExceeded)
        #expect(ended.error.message == "deadline of 0.05 seconds exceeded")
        // The handler's late answer is dropped.
        guard case .none = machine.callReturned(1) else {
            Issue.record("a late answer is dropped")
            return
        }
        guard case .start(_, nil) = machine.requestReceived(request(3), now: time.now) else {
            Issue.record("no timeout: no deadline")
            return
        }
    }

    @Test("data frames: no-data alone cancels, end markers are harmless, other data is INVALID_ARGUMENT")
    func dataFrames() {
        let now = TestTime().now
        var machine = makeMachine()
        _ = machine.startCall(request(1, route: .serverStreaming), now: now)
        _ = machine.startCall(request(3), now: now)
        guard case .none = machine.dataReceived(header(1, flags: .remoteClosed)) else {
            Issue.record("an end-of-stream marker is ignored")
            return
        }
        guard case .end(let cancelled, close: false) = machine.dataReceived(header(1, flags: .noData)) else {
            Issue.record("no-data alone cancels the call")
            return
        }
        #expect(cancelled.streaming && cancelled.error.code == .cancelled && cancelled.error.message == "cancelled by the client")
        guard case .none = machine.dataReceived(header(1, flags: .noData)) else {
            Issue.record("cancelling an ended call does nothing")
            return
        }
        guard case .end(let invalid, close: false) = machine.dataReceived(header(3, length: 4)) else {
            Issue.record("data on a call ends it")
            return
        }
        #expect(invalid.error.code == .invalidArgument && invalid.error.message == "client data frames are not supported")
        guard case .reject(9, let error) = machine.dataReceived(header(9, length: 4)) else {
            Issue.record("data on an odd stream without a call is answered")
            return
        }
        #expect(error.code == .invalidArgument)
        guard case .none = machine.dataReceived(header(10, length: 4)) else {
            Issue.record("data on an even stream is dropped")
            return
        }
    }

    // MARK: Shutting down

    @Test("quiescing ends streams at once, refuses new calls, lets unary calls finish, then closes")
    func quiescing() {
        let now = TestTime().now
        var machine = makeMachine()
        _ = machine.startCall(request(1), now: now)
        _ = machine.startCall(request(3, route: .serverStreaming), now: now)
        _ = machine.startCall(request(5), now: now)
        let (ended, close) = machine.quiesceRequested()
        #expect(ended.map(\.streamID) == [3] && !close)
        #expect(ended.first?.error.code == .unavailable)
        #expect(ended.first?.error.message == "the server is shutting down")
        #expect(machine.phase == .quiescing)
        let refused = machine.startCall(request(7), now: now)
        #expect(refused?.code == .unavailable)
        // A bad stream id is still the first thing a request is told.
        let refusal = machine.startCall(request(7), now: now)
        #expect(refusal?.code == .invalidArgument)
        guard case .answer(1, close: false) = machine.callReturned(1) else {
            Issue.record("first call answered, one left")
            return
        }
        guard case .answer(5, close: true) = machine.callReturned(5) else {
            Issue.record("last call answered, then the connection closes")
            return
        }
        #expect(machine.phase == .closing)
        guard case .none = machine.requestReceived(request(9), now: now) else {
            Issue.record("a closing connection ignores requests")
            return
        }
    }

    @Test("quiescing a connection without calls closes it at once; a second request is ignored")
    func quiescingIdle() {
        var machine = makeMachine()
        let (ended, close) = machine.quiesceRequested()
        #expect(ended.isEmpty && close)
        let (again, closeAgain) = machine.quiesceRequested()
        #expect(again.isEmpty && !closeAgain)
    }

    @Test("a deadline reached while quiescing ends the last call and closes")
    func quiescingDeadline() throws {
        let now = TestTime().now
        var machine = makeMachine()
        _ = machine.startCall(request(1, timeoutNano: 1_000), now: now)
        _ = machine.quiesceRequested()
        let expired = machine.deadlineExpired(1, timeout: .nanoseconds(1_000))
        let (_, close) = try #require(expired)
        #expect(close)
    }

    @Test("an inactive channel cancels every call without answers; nothing happens afterwards")
    func inactive() {
        let now = TestTime().now
        var machine = makeMachine(idleTimeout: .seconds(1))
        _ = machine.connectionStarted(now: now)
        _ = machine.startCall(request(1), now: now)
        _ = machine.startCall(request(3, route: .serverStreaming), now: now)
        let cancelled = machine.channelInactive()
        #expect(Set(cancelled.map { $0.handle }) == [1, 3])
        #expect(machine.phase == .closed && machine.callsInFlight == 0)
        guard case .none = machine.callReturned(1) else {
            Issue.record("answers after the end are dropped")
            return
        }
        let idle = machine.idleTimerFired(now: now + .seconds(5))
        #expect(idle == .none)
        let closes = machine.errorCaught()
        #expect(!closes)
    }
}
