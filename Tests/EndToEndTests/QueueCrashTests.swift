import ArchiverCore
import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// SIGKILL the tail (which runs the queue's workers) and `queue run` at random moments while deletions arrive, and
/// check after every kill that no file is gone whose record is not archived and checkpointed, and at the end that
/// every action of every archived deletion ran to completion (its file gone and kept) or was parked with its reason,
/// that none ran for a record no rule takes, and that none was lost or doubled.
extension CrashTests {
    /// The feed: line `i` is an INSERT (i % 5 == 0) or a REMOVE of item `i` owning `items/<i>.bin`; every tenth REMOVE is
    /// a draft (no rule takes it), every fiftieth names a file outside the root (parked), and every 25th owns a folder.
    struct QueueCrashFeed {
        enum Kind: Equatable { case insert, draft, file, folder, hostile }

        static func kind(_ i: Int) -> Kind {
            if i % 5 == 0 { return .insert }
            if i % 10 == 3 { return .draft }
            if i % 50 == 7 { return .hostile }
            if i % 25 == 9 { return .folder }
            return .file
        }

        static func line(_ i: Int) -> String {
            let kind = kind(i)
            let file = kind == .hostile ? "../escape/\(i).bin" : "items/\(i).bin"
            let image = #"{"PK":{"S":"ITEM#\#(i)"},"file":{"S":"\#(file)"},"home":{"S":"h\#(i)"},"status":{"S":"\#(kind == .draft ? "draft" : "ready")"}}"#
            let event = kind == .insert ? "INSERT" : "REMOVE"
            let images = kind == .insert ? #""NewImage":\#(image)"# : #""OldImage":\#(image)"#
            return #"{"eventID":"q\#(i)","eventName":"\#(event)","dynamodb":{"ApproximateCreationDateTime":\#(1_706_000_000 + i),"Keys":{"PK":{"S":"ITEM#\#(i)"}},\#(images),"SequenceNumber":"\#(700_000 + i)"},"eventSourceARN":"arn:aws:dynamodb:us-east-1:1:table/items/stream/x"}"#
        }

        /// The files line `i` owns, relative to the folder of the test (the root is `files/`).
        static func files(_ i: Int) -> [String] {
            switch kind(i) {
            case .folder: ["files/homes/h\(i)/a.bin", "files/homes/h\(i)/sub/b.bin"]
            case .hostile: ["escape/\(i).bin"]
            default: ["files/items/\(i).bin"]
            }
        }

        /// Whether the files of line `i` are to be deleted once it is archived.
        static func deletes(_ i: Int) -> Bool { [.file, .folder].contains(kind(i)) }
    }

    static let queueCrashConfiguration = """
        state: state
        archive: archive
        roots:
          files: @FILES@
        rules:
          - name: item-files
            match: {table: items, where: ["OldImage.status.S == ready"]}
            actions:
              - delete-object: {root: files, key: "{OldImage.file.S}", keep: true}
          - name: homes
            match: {table: items, where: ["OldImage.status.S == ready", "Keys.PK.S starts-with ITEM#"]}
            actions:
              - delete-prefix: {root: files, prefix: "homes/{OldImage.home.S}/", min-depth: 2}
        queue:
          batch-size: 25
          max-attempts: 1000
          lease: 1s
          poll: 50ms
          backoff: {base: 10ms, max: 200ms}
        """

