import NIOCore

/// Every decision of one server connection, as a plain value: events go in (a frame was
/// received, a call returned, a timer fired, shutdown began), actions come out (answer a stream
/// with an error, start a call, arm a timer at an instant, close). It reads no clock, touches no
/// channel and is tested alone; ``ServerConnectionHandler`` feeds it and performs its actions.
///
/// `Handle` is what the owner keeps per call (its task and deadline timer); the machine stores it
/// with the call and hands it back when the call must be answered or cancelled.
///
/// ```
///            quiesceRequested            last call ends
///  active ────────────────────► quiescing ─────────────► closing ──► closed
///     │  idle, slow frame, framing error     │                 ▲  channelInactive
///     └──────────────────────────────────────┴─────────────────┘
/// ```
/// - `active`: requests are admitted by ``RequestAdmission``.
/// - `quiescing`: new requests are `UNAVAILABLE`; streams are ended at once (they never end on
///   their own, and their clients reconnect elsewhere); unary calls in flight finish, and the
///   connection closes when the last one has been answered.
/// - `closing`: the machine has asked to close; frames still arriving are ignored, calls that
///   return are still answered (the writes go nowhere once the channel is closed).
/// - `closed`: the channel is inactive; every call was cancelled, nothing more happens.
struct ServerConnectionStateMachine<Handle> {
    /// The timeouts a connection measures.
    struct Configuration {
        /// A connection on which nothing is read for this long, with no call in flight, is closed.
        var idleTimeout: TimeAmount?
        /// A frame that is not whole this long after its first byte closes the connection.
        var frameTimeout: TimeAmount?
    }

    enum Phase: Equatable {
        case active
        case quiescing
        case closing
        case closed
    }

    private struct Call {
        var handle: Handle
        let streaming: Bool
    }

    private(set) var phase = Phase.active
    private var admission: RequestAdmission
    private var calls: [UInt32: Call] = [:]
    private let idleTimeout: TimeAmount?
    private var idleTimer: IdleTimer?
    private var frameTimer: FrameTimer?

    init(configuration: Configuration, admission: RequestAdmission) {
        self.admission = admission
        self.idleTimeout = configuration.idleTimeout
        self.frameTimer = configuration.frameTimeout.map(FrameTimer.init(timeout:))
    }

    /// Calls in flight.
    var callsInFlight: Int { calls.count }

    /// Whether frames are still read: not once the machine has asked to close.
    var acceptsFrames: Bool { phase == .active || phase == .quiescing }

    /// Whether the call on `streamID` is in flight (a stream may still send).
    func isCallOpen(_ streamID: UInt32) -> Bool {
        calls[streamID] != nil
    }

    // MARK: Starting

    /// The connection is active at `now`: with an idle timeout, arm its timer at the returned
    /// instant (once; `nil` afterwards or without an idle timeout).
    mutating func connectionStarted(now: NIODeadline) -> NIODeadline? {
        guard let idleTimeout, idleTimer == nil, phase == .active else { return nil }
        let timer = IdleTimer(timeout: idleTimeout, now: now)
        idleTimer = timer
        return timer.firstDeadline
    }

    // MARK: Reading

    /// A read of bytes begins.
    mutating func readStarted() {
        idleTimer?.readStarted()
    }

    /// The burst of reads ended at `now`.
    mutating func readCompleted(now: NIODeadline) {
        idleTimer?.readCompleted(now: now)
    }

    /// The bytes of a read were decoded at `now`; see ``FrameTimer/decoded(midFrame:completedFrame:now:)``.
    /// `.arm` replaces the armed slow-frame timer, `.cancel` cancels it.
    mutating func bytesDecoded(midFrame: Bool, completedFrame: Bool, now: NIODeadline) -> FrameTimer.Change {
        guard phase == .active || phase == .quiescing else { return .none }
        return frameTimer?.decoded(midFrame: midFrame, completedFrame: completedFrame, now: now) ?? .none
    }

