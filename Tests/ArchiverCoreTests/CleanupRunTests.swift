import ArchiverCore
import Foundation
import Testing
import TestSupport

/// Owners held in memory, for the cleanup tests of this layer (the real lookups have their own conformance suite).
struct MemoryOwners: OwnerLookup {
    var present: Set<String>
    /// Ids whose lookup fails.
    var failing: Set<String> = []
    var description: String { "memory:owners" }

    func ownerExists(_ id: String) async throws -> Bool {
        if failing.contains(id) { throw CleanupTestError("the owner table did not answer for \(id)") }
        return present.contains(id)
    }
}

struct CleanupTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Writes a file of `size` bytes last modified `age` seconds before `now`.
func writeFile(_ path: String, size: Int, age: TimeInterval, now: Date) throws {
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try Data(repeating: 1, count: size).write(to: URL(fileURLWithPath: path))
    try FileManager.default.setAttributes([.modificationDate: now.addingTimeInterval(-age)], ofItemAtPath: path)
}

@Suite("cleanup: plans, dry runs and real runs on a local root")
struct CleanupRunTests {
    static let now = Date(timeIntervalSince1970: 1_705_315_800)
    static let day: TimeInterval = 86_400

    /// A folder of uploads: two objects of a gone owner, one of an owner that exists, a recent one, one whose key
    /// holds no id, one whose lookup fails, one in a hidden folder, and a symbolic link to a file outside.
    static func uploads(_ folder: TemporaryFolder) throws -> String {
        let root = folder("files")
        try writeFile(root + "/2024-01-01/s-owned.mp4", size: 100, age: 3 * day, now: now)
        try writeFile(root + "/2024-01-01/s-gone.mp4", size: 300, age: 3 * day, now: now)
        try writeFile(root + "/2024-01-01/s-gone.jpg", size: 200, age: 2 * day, now: now)
        try writeFile(root + "/2024-01-02/s-new.mp4", size: 50, age: 3600, now: now)
        try writeFile(root + "/notes.txt", size: 10, age: 9 * day, now: now)
        try writeFile(root + "/2024-01-01/s-flaky.mp4", size: 70, age: 3 * day, now: now)
        try writeFile(root + "/.hidden/s-gone.mp4", size: 5, age: 9 * day, now: now)
        try writeFile(folder("outside/s-link.mp4"), size: 5, age: 9 * day, now: now)
        try FileManager.default.createSymbolicLink(atPath: root + "/2024-01-01/s-link.mp4", withDestinationPath: folder("outside/s-link.mp4"))
        return root
    }

    static func run(_ root: String, dryRun: Bool) throws -> CleanupRun {
        let rule = OrphanRule(
            pattern: try OwnerKeyPattern(template: "*/{sessionId}.*"), owners: MemoryOwners(present: ["s-owned"], failing: ["s-flaky"]), olderThan: day)
        return CleanupRun(
            targets: [CleanupTarget(root: try LocalCleanupRoot(path: root), uploads: UploadRule(olderThan: day), orphans: rule)],
            dryRun: dryRun, clock: FixedClock(now))
    }

