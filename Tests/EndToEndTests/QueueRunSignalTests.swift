import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// `queue run` without `--once` keeps working until SIGTERM, then finishes the batch in hand and exits 0: no entry
/// is left executing (leased) behind it.
@Suite("queue run and SIGTERM")
struct QueueRunSignalTests {
    @Test func sigtermFinishesTheBatchInHandAndExitsCleanly() async throws {
        let folder = TemporaryFolder("queue-sigterm")
        defer { folder.remove() }
        let count = 3_000
        var lines: [String] = []
        try FileManager.default.createDirectory(atPath: folder("files/f"), withIntermediateDirectories: true)
        for n in 0..<count {
            try Data([1]).write(to: URL(fileURLWithPath: folder("files/f/\(n)")))
            lines.append(#"{"eventName":"REMOVE","dynamodb":{"ApproximateCreationDateTime":\#(1_706_000_000 + n),"Keys":{"PK":{"S":"F\#(n)"}},"OldImage":{"path":{"S":"f/\#(n)"}},"SequenceNumber":"\#(10_000 + n)"},"eventSourceARN":"arn:aws:dynamodb:r:1:table/files/stream/x"}"#)
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: folder("feed.jsonl"), atomically: true, encoding: .utf8)
        try """
            state: state
            archive: archive
            roots: {files: \(folder("files"))}
            rules:
              - name: files
                match: {table: files}
                actions: [{delete-object: {root: files, key: "{OldImage.path.S}"}}]
            queue: {batch-size: 50, poll: 100ms}
            """.write(toFile: folder("archiver.yml"), atomically: true, encoding: .utf8)
        let tail = try await BuiltBinary.run(["tail", "--source", "jsonl:feed.jsonl", "--config", "archiver.yml", "--once", "--no-queue"], in: folder.path)
        #expect(tail.status == 0, "\(tail.stderr)")

        let run = try BuiltBinary.start(["queue", "run", "--config", "archiver.yml", "--json"], in: folder.path)
        // Wait until it is at work, then ask it to stop.
        let deadline = Date().addingTimeInterval(30)
        while folder.files(under: "files").count == count, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        run.signal(SIGTERM)
        let result = await run.finish()
        #expect(result.status == 0 && !run.endedBySignal, "\(result.stderr)")
        let summary = (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [String: Any] ?? [:]
        let completed = summary["completed"] as? Int ?? -1
        let stats = try await BuiltBinary.run(["queue", "stats", "--config", "archiver.yml", "--json"], in: folder.path)
        let states = ((try? JSONSerialization.jsonObject(with: Data(stats.stdout.utf8))) as? [String: Any])?["states"] as? [String: Int] ?? [:]
        #expect(states["executing"] == 0, "a batch was left leased: \(states)")
        #expect(states["completed"] == completed && completed > 0 && completed % 50 == 0, "\(states), summary \(summary)")
        #expect(folder.files(under: "files").count == count - completed)
    }
}