    /// What to do with a request frame.
    enum RequestAction {
        /// Ignore it (the connection is closing).
        case none
        /// Answer the stream with this error; no call starts.
        case reject(streamID: UInt32, RPCError)
        /// Start the call, then report it with ``callStarted(_:streaming:handle:)``; with a
        /// deadline, arm the call's deadline timer at it.
        case start(AdmittedRequest, deadline: NIODeadline?)
    }

    /// A request frame arrived at `now`.
    mutating func requestReceived(_ request: ReceivedRequest, now: NIODeadline) -> RequestAction {
        switch phase {
        case .closing, .closed:
            return .none
        case .active, .quiescing:
            do {
                let admitted = try admission.admit(request, callsInFlight: calls.count, shuttingDown: phase == .quiescing)
                let deadline = admitted.timeoutNano > 0 ? now + .nanoseconds(admitted.timeoutNano) : nil
                return .start(admitted, deadline: deadline)
            } catch {
                return .reject(streamID: request.streamID, error)
            }
        }
    }

    /// The call admitted on `streamID` has started: the machine keeps `handle` until it ends.
    mutating func callStarted(_ streamID: UInt32, streaming: Bool, handle: Handle) {
        calls[streamID] = Call(handle: handle, streaming: streaming)
    }

    /// Changes the handle of the call on `streamID` if it is still in flight (a handler that
    /// runs at once may have returned before its owner got its handle).
    mutating func updateHandle(_ streamID: UInt32, _ update: (inout Handle) -> Void) {
        guard calls[streamID] != nil else { return }
        update(&calls[streamID]!.handle)
    }

    /// What to do with a frame too large to accept (its data skipped).
    enum OversizedAction {
        case none
        case reject(streamID: UInt32, RPCError)
    }

    /// The header of a frame longer than `maximumDataLength` arrived: a request is answered
    /// `RESOURCE_EXHAUSTED` on its stream (if the stream id is valid, else the id's error); other
    /// frames are dropped.
    mutating func oversizedFrameReceived(_ header: FrameHeader, maximumDataLength: Int) -> OversizedAction {
        guard phase == .active || phase == .quiescing, header.type == .request else { return .none }
        do {
            try admission.admitStreamID(header.streamID)
        } catch {
            return .reject(streamID: header.streamID, error)
        }
        return .reject(
            streamID: header.streamID,
            RPCError(code: .resourceExhausted, message: "request frame of \(header.length) bytes exceeds the limit of \(maximumDataLength) bytes")
        )
    }

    /// A call that ends before its handler returns.
    struct EndedCall {
        var streamID: UInt32
        var handle: Handle
        var streaming: Bool
        /// What the stream is answered with.
        var error: RPCError
    }

    /// What to do with a data frame.
    enum DataAction {
        case none
        /// Answer the stream with this error (no call is on it).
        case reject(streamID: UInt32, RPCError)
        /// Cancel the call's task and timer, answer it with its error; close after if `close`.
        case end(EndedCall, close: Bool)
    }

    /// A data frame arrived. The services here take no client streams: a bare end-of-stream
    /// marker is harmless; an empty frame flagged `no data` alone cancels the call it names
    /// (Switchboard's extension of ttrpc, which has no cancel); any other data ends the call it
    /// names with `INVALID_ARGUMENT`, or is answered so on an odd stream without a call.
    mutating func dataReceived(_ header: FrameHeader) -> DataAction {
        guard phase == .active || phase == .quiescing else { return .none }
        if header.flags.contains(.remoteClosed) && header.length == 0 { return .none }
        if header.flags == [.noData] && header.length == 0 {
            guard let (ended, close) = end(header.streamID, error: RPCError(code: .cancelled, message: "cancelled by the client")) else {
                return .none
            }
            return .end(ended, close: close)
        }
        let error = RPCError(code: .invalidArgument, message: "client data frames are not supported")
        if let (ended, close) = end(header.streamID, error: error) {
            return .end(ended, close: close)
        }
        return header.streamID % 2 == 1 ? .reject(streamID: header.streamID, error) : .none
    }

    // MARK: Calls ending

    /// What to do when a call's handler returned.
    enum ReturnAction {
        /// The call had already ended (deadline, cancellation): its outcome is dropped.
        case none
        /// Write the call's answer; close the connection after if `close`.
        case answer(Handle, close: Bool)
    }

