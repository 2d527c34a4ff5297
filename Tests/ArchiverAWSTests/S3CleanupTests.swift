import ArchiverAWS
import ArchiverCore
import AWSClients
import Foundation
import Testing
import TestSupport

/// A fresh bucket on the shared moto server with a cleanup root under `uploads/`.
struct S3CleanupFixture {
    let s3: S3Client
    let dynamo: DynamoDBClient
    let bucket: String
    let root: S3CleanupRoot

    init(_ label: String) async throws {
        let server = try await MotoServer.shared()
        s3 = S3Client(settings: server.settings(), retryPolicy: RetryPolicy(maxAttempts: 2))
        dynamo = DynamoDBClient(settings: server.settings())
        bucket = MotoServer.uniqueName(label)
        try await s3.createBucket(bucket)
        root = S3CleanupRoot(client: s3, bucket: bucket, prefix: "uploads")
    }

    /// Every key in the bucket, and every upload in progress (key and id).
    func listing() async throws -> (keys: [String], uploads: [String]) {
        var keys: [String] = []
        for try await object in s3.listAllObjects(bucket: bucket) { keys.append(object.key) }
        let uploads = try await s3.listMultipartUploads(bucket: bucket).map { "\($0.key) \($0.uploadID)" }
        return (keys, uploads.sorted())
    }

    /// Starts an upload; with `parts`, uploads that many small parts to it.
    func startUpload(_ key: String, parts: Int = 0) async throws -> String {
        let id = try await s3.createMultipartUpload(bucket: bucket, key: key)
        for part in 0..<parts {
            _ = try await s3.uploadPart(bucket: bucket, key: key, uploadID: id, partNumber: part + 1, body: Array(repeating: UInt8(part), count: 1000))
        }
        return id
    }
}

@Suite("Cleanup of an S3 root against moto")
struct S3CleanupTests {
    /// Uploads started longer ago than the threshold are stale and the others not; a stale one with parts is kept for
    /// review unless abortPartial. moto stamps every upload with one fixed time (2010-11-10), so "new" and "old" are
    /// that stamp seen from a moment just after it and from a moment a day later.
    @Test func staleUploadsAreAbortedAndThoseWithPartsKeptForReview() async throws {
        let f = try await S3CleanupFixture("cleanup-uploads")
        let emptyOld = try await f.startUpload("uploads/2024-01-01/a.mp4")
        let partialOld = try await f.startUpload("uploads/2024-01-01/b.mp4", parts: 2)
        let outside = try await f.startUpload("elsewhere/c.mp4")
        let emptyNew = try await f.startUpload("uploads/2024-01-02/d.mp4")
        let listed = try await f.s3.listMultipartUploads(bucket: f.bucket)
        let stamp = try #require(listed.compactMap(\.initiated).max())
        let threshold: TimeInterval = 3600

        // Seen right after they started, none is stale: nothing is planned.
        let young = await CleanupPlanner(now: stamp.addingTimeInterval(60)).plan(uploads: try await Self.all(f.root.uploads()), in: f.root, rule: UploadRule(olderThan: threshold))
        #expect(young.actions.isEmpty && young.counts.uploadsTooRecent == 3)

        var pages: [[CleanupUpload]] = []
        for try await page in f.root.uploads() { pages.append(page) }
        #expect(pages.flatMap { $0 }.map(\.key).sorted() == ["2024-01-01/a.mp4", "2024-01-01/b.mp4", "2024-01-02/d.mp4"])

        // A day later all three are stale; emptyNew is left out of the page to stand for one started since.
        let planner = CleanupPlanner(now: stamp.addingTimeInterval(86_400))
        let page = pages.flatMap { $0 }.filter { $0.uploadID != emptyNew }
        let plan = await planner.plan(uploads: page, in: f.root, rule: UploadRule(olderThan: threshold))
        #expect(plan.actions.count == 2)
        #expect(plan.actions.contains(.abortUpload(CleanupUpload(key: "2024-01-01/a.mp4", uploadID: emptyOld, initiated: listed.first { $0.uploadID == emptyOld }?.initiated), parts: CleanupUploadParts(count: 0, bytes: 0))))
        guard case .keepUpload(let kept, let parts)? = plan.actions.first(where: { if case .keepUpload = $0 { true } else { false } }) else {
            Issue.record("the upload with parts was not kept for review: \(plan.actions)")
            return
        }
        #expect(kept.uploadID == partialOld && parts == CleanupUploadParts(count: 2, bytes: 2000))

        // Planning changed nothing.
        #expect(try await f.listing().uploads.count == 4)
        let (done, problems) = await CleanupExecutor(root: f.root).execute(plan)
        #expect(problems.isEmpty, "\(problems)")
        #expect(done.multipartUploadsAborted == 1 && done.uploadsKeptForReview == 1)
        #expect(Set(try await f.s3.listMultipartUploads(bucket: f.bucket).map(\.uploadID)) == [partialOld, outside, emptyNew])

        // With abortPartial, the one with parts goes too, and its parts count as freed.
        let again = await planner.plan(
            uploads: try await Self.all(f.root.uploads()).filter { $0.uploadID != emptyNew }, in: f.root, rule: UploadRule(olderThan: threshold, abortPartial: true))
        let (second, _) = await CleanupExecutor(root: f.root).execute(again)
        #expect(second.multipartUploadsAborted == 1 && second.bytesFreed == 2000)
        #expect(Set(try await f.s3.listMultipartUploads(bucket: f.bucket).map(\.uploadID)) == [outside, emptyNew])
        // An upload gone since it was listed is done, not an error.
        #expect(try await f.root.abort(CleanupUpload(key: "2024-01-01/a.mp4", uploadID: emptyOld, initiated: nil)) == false)
        #expect(try await f.root.parts(of: CleanupUpload(key: "2024-01-01/a.mp4", uploadID: emptyOld, initiated: nil)) == nil)
    }

