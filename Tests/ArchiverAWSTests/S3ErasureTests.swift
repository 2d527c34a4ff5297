@testable import ArchiverAWS
import ArchiverCore
import AWSClients
import Foundation
import JSONToolkit
import Testing
import TestSupport

/// Erasure on a versioned moto bucket: a subject's objects among many, with older versions, delete markers and
/// objects in GLACIER and DEEP_ARCHIVE. CI runs 1,500 objects, 150 of the subject; `ARCHIVER_ERASURE_OBJECTS` (total)
/// and `ARCHIVER_ERASURE_SUBJECT_OBJECTS` set other sizes. The issue's full size (100,000 and 10,000) is run by
/// `scripts/bench.py --only-erasure --erasure-s3-full`: moto lists versions in time quadratic in the bucket's size
/// (a deep copy of every version per page), which the bench's moto avoids and the shared one does not.
@Suite("Erasure on S3: every version of the subject's objects, nothing else")
struct S3ErasureTests {
    static let environment = ProcessInfo.processInfo.environment
    static let total = Int(environment["ARCHIVER_ERASURE_OBJECTS"] ?? "") ?? 1500
    static let subjectObjects = Int(environment["ARCHIVER_ERASURE_SUBJECT_OBJECTS"] ?? "") ?? 150

    static func key(_ i: Int, subject: Bool) -> String {
        "2024/01/15/USER%23\(subject ? "victim" : "u\(i % 89)")_ITEM%23\(i).103000.\(100_000 + i).manual.json.gz"
    }

