import AWSClients
import ArchiverAWS
import ArchiverCore
import Foundation
import Testing
import TestSupport

extension FaultProxyTests {
    /// A batched tail through 30% faults (500, 503, throttling, resets, stalls, truncated bodies) writes exactly the
    /// objects, indexes and manifest of a clean folder run, byte for byte: every record once, none dead-lettered for
    /// the store; and ls and restore through the same faults read them.
    @Test func aBatchedTailThroughFaultsArchivesEveryRecordOnce() async throws {
        let server = try await MotoServer.shared()
        let s3 = S3Client(settings: server.settings(), retryPolicy: RetryPolicy(maxAttempts: 2))
        let bucket = MotoServer.uniqueName("faults-batched")
        try await s3.createBucket(bucket)
        let folder = TemporaryFolder("faults-batched")
        defer { folder.remove() }
        let records = FaultSoak.records(ci: 1_500)
        let counts = try SampleFeed.write(0..<records, to: folder("feed.jsonl"))
        let proxy = try FaultProxy(frontOf: server, faults: Self.faults(total: FaultSoak.share(ci: 0.3)), stallSeconds: 3)
        defer { proxy.stop() }
        let flags = ["--layout", "batched", "--batch-max-records", "50", "--batch-min-bytes", "8KiB", "--batch-window", "1h"]

        let tail = try await BuiltBinary.run(
            ["tail", "--source", "jsonl:feed.jsonl", "--archive", "s3://\(bucket)/svc", "--state", "state", "--once", "--json"] + flags,
            in: folder.path, environment: Self.environment(proxy))
        #expect(tail.status == 0, "\(tail.stderr.suffix(3000))")
        let summary = Self.json(tail.stdout)
        #expect(summary["archived"] as? Int == counts.removes, "\(tail.stdout)")
        #expect(summary["dead_lettered"] as? Int == counts.malformed + counts.removesWithoutImage)

        let local = try await BuiltBinary.run(["tail", "--source", "jsonl:feed.jsonl", "--archive", "archive", "--state", "local-state", "--once"] + flags, in: folder.path)
        #expect(local.status == 0, "\(local.stderr)")
        let files = folder.files(under: "archive").filter { !$0.hasPrefix(".") }
        #expect(files.count > 20, "objects, indexes and the manifest: \(files.count)")
        let keys = try await Self.keys(s3, bucket, under: "svc/")
        #expect(keys.map { String($0.dropFirst(4)) } == files)
        for file in files {
            let expected = Array(try Data(contentsOf: URL(fileURLWithPath: folder("archive/" + file))))
            #expect(try await s3.getObject(bucket: bucket, key: "svc/" + file) == expected, "\(file)")
        }
        let listed = try await BatchedArchive(store: S3ArchiveStore(client: s3, bucket: bucket, prefix: "svc")).indexes(prefix: "")
            .reduce(into: [String]()) { $0 += $1.flatMap { $0.index.entries.map(\.key) } }
        #expect(listed.count == counts.removes && Set(listed).count == listed.count)
        let letters = folder.files(under: "state/dead-letters").filter { $0.hasSuffix(".json") }
        for letter in letters {
            #expect(!(try String(contentsOfFile: folder("state/dead-letters/" + letter), encoding: .utf8)).contains("write-failed"))
        }

        // Reading through the same faults: ls lists every record; a restore by key gets it or fails clearly.
        let ls = try await BuiltBinary.run(["ls", "--archive", "s3://\(bucket)/svc", "--json"], in: folder.path, environment: Self.environment(proxy))
        // A listing is many calls: one may meet more faults in a row than its attempts, and then ls must say so.
        #expect(ls.status == 0 || ls.stderr.contains("S3 ") && ls.stderr.contains("after 5 attempts"), "\(ls.stderr.suffix(2000))")
        if ls.status == 0 {
            let entries = (try? JSONSerialization.jsonObject(with: Data(ls.stdout.utf8))) as? [[String: Any]] ?? []
            #expect(entries.count == counts.removes)
        }
        for key in listed.shuffled().prefix(5) {
            let restore = try await BuiltBinary.run(["restore", key, "--archive", "s3://\(bucket)/svc", "--to", "-"], in: folder.path, environment: Self.environment(proxy))
            #expect(restore.status == 0 || restore.stderr.contains("S3"), "\(restore.stderr.suffix(1000))")
            if restore.status == 0 { #expect(restore.stdout.contains("\"PK\"")) }
        }
        let stats = try await proxy.stats()
        // Faults are drawn at random, 30% of requests: a tenth is far below what any run draws, far above none.
        #expect(stats.faultCount > 5 && stats.faultCount * 10 >= stats.requests && stats.mostAttempts <= 5,
                "faults \(stats.faults) of \(stats.requests) requests, most attempts \(stats.mostAttempts)")
    }
}
