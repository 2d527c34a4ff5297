import ArchiverCore
import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// What the built binary does to archive folders: a command that only reads never creates one, and no
/// command leaves anything but objects and their date folders behind.
@Suite struct ArchiveFolderTests {
    /// Every path below `root` (folders and files), relative to it, sorted.
    static func everything(under root: String) -> [String] {
        (FileManager.default.subpaths(atPath: root) ?? []).sorted()
    }

    /// What an `aws s3 sync` copy of the archive's objects holds: the keys and the folders they lie in.
    static func objectsAndTheirFolders(_ keys: [String]) -> [String] {
        var paths = Set(keys)
        for key in keys {
            var parts = key.split(separator: "/").dropLast()
            while !parts.isEmpty {
                paths.insert(parts.joined(separator: "/"))
                parts = parts.dropLast()
            }
        }
        return paths.sorted()
    }

    @Test func readOnlyCommandsOnAMissingArchiveFolderFailNamingItAndCreateNothing() throws {
        let folder = TemporaryFolder("missing-archive")
        defer { folder.remove() }
        let counts = try SampleFeed.write(0..<600, to: folder("feed.jsonl"))
        let tail = try BuiltBinary.run(["tail", "--source", "jsonl:feed.jsonl", "--archive", "archive", "--state", "state", "--once"], in: folder.path)
        #expect(tail.status == 0, "\(tail.stderr)")
        let missing = folder("archvie")
        let cases: [[String]] = [
            ["ls", "--archive", "archvie"],
            ["ls", "--archive", "archvie", "--month", "2024-01", "--json"],
            ["restore", "2024/01/15/A.000000.1.manual.json.gz", "--archive", "archvie", "--to", "-"],
            ["restore", "--prefix", "2024/01", "--archive", "archvie", "--to", "-"],
            ["sync", "2024-01", "copy", "--archive", "archvie", "--jsonl", "month.jsonl"],
            ["lifecycle", "plan", "--archive", "archvie"],
            ["dlq", "retry", "--archive", "archvie", "--state", "state"],
        ]
        for arguments in cases {
            let result = try BuiltBinary.run(arguments, in: folder.path)
            #expect(result.status != 0, "\(arguments) exited 0: \(result.stdout) \(result.stderr)")
            #expect(result.stderr.contains("there is no archive folder at '\(missing)'"), "\(arguments) did not name the folder: \(result.stderr)")
            #expect(result.stderr.contains("--archive"), "\(arguments) did not say what to check: \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: missing), "\(arguments) created \(missing)")
            #expect(!FileManager.default.fileExists(atPath: folder("copy")), "\(arguments) created the sync destination")
        }
        // The dead letters were not touched by the refused retry.
        let letters = try BuiltBinary.run(["dlq", "list", "--state", "state", "--json"], in: folder.path)
        let entries = try JSONSerialization.jsonObject(with: Data(letters.stdout.utf8)) as! [[String: Any]]
        #expect(entries.count == counts.malformed + counts.removesWithoutImage && entries.allSatisfy { $0["attempts"] as? Int == 1 })
    }

    @Test func dlqCommandsOnAMissingStateFolderFailNamingItAndCreateNothing() throws {
        let folder = TemporaryFolder("missing-state")
        defer { folder.remove() }
        try FileManager.default.createDirectory(atPath: folder("archive"), withIntermediateDirectories: true)
        for arguments in [["dlq", "list", "--state", "stat"], ["dlq", "show", "abc123", "--state", "stat"],
                          ["dlq", "drop", "abc123", "--state", "stat"], ["dlq", "retry", "--archive", "archive", "--state", "stat"]] {
            let result = try BuiltBinary.run(arguments, in: folder.path)
            #expect(result.status != 0, "\(arguments)")
            #expect(result.stderr.contains("there is no state folder at '\(folder("stat"))'") && result.stderr.contains("--state"), "\(arguments): \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: folder("stat")), "\(arguments) created the state folder")
        }
    }

    @Test func tailCreatesItsArchiveAndStateFolders() throws {
        let folder = TemporaryFolder("new-archive")
        defer { folder.remove() }
        let counts = try SampleFeed.write(0..<200, to: folder("feed.jsonl"))
        let tail = try BuiltBinary.run(
            ["tail", "--source", "jsonl:feed.jsonl", "--archive", "new/archive", "--state", "new/state", "--once", "--json"], in: folder.path)
        #expect(tail.status == 0, "\(tail.stderr)")
        #expect(folder.files(under: "new/archive").count == counts.removes)
        #expect(FileSystem.isFolder(folder("new/state")))
    }

    @Test func aCleanExitLeavesOnlyObjectsAndTheirFolders() throws {
        let folder = TemporaryFolder("no-leftovers")
        defer { folder.remove() }
        let counts = try SampleFeed.write(0..<1500, to: folder("feed.jsonl"))
        func expectOnlyObjects(_ relative: String, _ after: String) {
            let keys = folder.files(under: relative)
            #expect(!keys.isEmpty, "\(after): nothing in \(relative)")
            let found = Self.everything(under: folder(relative))
            #expect(found == Self.objectsAndTheirFolders(keys), "\(after): \(relative) holds more than objects: \(Set(found).subtracting(Self.objectsAndTheirFolders(keys)).sorted())")
        }

        // tail --once
        let once = try BuiltBinary.run(["tail", "--source", "jsonl:feed.jsonl", "--archive", "archive", "--state", "state", "--once"], in: folder.path)
        #expect(once.status == 0, "\(once.stderr)")
        #expect(folder.files(under: "archive").count == counts.removes)
        expectOnlyObjects("archive", "tail --once")
        expectOnlyObjects("state/dead-letters", "tail --once")

        // A following tail stopped with SIGTERM.
        let following = try BuiltBinary.start(["tail", "--source", "jsonl:feed.jsonl", "--archive", "followed", "--state", "state2"], in: folder.path)
        let deadline = Date().addingTimeInterval(60)
        while folder.files(under: "followed").count < counts.removes && Date() < deadline { usleep(100_000) }
        following.signal(SIGTERM)
        let stopped = following.finish()
        #expect(stopped.status == 0, "\(stopped.stderr)")
        expectOnlyObjects("followed", "tail stopped by SIGTERM")

        // sync (into a new folder and into one already there), restore, dlq retry, ls.
        let sync = try BuiltBinary.run(["sync", "2024-01", "copy", "--archive", "archive", "--jsonl", "month.jsonl"], in: folder.path)
        #expect(sync.status == 0, "\(sync.stderr)")
        expectOnlyObjects("copy", "sync")
        let again = try BuiltBinary.run(["sync", "2024-01", "copy", "--archive", "archive"], in: folder.path)
        #expect(again.status == 0, "\(again.stderr)")
        expectOnlyObjects("copy", "a second sync")
        let before = Self.everything(under: folder("archive"))
        let restore = try BuiltBinary.run(["restore", "--prefix", "2024/01", "--archive", "archive", "--to", "-"], in: folder.path)
        #expect(restore.status == 0, "\(restore.stderr)")
        let retry = try BuiltBinary.run(["dlq", "retry", "--archive", "archive", "--state", "state"], in: folder.path)
        #expect(retry.status == 0, "\(retry.stderr)")
        let ls = try BuiltBinary.run(["ls", "--archive", "archive"], in: folder.path)
        #expect(ls.status == 0, "\(ls.stderr)")
        #expect(Self.everything(under: folder("archive")) == before, "restore, dlq retry or ls changed the archive folder")
        expectOnlyObjects("state/dead-letters", "dlq retry")
    }
}
