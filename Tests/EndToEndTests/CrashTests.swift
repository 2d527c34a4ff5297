import AWSClients
import ArchiverCore
import Foundation
import Testing
import TestSupport

/// SIGKILL the tail at random moments while its source grows, restart it each time, and compare the
/// archive with a clean run's: one object per REMOVE, byte-equal, no temporary objects, every dead letter
/// whole, and after every kill a checkpoint that never stands ahead of the archive.
///
/// The bounded form runs in CI (about 100 kills over the four sources and stores, plus the restore and
/// sync kills); `ARCHIVER_SOAK_KILLS` (kills per case) and `ARCHIVER_SOAK_RECORDS` (JSON-lines feed length)
/// make a soak run. The cases live in extensions of this suite (SourceCrashTests.swift,
/// RestoreSyncCrashTests.swift) so that they run one after another.
@Suite(.serialized) struct CrashTests {
    @Test func killedTailOfAFileIntoAFolder() async throws {
        let folder = TemporaryFolder("crash-jsonl")
        defer { folder.remove() }
        try await Self.fileFeedCase(folder: folder, archive: .folder(folder("archive")), environment: [:],
                                    kills: Soak.kills(30), records: Soak.records(8_000), pause: 50...300)
    }

    @Test func killedTailOfAFileIntoS3() async throws {
        let server = try await MotoServer.shared()
        let s3 = S3Client(settings: server.settings(), retryPolicy: RetryPolicy(maxAttempts: 2))
        let bucket = MotoServer.uniqueName("crash")
        try await s3.createBucket(bucket)
        let folder = TemporaryFolder("crash-jsonl-s3")
        defer { folder.remove() }
        try await Self.fileFeedCase(folder: folder, archive: .s3(s3, bucket: bucket, prefix: "svc"), environment: server.binaryEnvironment(),
                                    kills: Soak.kills(20), records: min(Soak.records(3_000), 20_000), pause: 150...1000)
    }

    /// A writer appends the sample feed (sometimes ending mid-line) while the tail follows it and is killed.
    static func fileFeedCase(folder: TemporaryFolder, archive: ArchiveUnderTest, environment: [String: String], kills: Int, records: Int,
                             pause: ClosedRange<Int>) async throws {
        let (text, counts) = SampleFeed.text(0..<records)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { $0 + "\n" }

        // The clean run, all at once, into a folder (a bucket holds the same names and bytes).
        try Data(text.utf8).write(to: URL(fileURLWithPath: folder("clean.jsonl")))
        let clean = try await BuiltBinary.run(["tail", "--source", "jsonl:clean.jsonl", "--archive", "clean-archive", "--state", "clean-state", "--once", "--json"], in: folder.path)
        #expect(clean.status == 0, "\(clean.stderr)")

        let feed = folder("feed.jsonl")
        _ = FileManager.default.createFile(atPath: feed, contents: nil)
        let writer = try FileHandle(forWritingTo: URL(fileURLWithPath: feed))
        var written = 0
        var writtenBytes: [Int] = []
        var generator = SystemRandomNumberGenerator()
        let tail = ["tail", "--source", "jsonl:feed.jsonl", "--archive", archive.spec, "--state", "state"]
        let state = StateUnderTest(path: folder("state"))
        let loop = KillLoop(folder: folder, tail: tail, archive: archive, state: state, environment: environment, pause: pause)
        let snapshots = try await loop.run(kills: kills) { kill in
            // Append a slice of the feed in a few pieces while the tail runs, so that kills find it busy;
            // a piece sometimes ends mid-line, finished by the next.
            let end = min(lines.count, written + max(1, (lines.count - written) / max(1, kills - kill)))
            let bytes = Array(lines[written..<end].joined().utf8)
            written = end
            writtenBytes.append((writtenBytes.last ?? 0) + bytes.count)
            var cuts = (0..<Int.random(in: 0...4, using: &generator)).map { _ in Int.random(in: 0..<max(1, bytes.count), using: &generator) }
            cuts = ([0] + cuts.sorted() + [bytes.count])
            for (from, to) in zip(cuts, cuts.dropFirst()) where from < to {
                writer.write(Data(bytes[from..<to]))
                try await Task.sleep(for: .milliseconds(Int.random(in: 5...40, using: &generator)))
            }
        }
        writer.write(Data(lines[written...].joined().utf8))
        try writer.close()
        let last = try await BuiltBinary.run(tail + ["--once", "--json"], in: folder.path, environment: environment)
        #expect(last.status == 0, "\(last.stderr)")

        let cleanArchive = ArchiveUnderTest.folder(folder("clean-archive"))
        try await CrashChecks.sameAsClean(archive, cleanArchive, expected: counts.removes, folder: folder, environment: environment)
        CrashChecks.sameDeadLetters(state, StateUnderTest(path: folder("clean-state")), expected: counts.malformed + counts.removesWithoutImage)
        // The checkpoint (`device:inode:offset:next line`) covers lines before its line number; line n holds sample record n - 1.
        let checked = CrashChecks.checkpointNeverAhead(snapshots, cleanObjects: try await cleanArchive.objects()) { key, checkpoints in
            guard let position = checkpoints[""], let nextLine = Int(position.split(separator: ":").last ?? "") else { return false }
            return SampleFeed.index(ofSequenceNumber: key.sequence).map { $0 + 1 < nextLine } ?? false
        }
        #expect(checked > 0, "no checkpoint was saved before a kill: the kills tested nothing")
        // Some kills found the tail at work (behind the writer), not only waiting for lines.
        let busy = zip(snapshots, writtenBytes).count { snapshot, bytes in
            Int(snapshot.checkpoints[""]?.split(separator: ":").dropFirst(2).first ?? "0") ?? 0 < bytes
        }
        #expect(busy >= kills / 6, "only \(busy) of \(kills) kills found the tail at work")
        CrashReport.line("tail of a file into \(archive.spec.hasPrefix("s3:") ? "S3" : "a folder")",
                         "\(kills) kills, \(busy) while it was behind the writer, \(checked) object-after-kill checks against the checkpoint")
        // Dead letters are covered too: an entry for every bad line before the checkpoint.
        CrashChecks.deadLettersNeverBehind(snapshots, clean: StateUnderTest(path: folder("clean-state"))) { letter, checkpoints in
            guard let position = checkpoints[""], let nextLine = Int(position.split(separator: ":").last ?? ""),
                let line = Int(letter.position.split(separator: " ").dropFirst().first ?? "") else { return false }
            return line < nextLine
        }
    }
}

extension SampleFeed {
    /// The record index behind a sample sequence number (`1000000` followed by 10^14 + index).
    static func index(ofSequenceNumber sequence: String) -> Int? {
        guard sequence.hasPrefix("1000000"), let value = Int(sequence.dropFirst(7)) else { return nil }
        return value - 100_000_000_000_000
    }
}

extension MotoServer {
    /// The environment for the built binary: moto's endpoint and test credentials, and no shared files.
    func binaryEnvironment() -> [String: String] {
        var env = awsEnvironment()
        // Foundation on Linux cannot read /dev/null as a file (awsEnvironment's choice); name files that do not exist instead.
        env["AWS_CONFIG_FILE"] = "/nonexistent/aws-config"
        env["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/aws-credentials"
        return env
    }
}
