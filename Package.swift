// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "switchboard",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "switchboard-server", targets: ["switchboard-server"]),
        .executable(name: "switchboard-example-hook", targets: ["switchboard-example-hook"]),
        .executable(name: "switchboard-cli", targets: ["switchboard-cli"]),
        .library(name: "SwitchboardClient", targets: ["SwitchboardClient"]),
        .library(name: "SwitchboardRPC", targets: ["SwitchboardRPC"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // libprotobuf-c from the system (Debian: libprotobuf-c-dev).
        .systemLibrary(
            name: "CProtobufC",
            pkgConfig: "libprotobuf-c",
            providers: [.apt(["libprotobuf-c-dev"])]
        ),
        // protoc-c output for Protos/ (generated, committed) and small C helpers around it.
        .target(
            name: "CSwitchboardProto",
            dependencies: ["CProtobufC"]
        ),
        // `host:port` addresses: the one parser of the CLI's --server, the hook address, the
        // clients' targets. No dependencies, so the domain core can use it too.
        .target(
            name: "SwitchboardAddress",
            swiftSettings: swiftSettings
        ),
        // Swift message types and their protobuf-c bridges (generated, committed).
        .target(
            name: "SwitchboardProto",
            dependencies: ["CProtobufC", "CSwitchboardProto"],
            swiftSettings: swiftSettings
        ),
        // ttrpc framing, envelope, status and errors, the NIO server and client transports.
        .target(
            name: "SwitchboardRPC",
            dependencies: [
                "SwitchboardAddress", "SwitchboardProto",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Service descriptors, server protocols and typed clients (generated, committed).
        .target(
            name: "SwitchboardServices",
            dependencies: ["SwitchboardProto", "SwitchboardRPC"],
            swiftSettings: swiftSettings
        ),
        // The domain: settings and their validation, agents and groups; no NIO, no C, no SQL.
        .target(
            name: "SwitchboardCore",
            dependencies: [
                "SwitchboardAddress",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings
        ),
        // Persistence behind one store protocol: SQLite (GRDB, the embedded default) and
        // PostgreSQL (postgres-nio): migrations, records, group commit.
        .target(
            name: "SwitchboardStore",
            dependencies: [
                "SwitchboardCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                // The SQLite C API, for the hot-path writes' direct bindings (StoreRecord.swift).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The services Switchboard serves: translate proto <-> core.
        .target(
            name: "SwitchboardServer",
            dependencies: [
                "SwitchboardAddress", "SwitchboardProto", "SwitchboardRPC", "SwitchboardServices", "SwitchboardCore",
                "SwitchboardStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The typed async client library.
        .target(
            name: "SwitchboardClient",
            dependencies: [
                "SwitchboardAddress", "SwitchboardProto", "SwitchboardRPC", "SwitchboardServices",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The command-line client: every RPC as a subcommand.
        .executableTarget(
            name: "switchboard-cli",
            dependencies: [
                "SwitchboardClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // An example business server serving the allocation hook.
        .executableTarget(
            name: "switchboard-example-hook",
            dependencies: [
                "SwitchboardClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "clients/swift/ExampleHook",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "switchboard-server",
            dependencies: [
                "SwitchboardServer", "SwitchboardRPC", "SwitchboardStore", "SwitchboardCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The benchmarks: the RPC load generator against Switchboard and Go ttrpc, the durable
        // agent status benchmark.
        .executableTarget(
            name: "switchboard-bench",
            dependencies: [
                "SwitchboardRPC", "SwitchboardServices", "SwitchboardProto", "SwitchboardServer", "SwitchboardStore",
                "SwitchboardClient", "SwitchboardCore", "SwitchboardTesting", "SwitchboardAddress",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/SwitchboardBench",
            swiftSettings: swiftSettings
        ),
        // libFuzzer targets (see scripts/fuzz and docs/RELIABILITY.md): built with
        // `-sanitize=fuzzer -DFUZZING` they fuzz; a plain build replays their corpus once.
        .target(
            name: "FuzzSupport",
            dependencies: [
                "SwitchboardRPC", "SwitchboardServices", "SwitchboardProto", "SwitchboardServer",
                "SwitchboardStore", "SwitchboardCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Fuzz/FuzzSupport",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FuzzFrames",
            dependencies: [
                "FuzzSupport", "SwitchboardRPC", "SwitchboardProto",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            path: "Fuzz/FuzzFrames",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FuzzEnvelope",
            dependencies: ["FuzzSupport", "SwitchboardRPC", "SwitchboardProto", "SwitchboardServices", .product(name: "NIOCore", package: "swift-nio")],
            path: "Fuzz/FuzzEnvelope",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FuzzRequests",
            dependencies: ["FuzzSupport", "SwitchboardRPC", "SwitchboardProto", "SwitchboardServices", .product(name: "NIOCore", package: "swift-nio")],
            path: "Fuzz/FuzzRequests",
            swiftSettings: swiftSettings
        ),
        // Test support, never linked by switchboard-server: the testing protos
        // (Protos/switchboard/testing/: the echo service and the generator's round-trip message),
        // their protoc-c output and Swift code (generated, committed), and the echo service, for
        // the tests, the benchmarks and the fuzz targets.
        .target(
            name: "CSwitchboardTesting",
            dependencies: ["CProtobufC"],
            path: "Tests/CSwitchboardTesting"
        ),
        .target(
            name: "SwitchboardTesting",
            dependencies: ["CProtobufC", "CSwitchboardTesting", "SwitchboardProto", "SwitchboardRPC"],
            path: "Tests/SwitchboardTesting",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SwitchboardTestSupport",
            dependencies: [
                "SwitchboardTesting",
                "SwitchboardRPC", "SwitchboardServices", "SwitchboardProto", "SwitchboardServer",
                "SwitchboardClient", "SwitchboardStore", "SwitchboardCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/SwitchboardTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwitchboardAddressTests",
            dependencies: ["SwitchboardAddress"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwitchboardProtoTests",
            dependencies: ["SwitchboardProto", "SwitchboardTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwitchboardRPCTests",
            dependencies: [
                "SwitchboardRPC", "SwitchboardProto", "SwitchboardServices", "SwitchboardClient",
                "SwitchboardServer", "SwitchboardTestSupport", "SwitchboardTesting", "SwitchboardAddress",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwitchboardCoreTests",
            dependencies: ["SwitchboardCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwitchboardStoreTests",
            dependencies: [
                "SwitchboardStore", "SwitchboardCore", "SwitchboardTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log"),
            ],
            // Databases made by earlier versions (see Fixtures/README.md).
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwitchboardServerTests",
            dependencies: [
                "SwitchboardTestSupport", "SwitchboardClient", "SwitchboardServer", "SwitchboardCore", "SwitchboardStore",
                "SwitchboardRPC",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "InteropTests",
            dependencies: ["SwitchboardTestSupport", "SwitchboardTesting", "SwitchboardClient", "SwitchboardServer"],
            swiftSettings: swiftSettings
        ),
    ]
)
