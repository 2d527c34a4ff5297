import ArchiverCore
import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Deleted personal data is private: everything archiver creates — archive objects, the checkpoint database
/// and its -wal/-shm files, dead letters, synced folders and JSON lines — is owner-only, even under `umask 000`.
/// Modes are checked with stat, so the test means the same when run as root.
@Suite("Files archiver creates are owner-only")
struct PrivateFilesTests {
    /// Runs the built binary under `umask 000`, so that only the modes archiver asks for protect anything.
    static func runWithoutUmask(_ arguments: [String], in folder: String) throws -> (status: Int32, stdout: String, stderr: String) {
        let output = try Shell.run(["sh", "-c", "umask 000 && exec \"$0\" \"$@\"", BuiltBinary.path] + arguments, in: folder)
        return (output.status, output.stdout, output.stderr)
    }

    static func mode(_ path: String) -> mode_t? {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode : nil
    }

    /// Every file and folder at and below `path` that group or others may use, with its mode.
    static func notPrivate(_ path: String) -> [String] {
        var found: [String] = []
        var paths = [path]
        if let walker = FileManager.default.enumerator(atPath: path) {
            while let name = walker.nextObject() as? String { paths.append(path + "/" + name) }
        }
        for item in paths {
            guard let mode = mode(item) else { continue }
            if mode & 0o077 != 0 { found.append("\(item) is \(String(mode & 0o7777, radix: 8))") }
        }
        return found
    }

    @Test func tailSyncAndDeadLettersCreateOnlyPrivateFiles() throws {
        let folder = TemporaryFolder("private")
        defer { folder.remove() }
        let feed = PackagePaths.root + "/fixtures/feed.jsonl"
        let tail = try Self.runWithoutUmask(["tail", "--source", "jsonl:\(feed)", "--archive", "archive", "--state", "state", "--once"], in: folder.path)
        #expect(tail.status == 0, "\(tail.stderr)")
        let retry = try Self.runWithoutUmask(["dlq", "retry", "--state", "state", "--archive", "archive"], in: folder.path)
        #expect(retry.status == 0, "\(retry.stderr)")
        let sync = try Self.runWithoutUmask(["sync", "2024-01", "copy/january", "--archive", "archive", "--jsonl", "january.jsonl"], in: folder.path)
        #expect(sync.status == 0, "\(sync.stderr)")
        let restore = try Self.runWithoutUmask(["restore", "--prefix", "2024/01/29", "--archive", "archive", "--to", "-"], in: folder.path)
        #expect(restore.status == 0, "\(restore.stderr)")

        // What the checks below rely on was written (SQLite removes -wal and -shm when the last connection
        // closes: the next test looks at them while the database is open).
        #expect(FileManager.default.fileExists(atPath: folder("state/archiver.sqlite")))
        #expect(folder.files(under: "state/dead-letters").count == 5)
        #expect(folder.files(under: "archive").filter { $0.hasSuffix(".json.gz") }.count == 146)
        #expect(folder.files(under: "copy/january").count > 0)
        #expect(FileManager.default.fileExists(atPath: folder("january.jsonl")))

        var problems: [String] = []
        for created in ["archive", "state", "copy", "january.jsonl"] { problems += Self.notPrivate(folder(created)) }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    @Test func aStateFolderMadeWithLooserModesIsTightened() throws {
        let folder = TemporaryFolder("private-old")
        defer { folder.remove() }
        let state = folder("state")
        do {
            let store = try CheckpointStore(stateFolder: state)
            try store.save(source: "jsonl:/x", partition: "", position: "1")
        }
        for file in ["archiver.sqlite", "archiver.sqlite-wal", "archiver.sqlite-shm"] where Self.mode(state + "/" + file) != nil {
            #expect(chmod(state + "/" + file, 0o644) == 0)
        }
        let reopened = try CheckpointStore(stateFolder: state)
        try withExtendedLifetime(reopened) {
            try reopened.save(source: "jsonl:/x", partition: "", position: "2")
            #expect(Self.mode(state + "/archiver.sqlite-wal") != nil, "the database is open in WAL mode: its -wal file exists")
            for file in ["archiver.sqlite", "archiver.sqlite-wal", "archiver.sqlite-shm"] {
                #expect(Self.notPrivate(state + "/" + file).isEmpty, "\(Self.notPrivate(state + "/" + file))")
            }
        }
    }
}