    /// The handler of the call on `streamID` returned (with a result, an error, or a stream end).
    mutating func callReturned(_ streamID: UInt32) -> ReturnAction {
        guard let call = removeCall(streamID) else { return .none }
        return .answer(call.handle, close: shouldCloseWhenDrained())
    }

    /// The call on `streamID` reached its deadline of `timeout`: if it is still in flight, it
    /// ends with `DEADLINE_EXCEEDED`.
    mutating func deadlineExpired(_ streamID: UInt32, timeout: Duration) -> (EndedCall, close: Bool)? {
        end(streamID, error: RPCError(code: .deadlineExceeded, message: "deadline of \(timeout) exceeded"))
    }

    private mutating func end(_ streamID: UInt32, error: RPCError) -> (EndedCall, close: Bool)? {
        guard let call = removeCall(streamID) else { return nil }
        let ended = EndedCall(streamID: streamID, handle: call.handle, streaming: call.streaming, error: error)
        return (ended, shouldCloseWhenDrained())
    }

    /// Forgets a call, giving its stream place back.
    private mutating func removeCall(_ streamID: UInt32) -> Call? {
        guard let call = calls.removeValue(forKey: streamID) else { return nil }
        admission.release(streaming: call.streaming)
        return call
    }

    /// Quiescing with no call left: the connection closes (once).
    private mutating func shouldCloseWhenDrained() -> Bool {
        guard phase == .quiescing, calls.isEmpty else { return false }
        phase = .closing
        return true
    }

    // MARK: Timers

    /// What to do when the idle timer fires.
    enum IdleAction: Equatable {
        case close
        /// Arm the idle timer again at this instant.
        case schedule(at: NIODeadline)
        case none
    }

    /// The idle timer fired at `now`: an idle connection closes unless calls (streams) are in
    /// flight, in which case it is checked again a timeout later.
    mutating func idleTimerFired(now: NIODeadline) -> IdleAction {
        guard phase == .active || phase == .quiescing, let idleTimer else { return .none }
        switch idleTimer.fired(now: now) {
        case .checkAgain(let instant):
            return .schedule(at: instant)
        case .idle where !calls.isEmpty:
            return .schedule(at: now + idleTimer.timeout)
        case .idle:
            phase = .closing
            return .close
        }
    }

    /// The slow-frame timer fired at `now`: the error to close the connection with, when the
    /// frame is late.
    mutating func frameTimerFired(now: NIODeadline) -> FramingError? {
        guard phase == .active || phase == .quiescing, let frameTimer, frameTimer.isLate(now: now) else { return nil }
        phase = .closing
        return .slowFrame(frameTimer.timeout)
    }

    // MARK: Shutting down

    /// The server asked the connection to quiesce: the streams to end with `UNAVAILABLE`, and
    /// whether to close (no call is left).
    mutating func quiesceRequested() -> (ended: [EndedCall], close: Bool) {
        guard phase == .active else { return ([], false) }
        phase = .quiescing
        let error = RPCError(code: .unavailable, message: "the server is shutting down")
        var ended: [EndedCall] = []
        for (streamID, call) in calls where call.streaming {
            _ = removeCall(streamID)
            ended.append(EndedCall(streamID: streamID, handle: call.handle, streaming: true, error: error))
        }
        return (ended, shouldCloseWhenDrained())
    }

    /// A framing violation or a socket error: the connection closes (`false` if it already is).
    mutating func errorCaught() -> Bool {
        guard phase != .closed else { return false }
        phase = .closing
        return true
    }

    /// The channel became inactive (the client left, or the connection was closed): every call
    /// in flight is cancelled without an answer; their handles and whether each is a stream.
    mutating func channelInactive() -> [(handle: Handle, streaming: Bool)] {
        phase = .closed
        let cancelled = calls.map { (handle: $0.value.handle, streaming: $0.value.streaming) }
        for call in calls.values { admission.release(streaming: call.streaming) }
        calls.removeAll()
        return cancelled
    }
}
