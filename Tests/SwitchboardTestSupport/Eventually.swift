/// Runs `body` until it returns true, for at most `timeout`: for an effect that lands on the server
/// a moment after what caused it (a closed connection's, or a routing that completes after its
/// caller left).
public func eventually(_ timeout: Duration = .seconds(5), _ body: () async throws -> Bool) async throws -> Bool {
    let end = ContinuousClock.now + timeout
    while ContinuousClock.now < end {
        if try await body() { return true }
        try await Task.sleep(for: .milliseconds(10))
    }
    return false
}
