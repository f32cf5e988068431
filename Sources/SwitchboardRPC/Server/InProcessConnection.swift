public import Logging
public import NIOCore

extension RPCRouter {
    /// Installs on `channel` the handlers a server gives each accepted connection (the frame
    /// decoder and the connection handler), serving this router's methods.
    ///
    /// For driving the server without a socket (the fuzz targets under `Fuzz/` feed bytes to a
    /// `NIOAsyncTestingChannel` this way). Call it on the channel's event loop.
    @_spi(Testing)
    public func configureServerConnection(
        _ channel: any Channel, maximumDataLength: Int = 4 << 20, logger: Logger, connectionID: String = "in-process"
    ) throws {
        let settings = ServerConnectionHandler.Settings(router: self, maximumDataLength: maximumDataLength, logger: logger)
        try ServerConnectionHandler.install(on: channel, settings: settings, connectionID: connectionID)
    }
}