    /// Runs `body` over `items` with `limit` calls in flight all along (a new one starts as each ends).
    static func each<T: Sendable>(_ items: [T], limit: Int = 32, _ body: @escaping @Sendable (T) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = items.makeIterator()
            for _ in 0..<limit {
                guard let item = next.next() else { break }
                group.addTask { try await body(item) }
            }
            while try await group.next() != nil {
                if let item = next.next() { group.addTask { try await body(item) } }
            }
        }
    }

    static func versions(_ s3: S3Client, _ bucket: String) async throws -> Set<String> {
        var all = Set<String>()
        for try await version in s3.listAllObjectVersions(bucket: bucket) {
            all.insert("\(version.key) \(version.versionID) \(version.isDeleteMarker ? "marker" : version.storageClass ?? "STANDARD")")
        }
        return all
    }

    /// Indexes the subject's objects `subject` (as a tail would) in a new state folder and erases the subject from the
    /// archive under `archive/` of `bucket`.
    static func erase(_ subject: [Int], s3: S3Client, bucket: String, state: String) async throws -> (job: ErasureJob, summary: ErasureRunSummary) {
        let checkpoints = try CheckpointStore(stateFolder: state)
        let key = SubjectKey(bytes: Array(repeating: 9, count: 32))
        try checkpoints.commit(BatchCommit(source: "test", partition: "", position: "1", at: Date(), writes: [
            SubjectIndexWrite(marks: subject.map { SubjectMark(hmac: key.hmac("victim"), archiveKey: Self.key($0, subject: true)) }),
        ]))
        let erasures = ErasureStore(checkpoints: checkpoints)
        let store = S3ArchiveStore(client: s3, bucket: bucket, prefix: "archive")
        let job = try erasures.create(subjectHMAC: key.hmac("victim"), actions: .array([]), notBefore: Date(), at: Date())
        let summary = try await ErasureRunner(
            erasures: erasures, store: store, eraser: S3ArchiveEraser(store: store), executors: [], roots: RootsConfiguration(),
            receipts: ReceiptBook(stateFolder: state)
        ).run(job.id)
        return (job, summary)
    }

    @Test func aVersionedBucketLosesEveryVersionOfTheSubjectAndNothingElse() async throws {
        let server = try await MotoServer.shared()
        let s3 = S3Client(settings: server.settings(), retryPolicy: RetryPolicy(maxAttempts: 3))
        let bucket = MotoServer.uniqueName("erasure")
        try await s3.createBucket(bucket)
        try await s3.putBucketVersioning(bucket: bucket, status: .enabled)
        let folder = TemporaryFolder("s3-erasure")
        defer { folder.remove() }

        // Subject objects: every third has an older version, every fifth is in GLACIER, every seventh in DEEP_ARCHIVE,
        // every eleventh was deleted (a delete marker over its version).
        let setupStarted = Date()
        let subject = (0..<Self.subjectObjects).map { $0 * (Self.total / Self.subjectObjects) }
        let subjectSet = Set(subject)
        let others = (0..<Self.total).filter { !subjectSet.contains($0) }
        try await Self.each(Array(subject.enumerated())) { j, i in
            let key = "archive/" + Self.key(i, subject: true)
            if j % 3 == 0 { try await s3.putObject(bucket: bucket, key: key, body: Array("old \(i)".utf8)) }
            let storageClass: S3StorageClass? = j % 5 == 0 ? .glacier : (j % 7 == 0 ? .deepArchive : nil)
            try await s3.putObject(bucket: bucket, key: key, body: Array("record \(i)".utf8), storageClass: storageClass)
            if j % 11 == 0 { try await s3.deleteObject(bucket: bucket, key: key) }
        }
        try await Self.each(others) { i in
            try await s3.putObject(bucket: bucket, key: "archive/" + Self.key(i, subject: false), body: Array("record \(i)".utf8),
                                   storageClass: i % 13 == 0 ? .glacier : nil)
        }
        let setup = Date().timeIntervalSince(setupStarted)
        let before = try await Self.versions(s3, bucket)
        let subjectVersions = before.filter { $0.contains("USER%23victim_") }
        #expect(subjectVersions.count > subject.count)

        let started = Date()
        let (job, summary) = try await Self.erase(subject, s3: s3, bucket: bucket, state: folder("state"))
        let seconds = Date().timeIntervalSince(started)
        #expect(summary.completed == 1)

        let after = try await Self.versions(s3, bucket)
        #expect(after == before.subtracting(subjectVersions), "every version of the subject gone, every other version untouched")
        let receipt = try JSONValue.parse(try ReceiptBook(stateFolder: folder("state")).text(job.id))
        let markers = subjectVersions.count { $0.hasSuffix(" marker") }
        #expect(receipt["counts"]?["archive"]?["delete.deleted"] == .integer(subjectVersions.count - markers))
        #expect(receipt["counts"]?["archive"]?["delete-marker.deleted"] == .integer(markers))
        #expect(receipt["objects_by_storage_class"]?["GLACIER"] == .integer(subjectVersions.count { $0.hasSuffix(" GLACIER") }))
        #expect(receipt["objects_by_storage_class"]?["DEEP_ARCHIVE"] == .integer(subjectVersions.count { $0.hasSuffix(" DEEP_ARCHIVE") }))
        #expect(Double(receipt["early_deletion_usd"].flatMap { if case .number(let n) = $0 { n } else { nil } } ?? "0")! > 0)
        if case .array(let ids)? = receipt["s3_request_ids"] { #expect(!ids.isEmpty) } else { Issue.record("no request ids") }
        FileHandle.standardError.write(Data("erasure on moto: \(subjectVersions.count) versions of \(subject.count) objects among \(Self.total) in \(String(format: "%.2f", seconds)) s (puts: \(String(format: "%.1f", setup)) s)\n".utf8))
    }

    /// A bucket that never had versioning, the subject's keys more than a page: listed in bounded ranges side by side
    /// (``ErasureListings``), every one of them found once and deleted, no other touched.
    @Test func anUnversionedBucketLosesTheSubjectsObjectsListedInRanges() async throws {
        let server = try await MotoServer.shared()
        let s3 = S3Client(settings: server.settings(), retryPolicy: RetryPolicy(maxAttempts: 3))
        let bucket = MotoServer.uniqueName("erasure-plain")
        try await s3.createBucket(bucket)
        let folder = TemporaryFolder("s3-erasure-plain")
        defer { folder.remove() }
        let subject = Array(0..<2500)
        let others = (0..<600).map { 10_000 + $0 * 7 }
        try await Self.each(subject.map { Self.key($0, subject: true) } + others.map { Self.key($0, subject: false) }) { key in
            try await s3.putObject(bucket: bucket, key: "archive/" + key, body: Array(key.utf8))
        }
        #expect(ErasureListings.plan(subject.map { Self.key($0, subject: true) }).count > 2)

        let (job, summary) = try await Self.erase(subject, s3: s3, bucket: bucket, state: folder("state"))
        #expect(summary.completed == 1)
        var left: [String] = []
        for try await object in s3.listAllObjects(bucket: bucket) { left.append(object.key) }
        #expect(Set(left) == Set(others.map { "archive/" + Self.key($0, subject: false) }), "the subject's objects gone, every other one kept")
        let receipt = try JSONValue.parse(try ReceiptBook(stateFolder: folder("state")).text(job.id))
        #expect(receipt["counts"]?["archive"]?["delete.deleted"] == .integer(subject.count), "each object deleted once")
    }
}
