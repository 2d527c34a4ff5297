import ArchiverCore
import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Disk full (a small tmpfs filled up) and permission denied (`chattr +i`, which stops root too) on the archive
/// folder and on the state folder: the tail stops with an error naming the path, the checkpoint stays where it
/// was, nothing is lost, and the next run, once the cause is fixed, finishes with every object.
///
/// Needs root (mount, chattr) and a file system that takes `chattr +i` (ext4); each test says it skipped otherwise.
@Suite("archiver on a full or locked disk", .serialized)
struct DiskFaultTests {
    /// Runs a command; its exit status.
    @discardableResult
    static func shell(_ command: String) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }

    static func quoted(_ path: String) -> String { "'" + path.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// Whether this machine lets us mount a size-limited tmpfs (root, and a kernel and container that allow it).
    static let canMount: Bool = {
        guard getuid() == 0 else { return false }
        let probe = TemporaryFolder("mount-probe")
        defer { probe.remove() }
        guard shell("mount -t tmpfs -o size=64k tmpfs \(quoted(probe.path))") == 0 else { return false }
        shell("umount \(quoted(probe.path))")
        return true
    }()

    /// Whether `chattr +i` works on the temporary folder's file system.
    static let canMakeImmutable: Bool = {
        guard getuid() == 0 else { return false }
        let probe = TemporaryFolder("chattr-probe")
        defer { probe.remove() }
        guard shell("chattr +i \(quoted(probe.path))") == 0 else { return false }
        let denied = shell("mkdir \(quoted(probe("x")))") != 0
        shell("chattr -i \(quoted(probe.path))")
        return denied
    }()

    /// A feed in two parts, a reference archive of the whole feed made by a clean run, and the runs under test.
    struct Setup {
        let folder = TemporaryFolder("disk")
        let counts: SampleFeed.Counts
        let firstPart = 0..<200
        let secondPart: Range<Int>

        /// `total` records, the first 200 in the first part. (Up to 450 the second part has no bad line, so its
        /// run writes no dead letter and a failure can only come from the objects or the checkpoint.)
        init(total: Int = 1_200) throws {
            secondPart = 200..<total
            counts = try SampleFeed.write(0..<total, to: folder("whole.jsonl"))
            _ = try SampleFeed.write(firstPart, to: folder("feed.jsonl"))
            let reference = try BuiltBinary.run(
                ["tail", "--source", "jsonl:whole.jsonl", "--archive", "reference", "--state", "reference-state", "--once"], in: folder.path)
            #expect(reference.status == 0, "\(reference.stderr)")
        }

        func tail(archive: String, state: String) throws -> BuiltBinary.Result {
            try BuiltBinary.run(
                ["tail", "--source", "jsonl:feed.jsonl", "--archive", archive, "--state", state, "--once", "--json"], in: folder.path)
        }

        func appendSecondPart() throws {
            let (text, _) = SampleFeed.text(secondPart)
            let handle = try #require(FileHandle(forWritingAtPath: folder("feed.jsonl")))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(text.utf8))
            try handle.close()
        }

        /// The archive holds exactly the reference objects, byte for byte.
        func expectComplete(_ archive: String) {
            let files = folder.files(under: archive).filter { !$0.hasPrefix(".") }
            let expected = folder.files(under: "reference").filter { !$0.hasPrefix(".") }
            #expect(files == expected, "\(files.count) objects, \(expected.count) expected")
            for file in expected {
                let a = try? Data(contentsOf: URL(fileURLWithPath: folder("reference/" + file)))
                let b = try? Data(contentsOf: URL(fileURLWithPath: folder(archive + "/" + file)))
                #expect(a == b, "\(file)")
            }
        }

        /// The failed run: nonzero, an error naming `path` and `reason`, the checkpoint as before, no store dead letters.
        func expectStopped(_ result: BuiltBinary.Result, naming path: String, reason: String, checkpoint: [String: String], state: String) {
            #expect(result.status != 0)
            let errorText = result.stderr
            #expect(errorText.contains(path), "the error does not name \(path): \(errorText.suffix(1500))")
            #expect(errorText.contains(reason), "\(errorText.suffix(1500))")
            #expect(StateInspection.checkpoints(folder(state)) == checkpoint, "the checkpoint moved")
            for letter in folder.files(under: state + "/dead-letters") where letter.hasSuffix(".json") {
                let text = (try? String(contentsOfFile: folder(state + "/dead-letters/" + letter), encoding: .utf8)) ?? ""
                #expect(!text.contains("write-failed"), "a record was dead-lettered for the store's failure")
            }
        }

        /// The run after the fix: every record, and the dead letters of the feed's bad lines.
        func expectFinished(_ result: BuiltBinary.Result, archive: String, state: String) {
            #expect(result.status == 0, "\(result.stderr.suffix(1500))")
            expectComplete(archive)
            let letters = folder.files(under: state + "/dead-letters").filter { $0.hasSuffix(".json") }
            #expect(letters.count == counts.malformed + counts.removesWithoutImage)
        }
    }

    @Test(.enabled(if: canMount, "needs root and permission to mount a tmpfs"))
    func aFullArchiveDiskStopsTheTailAndTheNextRunGoesOn() throws {
        let s = try Setup()
        defer { s.folder.remove() }
        try Self.fillDisk(s, mountedAt: "archive-disk", size: "8m", block: "64k", archive: "archive-disk/archive", state: "state", naming: "archive-disk/archive")
    }

    /// With 450 records the checkpoint is what cannot be written; with 1,200 the dead letters come first.
    @Test(.enabled(if: canMount, "needs root and permission to mount a tmpfs"), arguments: [450, 1_200])
    func aFullStateDiskStopsTheTailAndTheNextRunGoesOn(records: Int) throws {
        let s = try Setup(total: records)
        defer { s.folder.remove() }
        try Self.fillDisk(s, mountedAt: "state-disk", size: "2m", block: "4k", archive: "archive", state: "state-disk/state", naming: "state-disk/state")
    }

    /// On a tmpfs of `size` mounted at `mountedAt`: a first tail fits; then the disk is filled (in `block`s)
    /// and the next tail must stop naming `naming`, the checkpoint unchanged; once space is freed, a rerun finishes.
    static func fillDisk(_ s: Setup, mountedAt mount: String, size: String, block: String, archive: String, state: String, naming: String) throws {
        let disk = s.folder(mount)
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true)
        #expect(shell("mount -t tmpfs -o size=\(size) tmpfs \(quoted(disk))") == 0)
        defer { shell("umount \(quoted(disk))") }

        #expect(try s.tail(archive: archive, state: state).status == 0)
        let checkpoint = StateInspection.checkpoints(s.folder(state))
        #expect(!checkpoint.isEmpty)
        try s.appendSecondPart()
        shell("dd if=/dev/zero of=\(quoted(disk + "/filler")) bs=\(block)")
        s.expectStopped(try s.tail(archive: archive, state: state), naming: s.folder(naming), reason: "free some space", checkpoint: checkpoint, state: state)

        try FileManager.default.removeItem(atPath: disk + "/filler")
        s.expectFinished(try s.tail(archive: archive, state: state), archive: archive, state: state)
    }

    @Test(.enabled(if: canMakeImmutable, "needs root and a file system that takes chattr +i"))
    func aLockedArchiveFolderStopsTheTailAndTheNextRunGoesOn() throws {
        let s = try Setup()
        defer { s.folder.remove() }
        let archive = s.folder("archive")
        #expect(try s.tail(archive: "archive", state: "state").status == 0)
        let checkpoint = StateInspection.checkpoints(s.folder("state"))
        try s.appendSecondPart()
        #expect(Self.shell("chattr -R +i \(Self.quoted(archive))") == 0)
        defer { Self.shell("chattr -R -i \(Self.quoted(archive))") }
        s.expectStopped(
            try s.tail(archive: "archive", state: "state"), naming: archive, reason: "check the permissions", checkpoint: checkpoint, state: "state")

        Self.shell("chattr -R -i \(Self.quoted(archive))")
        s.expectFinished(try s.tail(archive: "archive", state: "state"), archive: "archive", state: "state")
    }

    @Test(.enabled(if: canMakeImmutable, "needs root and a file system that takes chattr +i"), arguments: [450, 1_200])
    func aLockedStateFolderStopsTheTailAndTheNextRunGoesOn(records: Int) throws {
        let s = try Setup(total: records)
        defer { s.folder.remove() }
        let state = s.folder("state")
        #expect(try s.tail(archive: "archive", state: "state").status == 0)
        let checkpoint = StateInspection.checkpoints(state)
        try s.appendSecondPart()
        #expect(Self.shell("chattr -R +i \(Self.quoted(state))") == 0)
        defer { Self.shell("chattr -R -i \(Self.quoted(state))") }
        let locked = try s.tail(archive: "archive", state: "state")
        Self.shell("chattr -R -i \(Self.quoted(state))")
        s.expectStopped(locked, naming: state, reason: "check the permissions", checkpoint: checkpoint, state: "state")

        s.expectFinished(try s.tail(archive: "archive", state: "state"), archive: "archive", state: "state")
    }
}