    @Test func orphansWithoutAnOwnerInDynamoDBAreDeletedAndNothingElse() async throws {
        let f = try await S3CleanupFixture("cleanup-orphans")
        let owners = try await DynamoDBOwnerFixture()
        try await owners.insert(["s-owned"])
        for key in ["uploads/2024-01-01/s-owned.mp4", "uploads/2024-01-01/s-gone.mp4", "uploads/2024-01-01/s-gone.jpg", "uploads/readme.txt", "other/2024-01-01/s-gone.mp4"] {
            try await f.s3.putObject(bucket: f.bucket, key: key, body: Array(repeating: 7, count: 100))
        }
        let rule = OrphanRule(pattern: try OwnerKeyPattern(template: "*/{sessionId}.*"), owners: try await owners.lookup(), olderThan: 60)
        let planner = CleanupPlanner(now: Date().addingTimeInterval(3600))
        let page = try await Self.all(f.root.objects())
        #expect(page.map(\.key) == ["2024-01-01/s-gone.jpg", "2024-01-01/s-gone.mp4", "2024-01-01/s-owned.mp4", "readme.txt"])
        let plan = await planner.plan(objects: page, under: f.root.description, rule: rule)
        #expect(plan.counts.itemsChecked == 2, "s-gone has two objects and is looked up once")
        #expect(plan.counts.objectsOwned == 1 && plan.counts.objectsUnmatched == 1)
        #expect(plan.actions.count == 2)
        let (done, problems) = await CleanupExecutor(root: f.root).execute(plan)
        #expect(problems.isEmpty)
        #expect(done.objectsDeleted == 2 && done.bytesFreed == 200)
        #expect(try await f.listing().keys == ["other/2024-01-01/s-gone.mp4", "uploads/2024-01-01/s-owned.mp4", "uploads/readme.txt"])
    }

    /// Objects whose owner cannot be looked up (the table is missing) are all kept, each counted as an error.
    @Test func aMissingOwnerTableKeepsEveryObject() async throws {
        let f = try await S3CleanupFixture("cleanup-notable")
        for n in 0..<5 { try await f.s3.putObject(bucket: f.bucket, key: "uploads/x/s-\(n).bin", body: [1]) }
        let owners = DynamoDBOwnerLookup(table: MotoServer.uniqueName("missing"), attribute: nil, client: f.dynamo)
        let run = CleanupRun(
            targets: [CleanupTarget(root: f.root, uploads: nil, orphans: OrphanRule(pattern: try OwnerKeyPattern(regex: #"/(s-\d+)\."#), owners: owners, olderThan: 0))],
            dryRun: false, clock: FixedClock(Date().addingTimeInterval(60)))
        let summary = await run.run()
        #expect(summary.totals.objectsKeptOnLookupError == 5 && summary.totals.errors == 5 && summary.totals.objectsDeleted == 0)
        #expect(summary.problems.first?.error.contains("there is no DynamoDB table") == true, "\(summary.problems)")
        #expect(try await f.listing().keys.count == 5)
    }

    /// 2,500 orphans go in three DeleteObjects calls, never more than 1,000 keys each.
    @Test func deletionsAreBatchedByAThousand() async throws {
        let f = try await S3CleanupFixture("cleanup-batches")
        let objects = (0..<2500).map { CleanupObject(key: "k/\($0)", size: 1, lastModified: Date.distantPast) }
        let counting = CountingRoot(inner: f.root)
        let plan = CleanupPlan(place: f.root.description, actions: objects.map { .deleteObject($0, reason: "test") })
        let (done, problems) = await CleanupExecutor(root: counting).execute(plan)
        #expect(problems.isEmpty && done.objectsDeleted == 2500)
        #expect(counting.batches == [1000, 1000, 500])
    }

    static func all<T>(_ stream: AsyncThrowingStream<[T], any Error>) async throws -> [T] {
        var all: [T] = []
        for try await page in stream { all += page }
        return all
    }
}

/// A root that counts the keys of each delete call and passes everything to the real one.
final class CountingRoot: CleanupRoot, @unchecked Sendable {
    let inner: any CleanupRoot
    private let lock = NSLock()
    private var sizes: [Int] = []
    var batches: [Int] { lock.withLock { sizes } }

    init(inner: any CleanupRoot) { self.inner = inner }
    var description: String { inner.description }
    func objects() -> AsyncThrowingStream<[CleanupObject], any Error> { inner.objects() }
    func delete(_ keys: [String]) async throws -> [String: String] {
        lock.withLock { sizes.append(keys.count) }
        return try await inner.delete(keys)
    }
    func uploads() -> AsyncThrowingStream<[CleanupUpload], any Error> { inner.uploads() }
    func parts(of upload: CleanupUpload) async throws -> CleanupUploadParts? { try await inner.parts(of: upload) }
    func abort(_ upload: CleanupUpload) async throws -> Bool { try await inner.abort(upload) }
}