    @Test func aDryRunChangesNothingAndARealRunDoesExactlyWhatItSaid() async throws {
        let folder = TemporaryFolder("cleanup-local")
        defer { folder.remove() }
        let root = try Self.uploads(folder)
        let before = folder.files()

        let dry = try await Self.run(root, dryRun: true).run()
        #expect(folder.files() == before, "a dry run changed the folder")
        let planned = dry.actions.map { $0.action.target(in: $0.place) }.sorted()
        #expect(planned == [root + "/2024-01-01/s-gone.jpg", root + "/2024-01-01/s-gone.mp4"])
        #expect(dry.totals.objectsDeleted == 2 && dry.totals.bytesFreed == 500)
        #expect(dry.totals.itemsChecked == 3, "s-owned, s-gone (once for both objects) and s-flaky")
        #expect(dry.totals.objectsExamined == 6 && dry.totals.objectsOwned == 1 && dry.totals.objectsTooRecent == 1)
        #expect(dry.totals.objectsUnmatched == 1 && dry.totals.objectsKeptOnLookupError == 1 && dry.totals.errors == 1)
        #expect(dry.problems.first?.subject == "2024-01-01/s-flaky.mp4")
        #expect(dry.problems.first?.error.contains("sessionId 's-flaky'") == true)

        let real = try await Self.run(root, dryRun: false).run()
        #expect(real.totals == dry.totals, "the real run did \(real.totals), the dry run said \(dry.totals)")
        let after = folder.files()
        #expect(Set(before).subtracting(after) == ["files/2024-01-01/s-gone.jpg", "files/2024-01-01/s-gone.mp4"])
        #expect(after.contains("outside/s-link.mp4") && after.contains("files/.hidden/s-gone.mp4"))
        #expect(FileManager.default.fileExists(atPath: root + "/2024-01-01"), "the emptied folder is left in place")

        // Nothing left to do: a second run deletes nothing.
        let again = try await Self.run(root, dryRun: false).run()
        #expect(again.totals.objectsDeleted == 0 && again.totals.objectsOwned == 1)
    }

    @Test func theSummaryListsADryRunsActionsAndCountsInJSON() async throws {
        let folder = TemporaryFolder("cleanup-json")
        defer { folder.remove() }
        let root = try Self.uploads(folder)
        let summary = try await Self.run(root, dryRun: true).run()
        let json = summary.json
        #expect(json["dry_run"] == .bool(true))
        #expect(json["objects_deleted"] == .number("2") && json["bytes_freed"] == .number("500") && json["errors"] == .number("1"))
        guard case .array(let actions)? = json["actions"] else {
            Issue.record("no actions in \(json.serialized)")
            return
        }
        #expect(actions.count == 2)
        #expect(actions.allSatisfy { $0["action"] == .string("delete-object") })
        let text = summary.textLines.joined(separator: "\n")
        #expect(text.contains("objects would be deleted  2"), "\(text)")
        #expect(text.contains("error: 2024-01-01/s-flaky.mp4 in \(root)/"), "\(text)")
    }

    @Test func uploadsOldAndNewWithAndWithoutParts() async throws {
        let root = ScriptedUploads(uploads: [
            (CleanupUpload(key: "a", uploadID: "old-empty", initiated: Self.now.addingTimeInterval(-2 * Self.day)), CleanupUploadParts(count: 0, bytes: 0)),
            (CleanupUpload(key: "b", uploadID: "old-parts", initiated: Self.now.addingTimeInterval(-2 * Self.day)), CleanupUploadParts(count: 3, bytes: 15)),
            (CleanupUpload(key: "c", uploadID: "new-empty", initiated: Self.now.addingTimeInterval(-60)), CleanupUploadParts(count: 0, bytes: 0)),
            (CleanupUpload(key: "d", uploadID: "no-date", initiated: nil), CleanupUploadParts(count: 0, bytes: 0)),
            (CleanupUpload(key: "e", uploadID: "finished-meanwhile", initiated: Self.now.addingTimeInterval(-2 * Self.day)), nil),
        ])
        let planner = CleanupPlanner(now: Self.now)
        let plan = await planner.plan(uploads: root.listed, in: root, rule: UploadRule(olderThan: Self.day))
        #expect(plan.counts.uploadsTooRecent == 2)
        #expect(plan.actions.map(\.name) == ["abort-upload", "keep-upload-for-review"])
        let partial = await planner.plan(uploads: root.listed, in: root, rule: UploadRule(olderThan: Self.day, abortPartial: true))
        #expect(partial.actions.map(\.name) == ["abort-upload", "abort-upload"])
        let (done, _) = await CleanupExecutor(root: root).execute(partial)
        #expect(done.multipartUploadsAborted == 2 && done.bytesFreed == 15)
        #expect(root.aborted == ["old-empty", "old-parts"])
    }