    @Test func killedTailAndQueueRunCarryOutEveryActionExactlyOnceArchived() async throws {
        let folder = TemporaryFolder("crash-queue")
        defer { folder.remove() }
        let kills = Soak.kills(32)
        let records = max(1_500, kills * 60)
        try Self.queueCrashConfiguration.replacingOccurrences(of: "@FILES@", with: folder("files"))
            .write(toFile: folder("archiver.yml"), atomically: true, encoding: .utf8)
        for i in 0..<records {
            for file in QueueCrashFeed.files(i) {
                try FileManager.default.createDirectory(atPath: (folder(file) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try Data("file \(i)".utf8).write(to: URL(fileURLWithPath: folder(file)))
            }
        }
        let lines = (0..<records).map { QueueCrashFeed.line($0) + "\n" }
        _ = FileManager.default.createFile(atPath: folder("feed.jsonl"), contents: nil)
        let writer = try FileHandle(forWritingTo: URL(fileURLWithPath: folder("feed.jsonl")))
        let state = StateUnderTest(path: folder("state"))
        let tail = ["tail", "--source", "jsonl:feed.jsonl", "--config", "archiver.yml"]
        let run = ["queue", "run", "--config", "archiver.yml"]
        var generator = SystemRandomNumberGenerator()
        var written = 0
        var checks = 0
        var deletedAtSomeKill = 0
        var killedRuns = 0

        for kill in 0..<kills {
            // Alternate: the tail alone, `queue run` alone, both together; kill at random.
            let mode = kill % 3
            let tailProcess = mode != 1 ? try BuiltBinary.start(tail, in: folder.path) : nil
            let runProcess = mode != 0 ? try BuiltBinary.start(run, in: folder.path) : nil
            let end = min(records, written + max(1, (records - written) / max(1, kills - kill)))
            writer.write(Data(lines[written..<end].joined().utf8))
            written = end
            try await Task.sleep(for: .milliseconds(Int.random(in: 30...700, using: &generator)))
            for process in [tailProcess, runProcess].compactMap({ $0 }) {
                process.signal(SIGKILL)
                let result = await process.finish()
                #expect(!result.crashed, "crashed before it was killed: \(result.stderr)")
                if process === runProcess && process.endedBySignal { killedRuns += 1 }
            }

            // After every kill: a file is gone only if its record is archived and the checkpoint covers it.
            let archived = Self.archivedLines(folder("archive"))
            let nextLine = try state.checkpoints()[""].flatMap { $0.split(separator: ":").last.flatMap { Int($0) } } ?? 1
            for i in 0..<records {
                let gone = QueueCrashFeed.files(i).contains { !FileManager.default.fileExists(atPath: folder($0)) }
                guard gone else { continue }
                checks += 1
                deletedAtSomeKill += 1
                #expect(QueueCrashFeed.deletes(i), "after kill \(kill), line \(i)'s file is gone though no rule deletes it")
                #expect(archived.contains(i), "after kill \(kill), line \(i)'s file is gone and its record is not archived")
                #expect(i + 1 < nextLine, "after kill \(kill), line \(i)'s file is gone and the checkpoint (next line \(nextLine)) does not cover it")
            }
        }
        try writer.close()

        // Finish: the tail to the end of the feed, then the queue until nothing is left (leases of killed workers pass).
        let last = try await BuiltBinary.run(tail + ["--once", "--json"], in: folder.path)
        #expect(last.status == 0, "\(last.stderr)")
        var stats: [String: Any] = [:]
        for _ in 0..<20 {
            let drain = try await BuiltBinary.run(run + ["--once"], in: folder.path)
            #expect(drain.status == 0, "\(drain.stderr)")
            let out = try await BuiltBinary.run(["queue", "stats", "--config", "archiver.yml", "--json"], in: folder.path)
            stats = (try? JSONSerialization.jsonObject(with: Data(out.stdout.utf8))) as? [String: Any] ?? [:]
            let states = stats["states"] as? [String: Int] ?? [:]
            if ["available", "executing", "retryable", "scheduled"].allSatisfy({ states[$0] == 0 }) { break }
            try await Task.sleep(for: .milliseconds(1100))
        }

        // Every action of every archived deletion ran to completion, or was parked with its reason; none lost, none doubled.
        let states = stats["states"] as? [String: Int] ?? [:]
        let removes = (0..<records).filter { [.file, .folder, .hostile].contains(QueueCrashFeed.kind($0)) }
        let hostile = removes.filter { QueueCrashFeed.kind($0) == .hostile }.count
        #expect(stats["total"] as? Int == removes.count * 2, "two actions per deletion a rule takes")
        #expect(states["parked"] == hostile && states["completed"] == removes.count * 2 - hostile, "\(states)")
        #expect((stats["errors"] as? [String: Int]) == ["unsafe-target": hostile])
        for i in 0..<records {
            for file in QueueCrashFeed.files(i) {
                #expect(FileManager.default.fileExists(atPath: folder(file)) != QueueCrashFeed.deletes(i), "line \(i): \(file)")
            }
        }
        // Each deleted item file was kept whole beside its record first.
        let kept = folder.files(under: "archive").filter { $0.contains(".files/files/items/") }
        #expect(kept.count == removes.filter { QueueCrashFeed.kind($0) == .file }.count)
        for path in kept.prefix(50) {
            let i = Int(path.split(separator: "/").last!.prefix { $0 != "." })!
            #expect(FileManager.default.contents(atPath: folder("archive/" + path)) == Data("file \(i)".utf8))
        }
        #expect(deletedAtSomeKill > 0 && killedRuns > kills / 4, "the kills found nothing deleted (\(deletedAtSomeKill)) or queue run was rarely killed at work (\(killedRuns))")
        CrashReport.line("tail and queue run with deletion actions", "\(kills) kills (\(killedRuns) of queue run), \(records) lines, \(checks) deleted-file checks against archive and checkpoint")
    }

    /// The feed lines whose record has its object in the archive.
    static func archivedLines(_ archive: String) -> Set<Int> {
        var lines = Set<Int>()
        let walker = FileManager.default.enumerator(atPath: archive)
        while let path = walker?.nextObject() as? String {
            guard path.hasSuffix(".json.gz"), let key = ArchiveKey(path: path), let sequence = Int(key.sequence) else { continue }
            lines.insert(sequence - 700_000)
        }
        return lines
    }
}
