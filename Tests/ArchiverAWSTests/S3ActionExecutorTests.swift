import ArchiverAWS
import ArchiverCore
import AWSClients
import Foundation
import JSONToolkit
import Testing
import TestSupport

/// A bucket on the shared moto server: the root `root/`, kept files in an S3 archive under `archive/` of the same
/// bucket (server-side copies) or in a local folder, and keys beside the root that no action may touch.
struct S3ActionFixture: ActionExecutorFixture {
    let s3: S3Client
    let bucket: String
    let archive: any ArchiveStore
    let folder = TemporaryFolder("s3-actions")
    var root: RootLocation { .s3(bucket: bucket, prefix: "root/") }
    static let outside = ["root-sibling/users/42/a.png", "rootfile", "users/42/b.png", "root-sibling/o/9"]

    init(folderArchive: Bool = false, through endpoint: S3Client? = nil) async throws {
        let server = try await MotoServer.shared()
        let direct = S3Client(settings: server.settings(), retryPolicy: RetryPolicy(maxAttempts: 2))
        s3 = endpoint ?? direct
        bucket = MotoServer.uniqueName("actions")
        try await direct.createBucket(bucket)
        archive = folderArchive
            ? try LocalArchiveStore(path: folder("archive"), access: .create)
            : S3ArchiveStore(client: direct, bucket: bucket, prefix: "archive")
    }

    func executor() async throws -> any ActionExecutor { S3ActionExecutor(client: s3, archive: archive, concurrency: 8) }

    func put(_ path: String, _ bytes: [UInt8]) async throws { try await s3.putObject(bucket: bucket, key: "root/" + path, body: bytes) }

    func keys(under prefix: String = "") async throws -> [String] {
        var keys: [String] = []
        for try await object in s3.listAllObjects(bucket: bucket, prefix: prefix) { keys.append(object.key) }
        return keys.sorted()
    }

    func paths() async throws -> [String] { try await keys(under: "root/").map { String($0.dropFirst(5)) } }

    func read(_ path: String) async throws -> [UInt8]? {
        do { return try await s3.getObject(bucket: bucket, key: "root/" + path) } catch let error as AWSError where error.kind == .notFound { return nil }
    }

    func putOutside() async throws {
        for key in Self.outside { try await s3.putObject(bucket: bucket, key: key, body: Array(key.utf8)) }
    }

    func outsideIsIntact() async throws -> Bool {
        let beside = try await keys().filter { !$0.hasPrefix("root/") && !$0.hasPrefix("archive/") }
        guard beside == Self.outside.sorted() else { return false }
        for key in Self.outside where try await s3.getObject(bucket: bucket, key: key) != Array(key.utf8) { return false }
        return true
    }

    func startUpload(_ path: String, parts: Int) async throws -> String? {
        let id = try await s3.createMultipartUpload(bucket: bucket, key: "root/" + path)
        for part in 0..<parts { _ = try await s3.uploadPart(bucket: bucket, key: "root/" + path, uploadID: id, partNumber: part + 1, body: [UInt8](repeating: 7, count: 1000)) }
        return id
    }

    func uploadInProgress(_ path: String, _ uploadID: String) async throws -> Bool {
        try await s3.listMultipartUploads(bucket: bucket, prefix: "root/" + path).contains { $0.uploadID == uploadID }
    }

    func remove() { folder.remove() }
}

@Suite("S3 executor on moto: the ActionExecutor contract")
struct S3ActionExecutorContractTests {
    @Test(arguments: ActionExecutorConformance.Case.allCases)
    func contract(_ contract: ActionExecutorConformance.Case) async throws {
        let fixture = try await S3ActionFixture()
        defer { fixture.remove() }
        try await ActionExecutorConformance.check(contract, fixture)
    }

