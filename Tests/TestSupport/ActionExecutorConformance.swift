import ArchiverCore
import Foundation
import JSONToolkit

/// A root that actions run on (a folder, a bucket prefix) and what it holds, for the conformance suite. Each
/// fixture is fresh: an empty root named `r`, an empty archive for kept files, and places just beside the root
/// that no action may touch.
public protocol ActionExecutorFixture: Sendable {
    /// The root the actions run on.
    var root: RootLocation { get }
    /// Where kept files go.
    var archive: any ArchiveStore { get }
    /// The executor under test, keeping files into ``archive``.
    func executor() async throws -> any ActionExecutor
    /// Writes `bytes` at `path` below the root (folders made as needed).
    func put(_ path: String, _ bytes: [UInt8]) async throws
    /// Every object or file below the root, as paths relative to it, sorted.
    func paths() async throws -> [String]
    /// The bytes at `path` below the root; nil when there is nothing there.
    func read(_ path: String) async throws -> [UInt8]?
    /// Writes objects or files just outside the root: a sibling whose name starts like the root's, its parent's
    /// own files. Called once, before the actions.
    func putOutside() async throws
    /// Whether everything ``putOutside()`` wrote is there, unchanged, and nothing else appeared beside the root.
    func outsideIsIntact() async throws -> Bool
    /// Starts an unfinished multipart upload at `path` with `parts` parts uploaded; nil when the root has no uploads.
    func startUpload(_ path: String, parts: Int) async throws -> String?
    /// Whether the upload is still in progress.
    func uploadInProgress(_ path: String, _ uploadID: String) async throws -> Bool
    func remove()
}

/// The behaviour every `ActionExecutor` must have (see the protocol's documentation), one case at a time, run
/// against each implementation from its module's test target:
///
/// ```swift
/// @Test(arguments: ActionExecutorConformance.Case.allCases)
/// func contract(_ contract: ActionExecutorConformance.Case) async throws {
///     try await ActionExecutorConformance.check(contract, MyFixture())
/// }
/// ```
public enum ActionExecutorConformance {
    public enum Case: String, CaseIterable, Sendable, CustomStringConvertible {
        case deletesOneObjectAndNothingElse
        case aMissingObjectCountsAsDone
        case runningAgainCompletes
        case deletesEverythingUnderAPrefixAndNothingBesideIt
        case anEmptyPrefixCountsAsDone
        case keepsBeforeDeletingAndRestoresWhatItKept
        case keepsAWholePrefix
        case unsafeTargetsFailForGoodAndTouchNothing
        case oneResultPerActionInOrder
        case abortsUploadsWithAndWithoutParts

        public var description: String {
            switch self {
            case .deletesOneObjectAndNothingElse: "delete-object removes its object and nothing else"
            case .aMissingObjectCountsAsDone: "a missing object counts as done"
            case .runningAgainCompletes: "running an action again completes it (idempotent)"
            case .deletesEverythingUnderAPrefixAndNothingBesideIt: "delete-prefix removes everything under it and nothing beside it"
            case .anEmptyPrefixCountsAsDone: "an empty prefix counts as done"
            case .keepsBeforeDeletingAndRestoresWhatItKept: "keep copies into the archive before deleting, and restore puts it back"
            case .keepsAWholePrefix: "keep on a prefix keeps every file, and restore puts the tree back"
            case .unsafeTargetsFailForGoodAndTouchNothing: "unsafe targets fail for good and touch nothing"
            case .oneResultPerActionInOrder: "one result per action, in order"
            case .abortsUploadsWithAndWithoutParts: "abort-multipart aborts uploads with and without parts; a gone upload counts as done"
            }
        }
    }

