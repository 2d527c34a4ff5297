import AWSClients
import ArchiverAWS
import ArchiverCore
import Foundation
import Testing
import TestSupport

/// The crash cases for a batched archive: a following tail of a growing JSON-lines file, SIGKILLed at random
/// moments (30 kills into a folder, 20 into S3 in the bounded form; `ARCHIVER_SOAK_KILLS` for a soak), ends
/// byte-equal to a clean `--once` run: the same objects, indexes and manifest with the same bytes, nothing else.
extension CrashTests {
    /// Small objects, so a few thousand records make many cuts of every kind between the kills.
    static let batchedFlags = ["--layout", "batched", "--batch-max-records", "60", "--batch-max-bytes", "40KiB", "--batch-min-bytes", "8KiB",
                               "--batch-window", "1h"]

    @Test func killedBatchedTailOfAFileIntoAFolder() async throws {
        let folder = TemporaryFolder("crash-batched")
        defer { folder.remove() }
        try await Self.batchedFeedCase(folder: folder, archive: .folder(folder("archive"), batched: true), environment: [:],
                                       kills: Soak.kills(30), records: Soak.records(8_000), pause: 50...300)
    }

    @Test func killedBatchedTailOfAFileIntoS3() async throws {
        let server = try await MotoServer.shared()
        let s3 = S3Client(settings: server.settings(), retryPolicy: RetryPolicy(maxAttempts: 2))
        let bucket = MotoServer.uniqueName("crash-batched")
        try await s3.createBucket(bucket)
        let folder = TemporaryFolder("crash-batched-s3")
        defer { folder.remove() }
        try await Self.batchedFeedCase(folder: folder, archive: .s3(s3, bucket: bucket, prefix: "svc", batched: true), environment: server.binaryEnvironment(),
                                       kills: Soak.kills(20), records: min(Soak.records(4_000), 20_000), pause: 150...1000)
    }

    static func batchedFeedCase(folder: TemporaryFolder, archive: ArchiveUnderTest, environment: [String: String], kills: Int, records: Int,
                                pause: ClosedRange<Int>) async throws {
        let (text, counts) = SampleFeed.text(0..<records)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { $0 + "\n" }
        try Data(text.utf8).write(to: URL(fileURLWithPath: folder("clean.jsonl")))
        let clean = try await BuiltBinary.run(
            ["tail", "--source", "jsonl:clean.jsonl", "--archive", "clean-archive", "--state", "clean-state", "--once"] + batchedFlags, in: folder.path)
        #expect(clean.status == 0, "\(clean.stderr)")
        let cleanArchive = ArchiveUnderTest.folder(folder("clean-archive"), batched: true)
        // Which clean object holds each record (by its line in the feed): the crash run must write the same.
        var objectOfLine: [Int: [String]] = [:]
        let cleanStore = try LocalArchiveStore(path: folder("clean-archive"), access: .readOnly)
        for try await page in BatchedArchive(store: cleanStore).indexes(prefix: "") {
            for read in page {
                for entry in read.index.entries {
                    let line = try #require(SampleFeed.index(ofSequenceNumber: entry.sequence)) + 1
                    objectOfLine[line] = [read.index.object, read.key]
                }
            }
        }
        #expect(objectOfLine.count == counts.removes)

        let feed = folder("feed.jsonl")
        _ = FileManager.default.createFile(atPath: feed, contents: nil)
        let writer = try FileHandle(forWritingTo: URL(fileURLWithPath: feed))
        var written = 0
        var generator = SystemRandomNumberGenerator()
        let tail = ["tail", "--source", "jsonl:feed.jsonl", "--archive", archive.spec, "--state", "state"] + batchedFlags
        let state = StateUnderTest(path: folder("state"))
        let loop = KillLoop(folder: folder, tail: tail, archive: archive, state: state, environment: environment, pause: pause)
        let snapshots = try await loop.run(kills: kills) { kill in
            let end = min(lines.count, written + max(1, (lines.count - written) / max(1, kills - kill)))
            let bytes = Array(lines[written..<end].joined().utf8)
            written = end
            var cuts = (0..<Int.random(in: 0...4, using: &generator)).map { _ in Int.random(in: 0..<max(1, bytes.count), using: &generator) }
            cuts = [0] + cuts.sorted() + [bytes.count]
            for (from, to) in zip(cuts, cuts.dropFirst()) where from < to {
                writer.write(Data(bytes[from..<to]))
                try await Task.sleep(for: .milliseconds(Int.random(in: 5...40, using: &generator)))
            }
        }
        writer.write(Data(lines[written...].joined().utf8))
        try writer.close()
        let last = try await BuiltBinary.run(tail + ["--once", "--json"], in: folder.path, environment: environment)
        #expect(last.status == 0, "\(last.stderr)")

        // Byte-equal to the clean run: every object, index and the manifest; nothing else; ls lists each record once.
        let cleanNames = try await cleanArchive.objects()
        let crashNames = try await archive.objects()
        #expect(cleanNames.count > 50, "the clean run made \(cleanNames.count) objects")
        #expect(Set(crashNames).symmetricDifference(cleanNames).sorted().prefix(10) == [], "names differ from the clean run's")
        var differing: [String] = []
        for name in cleanNames where Set(crashNames).contains(name) {
            if try await archive.read(name) != cleanArchive.read(name) { differing.append(name) }
        }
        #expect(differing.isEmpty, "differ from the clean run's: \(differing.prefix(10))")
        #expect(try await archive.temporaries() == [], "temporary objects left")
        #expect(try await archive.uploadsInProgress() == 0)
        let listed = try KillLoop.listed(archive, in: folder, environment: environment)
        #expect(listed.count == counts.removes && Set(listed).count == listed.count)
        CrashChecks.sameDeadLetters(state, StateUnderTest(path: folder("clean-state")), expected: counts.malformed + counts.removesWithoutImage)

        // After every kill, every record before the checkpoint was in its object (and index) already.
        var checked = 0
        for snapshot in snapshots {
            // The checkpoint's next line (the first without one), plus the records done past it.
            let position = snapshot.checkpoints[""] ?? "start"
            let skip = snapshot.skips[""] ?? 0
            guard let checkpointLine = snapshot.checkpoints[""].map({ Int($0.split(separator: ":").last ?? "") }) ?? 1 else { continue }
            let nextLine = checkpointLine + skip
            guard nextLine > 1 else { continue }
            let missing = objectOfLine.filter { $0.key < nextLine }.values.flatMap { $0 }.filter { !snapshot.objects.contains($0) }
            checked += objectOfLine.count { $0.key < nextLine }
            #expect(missing.isEmpty, "after kill \(snapshot.kill) the checkpoint \(position) + \(skip) is ahead of the archive: \(Set(missing).prefix(3))")
        }
        #expect(checked > 0, "no checkpoint was saved before a kill: the kills tested nothing")
        // Dead letters are written at once, whatever is held: an entry for every bad line before the checkpoint.
        CrashChecks.deadLettersNeverBehind(snapshots, clean: StateUnderTest(path: folder("clean-state"))) { letter, checkpoints in
            guard let position = checkpoints[""], let nextLine = Int(position.split(separator: ":").last ?? ""),
                let line = Int(letter.position.split(separator: " ").dropFirst().first ?? "") else { return false }
            return line < nextLine
        }
        CrashReport.line("batched tail of a file into \(archive.spec.hasPrefix("s3:") ? "S3" : "a folder")",
                         "\(kills) kills, \(cleanNames.count) objects byte-equal to a clean run, \(checked) record-after-kill checks against the checkpoint")
    }
}
