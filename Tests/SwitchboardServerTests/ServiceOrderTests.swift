import Logging
import ServiceLifecycle
import SwitchboardRPC
import SwitchboardServer
import SwitchboardStore
import Testing

@Suite("The service group's order")
struct ServiceOrderTests {
    @Test("the RPC server runs last, so it is the first to stop and drains while the others run")
    func serverLast() async throws {
        let logger = Logger(label: "switchboard.test")
        let backend = try await SQLiteBackend(location: .inMemory)
        defer { backend.catalog.close() }
        let tenants = try await TenantRegistry(backend: backend, hook: { _ in nil }, logger: logger)
        let keys = APIKeyRing()
        let server = SwitchboardServer.makeServer(
            configuration: .init(host: "127.0.0.1", port: 0), tenants: tenants, logger: logger, keys: keys
        )
        let services = SwitchboardServer.services(server: server, tenants: tenants, keys: keys, logger: logger)
        #expect(services.count == 3)
        #expect((services.last as? RPCServer) === server)
        #expect(services.dropLast().contains { $0 is TenantSweeper })
        #expect(services.dropLast().contains { $0 is APIKeyRefresher })
        // The group runs them and shuts them all down gracefully.
        let group = ServiceGroup(services: services, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            _ = try await server.listeningAddress
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
