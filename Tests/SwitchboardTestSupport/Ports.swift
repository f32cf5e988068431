import NIOCore
import NIOPosix

/// A port on 127.0.0.1 that nothing listens on: bound once to let the system pick it, then
/// closed (another process could take it meanwhile, which a test of refused connections accepts).
public func unusedPort() async throws -> Int {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .bind(host: "127.0.0.1", port: 0).get()
    let port = channel.localAddress?.port ?? 0
    try await channel.close()
    return port
}