    /// Keeping into a folder archive reads each object and writes it there.
    @Test(arguments: [ActionExecutorConformance.Case.keepsBeforeDeletingAndRestoresWhatItKept, .keepsAWholePrefix, .runningAgainCompletes])
    func contractWithAFolderArchive(_ contract: ActionExecutorConformance.Case) async throws {
        let fixture = try await S3ActionFixture(folderArchive: true)
        defer { fixture.remove() }
        try await ActionExecutorConformance.check(contract, fixture)
    }
}

@Suite("S3 executor on moto: DeleteObjects batching and per-key errors")
struct S3ActionExecutorBatchTests {
    func actions(_ fixture: S3ActionFixture, _ count: Int, prefix: String = "o/") -> [PreparedAction] {
        (0..<count).map { n in
            PreparedAction(id: "e\(n)", target: .object(key: "\(prefix)\(n)", keep: false), rootName: "r", root: fixture.root, archiveKey: "2024/01/15/K.000000.1.manual.json.gz")
        }
    }

    @Test func thousandsOfDeletesGoOutAsDeleteObjectsCallsOfAtMostAThousandKeysEach() async throws {
        let server = try await MotoServer.shared()
        let proxy = try FaultProxy(frontOf: server)
        defer { proxy.stop() }
        let fixture = try await S3ActionFixture(through: S3Client(settings: proxy.settings(), retryPolicy: RetryPolicy(maxAttempts: 2)))
        defer { fixture.remove() }
        let direct = S3Client(settings: server.settings())
        let count = 2_500
        for start in stride(from: 0, to: count, by: 100) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in start..<(start + 100) { group.addTask { try await direct.putObject(bucket: fixture.bucket, key: "root/o/\(n)", body: [1]) } }
                try await group.waitForAll()
            }
        }
        // Two entries naming one object both complete.
        var batch = actions(fixture, count)
        batch.append(batch[7])
        let before = try await proxy.stats()
        let results = await S3ActionExecutor(client: fixture.s3, archive: nil, concurrency: 4).execute(batch)
        #expect(results.allSatisfy { if case .completed = $0 { true } else { false } })
        #expect(try await fixture.paths().isEmpty)
        let calls = (try await proxy.stats()).byRequest.filter { $0.key.hasPrefix("POST ") }.values.reduce(0, +) - before.byRequest.filter { $0.key.hasPrefix("POST ") }.values.reduce(0, +)
        #expect(calls == 3, "2,500 keys went out in \(calls) DeleteObjects calls, not 3")
    }

    @Test func aKeyDeleteObjectsFailsIsRecordedOnItsOwnEntry() async throws {
        let server = try await MotoServer.shared()
        let proxy = try FaultProxy(frontOf: server, seed: 3, keyErrors: 0.3)
        defer { proxy.stop() }
        let fixture = try await S3ActionFixture(through: S3Client(settings: proxy.settings(), retryPolicy: RetryPolicy(maxAttempts: 1)))
        defer { fixture.remove() }
        let direct = S3Client(settings: server.settings())
        for n in 0..<300 { try await direct.putObject(bucket: fixture.bucket, key: "root/o/\(n)", body: [1]) }
        let results = await S3ActionExecutor(client: fixture.s3, archive: nil).execute(actions(fixture, 300))
        let left = Set(try await fixture.paths())
        var failed = 0
        for (n, result) in results.enumerated() {
            switch result {
            case .completed:
                #expect(!left.contains("o/\(n)"), "o/\(n) is reported deleted and is still there")
            case .failed(let failure):
                failed += 1
                #expect(left.contains("o/\(n)"), "o/\(n) is reported failed and is gone")
                #expect(["InternalError", "SlowDown", "AccessDenied"].contains(failure.code))
                #expect(failure.message.contains("root/o/\(n)"), "\(failure.message)")
            }
        }
        #expect(failed == left.count && failed > 30 && failed < 150, "\(failed) of 300 keys failed")
        #expect((try await proxy.stats()).faults["key-error"] == failed)
    }
}
