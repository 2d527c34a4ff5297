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
        // `.tmp/` exists only while a batch is written: make it, unwritable, as a batch would find it.
        try FileManager.default.createDirectory(atPath: folder(".tmp"), withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o500], ofItemAtPath: folder(".tmp"))
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: folder(".tmp")) }
        let failures = await store.put([ArchiveObject(key: "2024/01/15/A.000000.1.manual.json.gz", body: [1])])
        #expect(failures[0]?.isFailed == true)
        #expect("\(failures[0]!)".contains(folder(".tmp")))
    }
}

/// What the folder store leaves behind and whether it creates its folder.
@Suite struct LocalArchiveStoreFolderTests {
    @Test func nothingButObjectsRemainAfterWrites() async throws {
        let folder = TemporaryFolder("store-clean")
        defer { folder.remove() }
        let store = try LocalArchiveStore(path: folder.path)
        let objects = (0..<40).map { ArchiveObject(key: "2024/01/\(10 + $0 % 3)/K\($0).000000.\($0).manual.json.gz", body: [UInt8($0)]) }
        #expect(await store.put(objects).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["2024"])
        // A process killed mid-write leaves `.tmp/` with its files: the next writer removes both.
        try FileManager.default.createDirectory(atPath: folder(".tmp/3"), withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: folder(".tmp/3/999999999-1"), contents: Data([1]))
        _ = try LocalArchiveStore(path: folder.path, access: .existing)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["2024"])
    }

    @Test func onlyCreateMakesAMissingFolder() async throws {
        let folder = TemporaryFolder("store-missing")
        defer { folder.remove() }
        for access in [LocalArchiveStore.Access.existing, .readOnly] {
            #expect {
                _ = try LocalArchiveStore(path: folder("nope"), access: access)
            } throws: { "\($0)".contains("there is no archive folder at '\(folder("nope"))'") }
        }
        #expect(!FileManager.default.fileExists(atPath: folder("nope")))
        _ = try LocalArchiveStore(path: folder("nope/archive"), access: .create)
        #expect(FileManager.default.fileExists(atPath: folder("nope/archive")))
    }

    @Test func aReadOnlyStoreWritesAndDeletesNothing() async throws {
        let folder = TemporaryFolder("store-readonly")
        defer { folder.remove() }
        let key = "2024/01/15/A.000000.1.manual.json.gz"
        #expect(await (try LocalArchiveStore(path: folder.path)).put([ArchiveObject(key: key, body: [1])]).isEmpty)
        // A reader leaves a writer's temporary files alone, even those of a process that is gone.
        try FileManager.default.createDirectory(atPath: folder(".tmp/0"), withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: folder(".tmp/0/999999999-1"), contents: Data([1]))
        let reader = try LocalArchiveStore(path: folder.path, access: .readOnly)
        #expect(try await reader.get(key) == [1])
        #expect(await reader.put([ArchiveObject(key: key, body: [2])])[0]?.isFailed == true)
        await #expect(throws: ArchiveStoreError.self) { try await reader.delete([key]) }
        #expect(try await reader.get(key) == [1])
        #expect(FileManager.default.fileExists(atPath: folder(".tmp/0/999999999-1")))
    }
}
