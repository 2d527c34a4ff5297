// swift-tools-version:6.1
import PackageDescription

/// Product targets: any existential spelled out, every module a file uses imported by that file.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "archiver",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "archiver", targets: ["archiver"]),
        .library(name: "ArchiverCore", targets: ["ArchiverCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // zlib, from the system (zlib1g-dev).
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        // libdeflate, from the system (libdeflate-dev): the archive's compressor, zlib's ratio at about 3× the speed.
        .systemLibrary(name: "CDeflate", path: "Sources/CDeflate", providers: [.apt(["libdeflate-dev"])]),

        // AWS Signature Version 4: request signing only.
        .target(
            name: "AWSSigV4",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),

        // JSON: the value tree (parse and write, numbers kept as decimal text), byte-range access to members and
        // elements, the one string escaper. Knows nothing of archiver or AWS.
        .target(name: "JSONToolkit", swiftSettings: strict),

        // AWS clients: credentials and settings, HTTP with retries, S3, DynamoDB, DynamoDB Streams.
        // Knows nothing of archiver.
        .target(
            name: "AWSClients",
            dependencies: [
                "AWSSigV4",
                "JSONToolkit",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict
        ),

        // The product's core: record, names, gzip, the protocols (ChangeSource, ArchiveStore, RestoreTarget),
        // pipeline, checkpoints, dead letters, restore, sync, lifecycle planning, the folder store, the JSON-lines
        // source. Nothing of AWS.
        .target(
            name: "ArchiverCore",
            dependencies: [
                "CZlib",
                "CDeflate",
                "JSONToolkit",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),

        // SQLite adapter: the change table, its source, its restore target.
        .target(
            name: "ArchiverSQLite",
            dependencies: [
                "ArchiverCore",
                "JSONToolkit",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),

        // AWS adapter: the S3 store, the DynamoDB Streams source, the DynamoDB restore target, bucket lifecycle.
        .target(
            name: "ArchiverAWS",
            dependencies: [
                "ArchiverCore",
                "AWSClients",
                "JSONToolkit",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),

        // `archiver serve`: the tails, the HTTP API, the admin page and the metrics of one long-running process, under a
        // ServiceGroup. Knows only the core: the executable hands it the parts (sources, stores, restore targets).
        .target(
            name: "ArchiverServe",
            dependencies: [
                "ArchiverCore",
                "JSONToolkit",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),

        // A realistic feed for tests and benchmarks (`archiver generate`); not part of the archiving path.
        .target(name: "FeedGenerator", dependencies: ["ArchiverCore"], swiftSettings: strict),

        // The command line: commands, typed options, the wiring of specs to parts, all text for people.
        .executableTarget(
            name: "archiver",
            dependencies: [
                "ArchiverCore",
                "ArchiverSQLite",
                "ArchiverAWS",
                "ArchiverServe",
                "AWSClients",
                "FeedGenerator",
                "JSONToolkit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),

        // The fuzz target for the record path: scan, classify, name (see scripts/fuzz). Built normally, it
        // replays inputs; built by scripts/fuzz with -sanitize=fuzzer, it is a libFuzzer target.
        .target(name: "RecordFuzzing", dependencies: ["ArchiverCore"]),
        .executableTarget(name: "RecordFuzzer", dependencies: ["RecordFuzzing"]),

        // Helpers shared by the test targets: temporary folders, moto_server, running the built binary,
        // conformance suites, test-only API (bucket creation, a fixed clock).
        .target(
            name: "TestSupport",
            dependencies: ["ArchiverCore", "AWSClients"],
            path: "Tests/TestSupport"
        ),

        .testTarget(name: "AWSSigV4Tests", dependencies: ["AWSSigV4"]),
        .testTarget(name: "JSONToolkitTests", dependencies: ["JSONToolkit"]),
        .testTarget(name: "AWSClientsTests", dependencies: ["AWSClients", "JSONToolkit", "TestSupport"]),
        .testTarget(name: "ArchiverCoreTests", dependencies: ["ArchiverCore", "JSONToolkit", "TestSupport", "RecordFuzzing", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "ArchiverSQLiteTests", dependencies: ["ArchiverSQLite", "ArchiverCore", "JSONToolkit", "TestSupport"]),
        .testTarget(name: "ArchiverAWSTests", dependencies: ["ArchiverAWS", "ArchiverCore", "AWSClients", "JSONToolkit", "TestSupport"]),
        .testTarget(
            name: "ArchiverServeTests",
            dependencies: [
                "ArchiverServe", "ArchiverCore", "JSONToolkit", "TestSupport",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        .testTarget(name: "FeedGeneratorTests", dependencies: ["FeedGenerator", "JSONToolkit", "TestSupport"]),
        .testTarget(name: "ArchiverCommandTests", dependencies: ["archiver", "ArchiverAWS", "ArchiverCore", "AWSClients", "TestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["archiver", "TestSupport", "ArchiverCore", "ArchiverSQLite", "ArchiverAWS", "JSONToolkit", .product(name: "Crypto", package: "swift-crypto")]),
    ]
)