    @Test func aRootThatCannotBeListedIsAnErrorAndTheNextRootIsStillCleaned() async throws {
        let folder = TemporaryFolder("cleanup-broken")
        defer { folder.remove() }
        let root = try Self.uploads(folder)
        let rule = OrphanRule(pattern: try OwnerKeyPattern(template: "*/{sessionId}.*"), owners: MemoryOwners(present: ["s-owned"]), olderThan: Self.day)
        let run = CleanupRun(
            targets: [
                CleanupTarget(root: ScriptedUploads(uploads: [], failListing: true), uploads: UploadRule(olderThan: 1), orphans: rule),
                CleanupTarget(root: try LocalCleanupRoot(path: root), uploads: nil, orphans: rule),
            ],
            dryRun: false, clock: FixedClock(Self.now))
        let summary = await run.run()
        #expect(summary.totals.errors == 2, "\(summary.problems)")
        #expect(summary.totals.objectsDeleted == 3)
        #expect(summary.places.map(\.place) == ["scripted://", root + "/"])
    }

    /// Deleting across many folders (one file-system sync instead of one per folder) deletes each file and nothing else.
    @Test func aDeleteAcrossManyFolders() async throws {
        let folder = TemporaryFolder("cleanup-many")
        defer { folder.remove() }
        for n in 0..<30 { try writeFile(folder("files/\(n % 12)/\(n).bin"), size: 1, age: 0, now: Date()) }
        let root = try LocalCleanupRoot(path: folder("files"))
        let failures = try await root.delete((0..<30).filter { $0 % 3 != 0 }.map { "\($0 % 12)/\($0).bin" } + ["0/missing.bin", "../escape"])
        #expect(failures.keys.sorted() == ["../escape"], "\(failures)")
        #expect(folder.files(under: "files").count == 10)
    }

    @Test func aFolderThatDoesNotExistIsRefusedNamingIt() {
        let error = #expect(throws: ArchiveStoreError.self) { try LocalCleanupRoot(path: "/nonexistent/uploads") }
        #expect(error?.description.contains("/nonexistent/uploads") == true)
    }
}

/// A root with scripted uploads (the S3 root runs against moto in ArchiverAWSTests).
final class ScriptedUploads: CleanupRoot, @unchecked Sendable {
    let scripted: [(CleanupUpload, CleanupUploadParts?)]
    let failListing: Bool
    private let lock = NSLock()
    private var abortedIDs: [String] = []

    init(uploads: [(CleanupUpload, CleanupUploadParts?)], failListing: Bool = false) {
        scripted = uploads
        self.failListing = failListing
    }

    var listed: [CleanupUpload] { scripted.map(\.0) }
    var aborted: [String] { lock.withLock { abortedIDs.sorted() } }
    var description: String { "scripted://" }

    func objects() -> AsyncThrowingStream<[CleanupObject], any Error> {
        AsyncThrowingStream { $0.finish(throwing: failListing ? CleanupTestError("NoSuchBucket") : nil) }
    }
    func delete(_ keys: [String]) async throws -> [String: String] { [:] }
    func uploads() -> AsyncThrowingStream<[CleanupUpload], any Error> {
        let listed = self.listed
        let fail = failListing
        return AsyncThrowingStream { continuation in
            if fail {
                continuation.finish(throwing: CleanupTestError("AccessDenied"))
            } else {
                continuation.yield(listed)
                continuation.finish()
            }
        }
    }
    func parts(of upload: CleanupUpload) async throws -> CleanupUploadParts? {
        scripted.first { $0.0.uploadID == upload.uploadID }?.1
    }
    func abort(_ upload: CleanupUpload) async throws -> Bool {
        lock.withLock { abortedIDs.append(upload.uploadID) }
        return true
    }
}