    public struct ConformanceFailure: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    static func check(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw ConformanceFailure(message()) }
    }

    /// Runs one case on a fresh fixture.
    public static func check(_ contract: Case, _ fixture: some ActionExecutorFixture) async throws {
        try await fixture.putOutside()
        switch contract {
        case .deletesOneObjectAndNothingElse: try await deletesOneObjectAndNothingElse(fixture)
        case .aMissingObjectCountsAsDone: try await aMissingObjectCountsAsDone(fixture)
        case .runningAgainCompletes: try await runningAgainCompletes(fixture)
        case .deletesEverythingUnderAPrefixAndNothingBesideIt: try await deletesEverythingUnderAPrefix(fixture)
        case .anEmptyPrefixCountsAsDone: try await anEmptyPrefixCountsAsDone(fixture)
        case .keepsBeforeDeletingAndRestoresWhatItKept: try await keepsBeforeDeleting(fixture)
        case .keepsAWholePrefix: try await keepsAWholePrefix(fixture)
        case .unsafeTargetsFailForGoodAndTouchNothing: try await unsafeTargets(fixture)
        case .oneResultPerActionInOrder: try await oneResultPerActionInOrder(fixture)
        case .abortsUploadsWithAndWithoutParts: try await abortsUploads(fixture)
        }
        try check(try await fixture.outsideIsIntact(), "something outside the root \(fixture.root) was touched")
    }

    static let record = "2024/01/15/UPLOAD#7.103000.1100000000000000000001.manual.json.gz"

    static func action(_ target: DeletionTarget, _ fixture: some ActionExecutorFixture, id: String = "e") -> PreparedAction {
        PreparedAction(id: id, target: target, rootName: "r", root: fixture.root, archiveKey: record)
    }

    static func run(_ fixture: some ActionExecutorFixture, _ targets: [DeletionTarget]) async throws -> [ActionResult] {
        let executor = try await fixture.executor()
        try check(executor.handles(fixture.root), "the executor does not handle its own root \(fixture.root)")
        let results = await executor.execute(targets.enumerated().map { action($1, fixture, id: "e\($0)") })
        try check(results.count == targets.count, "\(targets.count) actions gave \(results.count) results")
        return results
    }

    static func completed(_ result: ActionResult, _ what: String) throws -> JSONValue {
        guard case .completed(let outcome) = result else { throw ConformanceFailure("\(what) did not complete: \(result)") }
        return outcome
    }

    static func deletesOneObjectAndNothingElse(_ fixture: some ActionExecutorFixture) async throws {
        try await fixture.put("videos/7.mp4", Array("seven".utf8))
        try await fixture.put("videos/70.mp4", Array("seventy".utf8))
        try await fixture.put("videos/7.mp4.thumb", Array("thumb".utf8))
        let results = try await run(fixture, [.object(key: "videos/7.mp4", keep: false)])
        _ = try completed(results[0], "deleting videos/7.mp4")
        let left = try await fixture.paths()
        try check(left == ["videos/7.mp4.thumb", "videos/70.mp4"], "after deleting videos/7.mp4 the root holds \(left)")
    }

    static func aMissingObjectCountsAsDone(_ fixture: some ActionExecutorFixture) async throws {
        try await fixture.put("a/b", [1])
        let results = try await run(fixture, [.object(key: "a/missing", keep: false), .object(key: "nowhere/at/all", keep: true), .object(key: "a/b/c", keep: false)])
        for (index, result) in results.enumerated() { _ = try completed(result, "missing target \(index)") }
        try check(try await fixture.paths() == ["a/b"], "deleting missing objects changed the root")
    }

    static func runningAgainCompletes(_ fixture: some ActionExecutorFixture) async throws {
        try await fixture.put("x/1", [1])
        try await fixture.put("p/q/1", [1])
        let targets: [DeletionTarget] = [.object(key: "x/1", keep: true), .prefix(prefix: "p/", minDepth: 1, keep: false)]
        for round in 1...3 {
            let results = try await run(fixture, targets)
            for result in results { _ = try completed(result, "round \(round)") }
        }
        try check(try await fixture.paths().isEmpty, "the root is not empty after the actions ran")
        try check(try await fixture.archive.head(KeptFiles.key(record: record, root: "r", path: "x/1").get()) != nil, "the kept copy went missing on a rerun")
    }

    static func deletesEverythingUnderAPrefix(_ fixture: some ActionExecutorFixture) async throws {
        for path in ["users/42/a.png", "users/42/albums/1/b.png", "users/42/albums/2/c.png", "users/420/d.png", "users/4", "users/42.txt", "other/42/e"] {
            try await fixture.put(path, Array(path.utf8))
        }
        let results = try await run(fixture, [.prefix(prefix: "users/42/", minDepth: 2, keep: false)])
        let outcome = try completed(results[0], "deleting users/42/")
        try check(outcome["deleted"] == .integer(3), "deleting users/42/ reported \(outcome.serialized), not 3 deleted")
        let left = try await fixture.paths()
        try check(left == ["other/42/e", "users/4", "users/42.txt", "users/420/d.png"], "after deleting users/42/ the root holds \(left)")
    }

    static func anEmptyPrefixCountsAsDone(_ fixture: some ActionExecutorFixture) async throws {
        try await fixture.put("users/1/a", [1])
        let results = try await run(fixture, [.prefix(prefix: "users/2/", minDepth: 2, keep: true), .prefix(prefix: "nothing/here/", minDepth: 1, keep: false)])
        for result in results { _ = try completed(result, "an empty prefix") }
        try check(try await fixture.paths() == ["users/1/a"], "an empty prefix changed the root")
    }

    static func keepsBeforeDeleting(_ fixture: some ActionExecutorFixture) async throws {
        let bytes = (0..<70_000).map { UInt8($0 % 251) }
        try await fixture.put("videos/.7 100%.mp4", bytes)
        let results = try await run(fixture, [.object(key: "videos/.7 100%.mp4", keep: true)])
        let outcome = try completed(results[0], "delete with keep")
        let kept = try KeptFiles.key(record: record, root: "r", path: "videos/.7 100%.mp4").get()
        try check(outcome["kept"] == .string(kept), "the outcome \(outcome.serialized) does not name the kept copy \(kept)")
        try check(try await fixture.archive.get(kept) == bytes, "the kept copy holds other bytes")
        try check(try await fixture.read("videos/.7 100%.mp4") == nil, "the object was kept but not deleted")
        // The kept name says where it came from.
        let origin = KeptFiles.origin(of: String(kept.dropFirst(KeptFiles.folder(record: record).count)))
        try check(origin?.root == "r" && origin?.path == "videos/.7 100%.mp4", "the kept name \(kept) reads back as \(String(describing: origin))")
        let executor = try await fixture.executor()
        let file = KeptFile(archiveKey: kept, root: fixture.root, path: "videos/.7 100%.mp4")
        _ = try completed((await executor.restore([file], overwrite: false))[0], "restoring the kept file")
        try check(try await fixture.read("videos/.7 100%.mp4") == bytes, "restore put back other bytes")
        guard case .failed(let failure) = (await executor.restore([file], overwrite: false))[0] else {
            throw ConformanceFailure("restoring over an existing file without overwrite did not fail")
        }
        try check(failure.code == "exists", "restoring over an existing file failed with \(failure.code), not exists")
        _ = try completed((await executor.restore([file], overwrite: true))[0], "restoring with overwrite")
    }

    static func keepsAWholePrefix(_ fixture: some ActionExecutorFixture) async throws {
        let paths = ["users/42/a.png", "users/42/albums/1/b.png", "users/42/.hidden"]
        for path in paths { try await fixture.put(path, Array(("bytes of " + path).utf8)) }
        try await fixture.put("users/43/z", [1])
        let results = try await run(fixture, [.prefix(prefix: "users/42/", minDepth: 2, keep: true)])
        let outcome = try completed(results[0], "delete-prefix with keep")
        try check(outcome["kept"] == .integer(3) && outcome["deleted"] == .integer(3), "outcome \(outcome.serialized)")
        try check(try await fixture.paths() == ["users/43/z"], "the prefix was not deleted")
        var files: [KeptFile] = []
        for path in paths {
            let key = try KeptFiles.key(record: record, root: "r", path: path).get()
            try check(try await fixture.archive.get(key) == Array(("bytes of " + path).utf8), "\(path) was not kept whole")
            files.append(KeptFile(archiveKey: key, root: fixture.root, path: path))
        }
        for result in await (try await fixture.executor()).restore(files, overwrite: false) { _ = try completed(result, "restore of a kept file") }
        try check(try await fixture.paths() == (paths + ["users/43/z"]).sorted(), "restore did not put the tree back")
    }

    static func unsafeTargets(_ fixture: some ActionExecutorFixture) async throws {
        for path in ["a/b", "users/x", "users/1/y"] { try await fixture.put(path, [1]) }
        let before = try await fixture.paths()
        let unsafe: [DeletionTarget] = [
            .object(key: "../outside", keep: false), .object(key: "a//b", keep: false), .object(key: "/a/b", keep: false),
            .object(key: "a/%2e%2e/b", keep: false), .object(key: "a/\u{FF0F}b", keep: false), .object(key: "*", keep: false),
            .prefix(prefix: "users/", minDepth: 2, keep: false), .prefix(prefix: "../", minDepth: 1, keep: false), .prefix(prefix: "users", minDepth: 1, keep: false),
            .prefix(prefix: "", minDepth: 1, keep: false), .object(key: "a\u{0}b", keep: false), .object(key: "a/\u{202E}b", keep: false),
        ]
        let results = try await run(fixture, unsafe)
        for (target, result) in zip(unsafe, results) {
            guard case .failed(let failure) = result else { throw ConformanceFailure("the unsafe target \(target) ran: \(result)") }
            try check(failure.permanent && failure.code == "unsafe-target", "the unsafe target \(target) failed with \(failure), not for good as unsafe-target")
        }
        try check(try await fixture.paths() == before, "an unsafe target changed the root")
    }

    static func oneResultPerActionInOrder(_ fixture: some ActionExecutorFixture) async throws {
        var targets: [DeletionTarget] = []
        for n in 0..<40 {
            if n % 4 != 3 && n % 10 != 9 { try await fixture.put("o/\(n)", [UInt8(n)]) }
            targets.append(n % 10 == 9 ? .object(key: "o/../\(n)", keep: false) : .object(key: "o/\(n)", keep: n % 5 == 0))
        }
        let results = try await run(fixture, targets)
        for (n, result) in results.enumerated() {
            switch (n % 10 == 9, result) {
            case (true, .failed(let failure)): try check(failure.code == "unsafe-target", "action \(n) failed with \(failure.code)")
            case (false, .completed(let outcome)):
                // S3 does not tell a missing key from a deleted one; a folder does.
                if outcome["absent"] == .bool(true) { try check(n % 4 == 3, "action \(n) found its file missing: \(outcome.serialized)") }
            default: throw ConformanceFailure("action \(n) gave \(result)")
            }
        }
        let left = try await fixture.paths()
        try check(left.isEmpty, "objects are left: \(left)")
    }

    static func abortsUploads(_ fixture: some ActionExecutorFixture) async throws {
        guard let empty = try await fixture.startUpload("big/empty.bin", parts: 0), let full = try await fixture.startUpload("big/full.bin", parts: 2) else {
            // A folder has no uploads: the action is refused for good.
            let results = try await run(fixture, [.multipartUpload(key: "big/x", uploadID: "u")])
            guard case .failed(let failure) = results[0], failure.permanent else { throw ConformanceFailure("abort-multipart on \(fixture.root) did not fail for good") }
            return
        }
        for round in 1...2 {
            let results = try await run(fixture, [
                .multipartUpload(key: "big/empty.bin", uploadID: empty), .multipartUpload(key: "big/full.bin", uploadID: full),
                .multipartUpload(key: "big/none.bin", uploadID: "no-such-upload-id"),
            ])
            for result in results { _ = try completed(result, "abort, round \(round)") }
        }
        try check(try await !fixture.uploadInProgress("big/empty.bin", empty), "the upload without parts is still in progress")
        try check(try await !fixture.uploadInProgress("big/full.bin", full), "the upload with parts is still in progress")
    }
}
