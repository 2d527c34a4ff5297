// swift-tools-version:6.1
import PackageDescription

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
    ],
    targets: [
        // zlib, from the system (zlib1g-dev).
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        // libdeflate, from the system (libdeflate-dev): the archive's compressor, zlib's ratio at about 3× the speed.
        .systemLibrary(name: "CDeflate", path: "Sources/CDeflate", providers: [.apt(["libdeflate-dev"])]),

        // AWS Signature Version 4: request signing only.
        .target(
            name: "AWSSigV4",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),

        // The AWS wire protocol: credentials and settings, HTTP with retries, S3, DynamoDB, DynamoDB Streams.
        .target(
            name: "ArchiverAWS",
            dependencies: [
                "AWSSigV4",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Record model, sources, naming, gzip, stores, checkpoint, dead letters, restore, sync, lifecycle.
        .target(
            name: "ArchiverCore",
            dependencies: [
                "CZlib",
                "CDeflate",
                "ArchiverAWS",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The command line: parses arguments and calls into ArchiverCore.
        .executableTarget(
            name: "archiver",
            dependencies: [
                "ArchiverCore",
                "ArchiverAWS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The fuzz target for the record path: scan, classify, name (see scripts/fuzz). Built normally, it
        // replays inputs; built by scripts/fuzz with -sanitize=fuzzer, it is a libFuzzer target.
        .target(name: "RecordFuzzing", dependencies: ["ArchiverCore"]),
        .executableTarget(name: "RecordFuzzer", dependencies: ["RecordFuzzing"]),

        // Helpers shared by the test targets: temporary folders, moto_server, running the built binary.
        .target(
            name: "TestSupport",
            dependencies: ["ArchiverCore", "ArchiverAWS"],
            path: "Tests/TestSupport"
        ),

        .testTarget(name: "AWSSigV4Tests", dependencies: ["AWSSigV4"]),
        .testTarget(name: "ArchiverAWSTests", dependencies: ["ArchiverAWS", "TestSupport"]),
        .testTarget(name: "ArchiverCoreTests", dependencies: ["ArchiverCore", "TestSupport", "RecordFuzzing"]),
        .testTarget(name: "EndToEndTests", dependencies: ["archiver", "TestSupport", "ArchiverCore"]),
    ]
)
