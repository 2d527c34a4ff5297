import ArchiverCore
import Foundation
import Testing
import TestSupport

@Suite struct LocalArchiveStoreTests {
    @Test func conformsToTheStoreContract() async throws {
        let folder = TemporaryFolder("store")
        defer { folder.remove() }
        try await ArchiveStoreConformance.run(try LocalArchiveStore(path: folder.path))
    }

    @Test func filesAreOwnerOnlyAndNoTemporaryIsLeft() async throws {
        let folder = TemporaryFolder("store")
        defer { folder.remove() }
        let store = try LocalArchiveStore(path: folder.path)
        let key = "2024/01/15/A.000000.1.manual.json.gz"
        #expect(await store.put([ArchiveObject(key: key, body: [1, 2, 3])]).isEmpty)
        let attributes = try FileManager.default.attributesOfItem(atPath: folder(key))
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let folderAttributes = try FileManager.default.attributesOfItem(atPath: folder("2024/01/15"))
        #expect((folderAttributes[.posixPermissions] as? Int) == 0o700)
        #expect(folder.files(under: ".tmp").isEmpty)
    }

    @Test func abandonedTemporaryFilesAreRemovedOnOpen() throws {
        let folder = TemporaryFolder("store")
        defer { folder.remove() }
        try FileManager.default.createDirectory(atPath: folder(".tmp"), withIntermediateDirectories: true)
        // A pid that cannot be running.
        _ = FileManager.default.createFile(atPath: folder(".tmp/999999999-1"), contents: Data([1]))
        _ = try LocalArchiveStore(path: folder.path)
        #expect(folder.files(under: ".tmp").isEmpty)
    }

    /// Root writes anywhere, so this shows nothing when run as root: it is skipped then (and says so).
    @Test(.enabled(if: getuid() != 0, "run as root: permissions do not stop root"))
    func aFolderThatCannotBeWrittenNeedsAttention() async throws {
        let folder = TemporaryFolder("store")
        defer { folder.remove() }
        let store = try LocalArchiveStore(path: folder.path)
        try FileManager.default.setAttributes([.posixPermissions: 0o500], ofItemAtPath: folder(".tmp"))
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: folder(".tmp")) }
        let failures = await store.put([ArchiveObject(key: "2024/01/15/A.000000.1.manual.json.gz", body: [1])])
        #expect(failures[0]?.isFailed == true)
        #expect("\(failures[0]!)".contains(folder(".tmp")))
    }
}
