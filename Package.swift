// swift-tools-version:6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Enclave",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "enclave", targets: ["enclave"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/JohnSundell/Ink.git", from: "0.6.0"),
    ],
    targets: [
        // Pure domain rules: no I/O.
        .target(
            name: "EnclaveCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "EnclaveStore",
            dependencies: [
                "EnclaveCore",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        // Debian's libqrencode (apt-get install libqrencode-dev): QR codes of TOTP enrollment URIs.
        .systemLibrary(name: "CQRencode", path: "Sources/CQRencode", pkgConfig: "libqrencode", providers: [.apt(["libqrencode-dev"])]),
        .target(
            name: "EnclaveAuth",
            dependencies: [
                "EnclaveCore", "EnclaveStore", "CQRencode",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "HummingbirdOTP", package: "hummingbird-auth"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "EnclaveEngine",
            dependencies: [
                "EnclaveCore",
                "EnclaveStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        // The one-host data plane: network namespaces, veths, nftables, uids, cgroup limits, supervised workloads.
        .target(
            name: "EnclaveLocal",
            dependencies: [
                "EnclaveCore", "EnclaveEngine", "EnclaveStore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: swiftSettings
        ),
        // The airlock: file stages on disk, streamed uploads, the clamd scanner, output checks, the processor.
        .target(
            name: "EnclaveAirlock",
            dependencies: [
                "EnclaveCore", "EnclaveStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "_NIOFileSystem", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                // Notifications: webhooks over HTTP(S), mail over SMTP with STARTTLS.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        // The API contract (openapi.yaml), the wire types shared by server and CLI, and the client.
        .target(
            name: "EnclaveAPI",
            dependencies: [
                "EnclaveCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Yams", package: "Yams"),
            ],
            resources: [.copy("openapi.yaml")],
            swiftSettings: swiftSettings
        ),
        // The gateway: authenticated reverse proxy (HTTP + WebSocket) into workspace services.
        .target(
            name: "EnclaveGateway",
            dependencies: [
                "EnclaveCore", "EnclaveStore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The `enclave` client commands (Azure TRE's `tre` CLI): config, tables, operation waiting.
        .target(
            name: "EnclaveCLI",
            dependencies: [
                "EnclaveCore", "EnclaveAPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The web portal's views: mustache templates, their view models, the static CSS and JavaScript, and the
        // pure helpers pages need (the schema-generated form, safe markdown). No I/O beyond reading its resources.
        .target(
            name: "EnclavePortal",
            dependencies: [
                "EnclaveCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Ink", package: "Ink"),
            ],
            resources: [.copy("Templates"), .copy("Static")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "EnclaveServer",
            dependencies: [
                "EnclaveCore", "EnclaveStore", "EnclaveAuth", "EnclaveEngine", "EnclaveAPI", "EnclaveGateway", "EnclaveLocal",
                "EnclaveAirlock", "EnclavePortal",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "enclave",
            dependencies: [
                "EnclaveServer", "EnclaveAPI", "EnclaveAuth", "EnclaveEngine", "EnclaveStore", "EnclaveCLI", "EnclaveAirlock",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "enclave-bench",
            dependencies: [
                "EnclaveAPI", "EnclaveCore", "EnclaveServer", "EnclaveAuth", "EnclaveEngine", "EnclaveStore", "EnclaveAirlock",
                "EnclaveLocal",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "_NIOFileSystem", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "Benchmarks/enclave-bench",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "EnclaveTesting",
            dependencies: [
                "EnclaveCore", "EnclaveStore", "EnclaveAuth", "EnclaveServer", "EnclaveAirlock",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Tests/EnclaveTesting",
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "EnclaveCoreTests", dependencies: ["EnclaveCore"], swiftSettings: swiftSettings),
        .testTarget(name: "EnclavePortalTests", dependencies: ["EnclavePortal", "EnclaveCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "EnclaveStoreTests",
            dependencies: ["EnclaveStore", "EnclaveTesting", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "EnclaveAuthTests", dependencies: ["EnclaveAuth", "EnclaveTesting"], swiftSettings: swiftSettings),
        .testTarget(
            name: "EnclaveLocalTests",
            dependencies: ["EnclaveLocal", "EnclaveTesting", "EnclaveEngine", "EnclaveStore", "EnclaveCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "EnclaveEngineTests", dependencies: ["EnclaveEngine", "EnclaveTesting"], swiftSettings: swiftSettings),
        .testTarget(
            name: "EnclaveAirlockTests",
            dependencies: [
                "EnclaveAirlock", "EnclaveCore", "EnclaveStore", "EnclaveTesting",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EnclaveServerTests",
            dependencies: [
                "EnclaveServer", "EnclaveTesting", "EnclaveCore", "EnclaveStore", "EnclaveAPI", "EnclaveAuth", "EnclaveAirlock", "EnclaveLocal",
                "EnclaveEngine", .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EnclaveCLITests",
            dependencies: [
                "EnclaveCLI", "EnclaveAPI", "EnclaveAuth", "EnclaveCore", "EnclaveServer", "EnclaveStore", "EnclaveTesting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EnclaveGatewayTests",
            dependencies: [
                "EnclaveGateway", "EnclaveServer", "EnclaveTesting", "EnclaveCore", "EnclaveStore", "EnclaveEngine", "EnclaveLocal",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "EnclaveAPI", "EnclaveTesting", "EnclaveAuth", "EnclaveCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
