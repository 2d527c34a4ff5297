import ArchiverCore
import Foundation
import JSONToolkit
import Testing
import TestSupport

/// A folder root `<tmp>/root`, the archive `<tmp>/archive`, and files beside the root that no action may touch.
struct LocalFolderFixture: ActionExecutorFixture {
    let folder = TemporaryFolder("local-actions")
    var root: RootLocation { .folder(folder("root")) }
    let archive: any ArchiveStore

    init() {
        try! FileManager.default.createDirectory(atPath: folder("root"), withIntermediateDirectories: true)
        archive = try! LocalArchiveStore(path: folder("archive"), access: .create)
    }

    func executor() async throws -> any ActionExecutor { LocalFolderExecutor(archive: archive) }

    func put(_ path: String, _ bytes: [UInt8]) async throws {
        let url = URL(fileURLWithPath: folder("root/" + path))
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }

    func paths() async throws -> [String] { folder.files(under: "root") }

    func read(_ path: String) async throws -> [UInt8]? {
        FileManager.default.contents(atPath: folder("root/" + path)).map { Array($0) }
    }

    static let outside = ["root-sibling/users/42/a.png", "rootfile", "secret/users/42/b.png", "root-sibling/o/9"]

    func putOutside() async throws {
        for path in Self.outside {
            let url = URL(fileURLWithPath: folder(path))
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(path.utf8).write(to: url)
        }
    }

    func outsideIsIntact() async throws -> Bool {
        let files = folder.files().filter { !$0.hasPrefix("root/") && !$0.hasPrefix("archive/") }
        return files == Self.outside.sorted() && Self.outside.allSatisfy { FileManager.default.contents(atPath: folder($0)) == Data($0.utf8) }
    }

    func startUpload(_ path: String, parts: Int) async throws -> String? { nil }
    func uploadInProgress(_ path: String, _ uploadID: String) async throws -> Bool { false }
    func remove() { folder.remove() }
}

@Suite("local folder: the ActionExecutor contract")
struct LocalFolderExecutorContractTests {
    @Test(arguments: ActionExecutorConformance.Case.allCases)
    func contract(_ contract: ActionExecutorConformance.Case) async throws {
        let fixture = LocalFolderFixture()
        defer { fixture.remove() }
        try await ActionExecutorConformance.check(contract, fixture)
    }
}

@Suite("local folder executor: links never lead out of a root")
struct LocalFolderLinkTests {
    func run(_ fixture: LocalFolderFixture, _ target: DeletionTarget) async throws -> ActionResult {
        let action = PreparedAction(id: "e", target: target, rootName: "r", root: fixture.root, archiveKey: "2024/01/15/K.000000.1.manual.json.gz")
        return await LocalFolderExecutor(archive: fixture.archive).execute([action])[0]
    }

    @Test func aLinkedFolderIsNeverFollowed() async throws {
        let fixture = LocalFolderFixture()
        defer { fixture.remove() }
        try await fixture.putOutside()
        try FileManager.default.createDirectory(atPath: fixture.folder("root/users"), withIntermediateDirectories: true)
        // root/users/42 → <tmp>/secret/users/42 (outside the root)
        try FileManager.default.createSymbolicLink(atPath: fixture.folder("root/users/42"), withDestinationPath: fixture.folder("secret/users/42"))
        for target: DeletionTarget in [.prefix(prefix: "users/42/", minDepth: 2, keep: false), .object(key: "users/42/b.png", keep: false)] {
            guard case .failed(let failure) = try await run(fixture, target) else { Issue.record("\(target) ran through a link"); continue }
            #expect(failure.permanent && failure.code == "ELOOP", "\(failure)")
        }
        #expect(try await fixture.outsideIsIntact())
    }

    @Test func aLinkInsideIsRemovedAsALinkAndItsTargetStays() async throws {
        let fixture = LocalFolderFixture()
        defer { fixture.remove() }
        try await fixture.putOutside()
        try await fixture.put("users/7/own.png", [1])
        try FileManager.default.createSymbolicLink(atPath: fixture.folder("root/users/7/stolen"), withDestinationPath: fixture.folder("secret/users/42"))
        try FileManager.default.createSymbolicLink(atPath: fixture.folder("root/avatar"), withDestinationPath: fixture.folder("rootfile"))
        #expect(try await run(fixture, .prefix(prefix: "users/7/", minDepth: 2, keep: false)) == .completed(.object([("deleted", .integer(2))])))
        #expect(try await run(fixture, .object(key: "avatar", keep: false)) == .completed(.object([("deleted", .integer(1))])))
        #expect(FileManager.default.fileExists(atPath: fixture.folder("root/users")))
        #expect(!FileManager.default.fileExists(atPath: fixture.folder("root/users/7")))
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: fixture.folder("root/avatar"))) == nil)
        #expect(try await fixture.outsideIsIntact())
        // With keep, a link cannot be kept: it is left alone, for a person.
        try FileManager.default.createSymbolicLink(atPath: fixture.folder("root/again"), withDestinationPath: fixture.folder("rootfile"))
        guard case .failed(let failure) = try await run(fixture, .object(key: "again", keep: true)) else { Issue.record("a link was kept"); return }
        #expect(failure.permanent && failure.code == "cannot-keep")
    }

    @Test func aFolderIsNotAnObject() async throws {
        let fixture = LocalFolderFixture()
        defer { fixture.remove() }
        try await fixture.put("users/1/a", [1])
        guard case .failed(let failure) = try await run(fixture, .object(key: "users/1", keep: false)) else { Issue.record("a folder was deleted as an object"); return }
        #expect(failure.code == "EISDIR" && failure.permanent)
        #expect(try await fixture.paths() == ["users/1/a"])
    }

    @Test func nothingIsDeletedWhenTheArchiveRefusesTheKeptCopy() async throws {
        let fixture = LocalFolderFixture()
        defer { fixture.remove() }
        try await fixture.put("a/b", [1, 2, 3])
        let action = PreparedAction(id: "e", target: .object(key: "a/b", keep: true), rootName: "r", root: fixture.root, archiveKey: "2024/01/15/K.000000.1.manual.json.gz")
        let result = await LocalFolderExecutor(archive: nil).execute([action])[0]
        guard case .failed(let failure) = result else { Issue.record("deleted without an archive to keep it in"); return }
        #expect(failure.code == "keep-failed" && !failure.permanent)
        #expect(try await fixture.read("a/b") == [1, 2, 3])
    }
}
