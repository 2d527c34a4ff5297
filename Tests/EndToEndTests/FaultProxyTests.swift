import AWSClients
import ArchiverCore
import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The built `archiver` against moto through `scripts/fault-proxy.py`, which answers a share of the requests
/// with 500s, 503 SlowDown, throttling errors, connection resets, stalls past the timeout and truncated bodies.
///
/// Bounded by default (a few hundred records); `ARCHIVER_FAULT_RECORDS` and `ARCHIVER_FAULT_SHARE` make a soak run.
@Suite("archiver through a fault-injecting proxy", .serialized)
struct FaultProxyTests {
    /// Every fault kind, sharing `total` of the requests.
    static func faults(total: Double) -> FaultProxy.Faults {
        let weights: FaultProxy.Faults = ["500": 3, "503": 3, "throttle": 3, "reset": 2, "reset-after": 2, "stall": 1, "truncate": 2]
        let sum = weights.values.reduce(0, +)
        return weights.mapValues { $0 / sum * total }
    }

    /// The environment of a binary run through the proxy: requests time out after 1 s (stalls last 3 s).
    static func environment(_ proxy: FaultProxy) -> [String: String] {
        var environment = proxy.awsEnvironment()
        environment["ARCHIVER_HTTP_TIMEOUT"] = "1"
        return environment
    }

    static func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    /// Every key under `prefix`, read from moto directly (not through the proxy).
    static func keys(_ s3: S3Client, _ bucket: String, under prefix: String) async throws -> [String] {
        var keys: [String] = []
        for try await object in s3.listAllObjects(bucket: bucket, prefix: prefix) { keys.append(object.key) }
        return keys
    }

    @Test func aTailThroughFaultsArchivesEveryRecordOnceWithBoundedRetries() async throws {
        let server = try await MotoServer.shared()
        let s3 = S3Client(settings: server.settings(), retryPolicy: RetryPolicy(maxAttempts: 2))
        let bucket = MotoServer.uniqueName("faults")
        try await s3.createBucket(bucket)
        let folder = TemporaryFolder("faults")
        defer { folder.remove() }
        let records = FaultSoak.records(ci: 1_200)
        let share = FaultSoak.share(ci: 0.3)
        let (text, counts) = SampleFeed.text(0..<records)
        let index = SampleFeedIndex(0..<records)
        let proxy = try FaultProxy(frontOf: server, faults: Self.faults(total: share), stallSeconds: 3)
        defer { proxy.stop() }

        // The feed grows in six parts while the tail follows it, so that there are several batches and checkpoints.
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        let parts = 6
        func part(_ p: Int) -> String { lines[(records * p / parts)..<(records * (p + 1) / parts)].joined(separator: "\n") + "\n" }
        try Data(part(0).utf8).write(to: URL(fileURLWithPath: folder("feed.jsonl")))
        let started = Date()
        let tail = try BuiltBinary.start(
            ["tail", "--source", "jsonl:feed.jsonl", "--archive", "s3://\(bucket)/svc", "--state", "state", "--json"],
            in: folder.path, environment: Self.environment(proxy))
        defer { if tail.process.isRunning { tail.signal(SIGKILL) } }
        // While it runs: every record before the checkpoint has its object (read from moto, not through the proxy).
        var checks = 0
        var lastOffset: Int64 = 0
        func check() async throws {
            let offset = StateInspection.jsonLinesOffset(folder("state"))
            guard offset > 0 else { return }
            let missing = index.missing(before: offset, keys: try await Self.keys(s3, bucket, under: "svc/"))
            #expect(missing.isEmpty, "the checkpoint (byte \(offset)) passed records without objects: lines \(missing.prefix(10))")
            #expect(offset >= lastOffset, "the checkpoint went back")
            if offset > lastOffset { checks += 1 }
            lastOffset = offset
        }
        for p in 1..<parts {
            for _ in 0..<4 {
                try await check()
                try await Task.sleep(for: .milliseconds(200))
            }
            let handle = try #require(FileHandle(forWritingAtPath: folder("feed.jsonl")))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(part(p).utf8))
            try handle.close()
        }
        let end = index.lineEnds.last!
        let deadline = Date().addingTimeInterval(Double(records) / 10 + 60)
        while lastOffset < end && Date() < deadline && tail.process.isRunning {
            try await check()
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(lastOffset == end, "the tail did not reach the end of the feed")
        tail.signal(SIGTERM)
        let result = await tail.finish()
        let seconds = Date().timeIntervalSince(started)
        #expect(result.status == 0, "\(result.stderr.suffix(3000))")
        let summary = Self.json(result.stdout)
        #expect(summary["archived"] as? Int == counts.removes, "\(result.stdout)")
        #expect(summary["dead_lettered"] as? Int == counts.malformed + counts.removesWithoutImage)

        // Exactly the objects of a clean folder run, byte for byte.
        let local = try await BuiltBinary.run(
            ["tail", "--source", "jsonl:feed.jsonl", "--archive", "archive", "--state", "local-state", "--once", "--json"], in: folder.path)
        #expect(local.status == 0, "\(local.stderr)")
        let files = folder.files(under: "archive").filter { !$0.hasPrefix(".") }
        let keys = try await Self.keys(s3, bucket, under: "svc/")
        #expect(keys.map { String($0.dropFirst(4)) } == files)
        for file in files {
            let expected = Array(try Data(contentsOf: URL(fileURLWithPath: folder("archive/" + file))))
            #expect(try await s3.getObject(bucket: bucket, key: "svc/" + file) == expected, "\(file)")
        }
        #expect(index.missing(before: .max, keys: keys).isEmpty)
        // No record went to the dead-letter folder for a store failure.
        let letters = folder.files(under: "state/dead-letters").filter { $0.hasSuffix(".json") }
        for letter in letters {
            let text = try String(contentsOfFile: folder("state/dead-letters/" + letter), encoding: .utf8)
            #expect(!text.contains("write-failed"), "\(text)")
        }

        // Retries stay bounded: no call made more attempts than the policy's maximum.
        let stats = try await proxy.stats()
        let maximum = RetryPolicy.standard.maxAttempts
        #expect(stats.faultCount > 0)
        #expect(stats.byInvocation.count > 0)
        #expect(stats.mostAttempts <= maximum, "a call made \(stats.mostAttempts) attempts")
        #expect(stats.byInvocation.allSatisfy { $0.max == maximum })
        // An HTTP stack may resend a request once by itself when a reused connection turns out dead: at most twice per attempt.
        #expect(stats.mostRequests <= 2 * maximum, "a call put \(stats.mostRequests) requests on the wire")
        #expect(checks >= 2, "too few checkpoints to check")
        // (PutObject answers have no body to cut short: their "truncate" share is counted as reset-after.)
        for kind in ["500", "503", "throttle", "reset", "reset-after"] {
            #expect(stats.faults[kind, default: 0] > 0, "no \(kind) fault was injected: \(stats.faults)")
        }
        print(
            "fault-proxy tail: \(records) records, \(counts.removes) objects, \(stats.requests) requests, faults \(stats.faults), "
                + "\(stats.retries) retries, \(stats.resends) resends by the HTTP stack, most attempts of one call \(stats.mostAttempts), most requests to one path "
                + "\(stats.byRequest.values.max() ?? 0), \(checks) checkpoint checks, \(String(format: "%.1f", seconds)) s")
    }

    @Test func syncAndRestoreThroughTruncatedBodiesRetryOrFailAndNeverWriteACorruptFile() async throws {
        let server = try await MotoServer.shared()
        let s3 = S3Client(settings: server.settings(), retryPolicy: RetryPolicy(maxAttempts: 2))
        let bucket = MotoServer.uniqueName("truncate")
        try await s3.createBucket(bucket)
        let folder = TemporaryFolder("truncate")
        defer { folder.remove() }
        _ = try SampleFeed.write(0..<300, to: folder("feed.jsonl"))
        let direct = try await BuiltBinary.run(
            ["tail", "--source", "jsonl:feed.jsonl", "--archive", "s3://\(bucket)/svc", "--state", "state", "--once"], in: folder.path,
            environment: server.awsEnvironment())
        #expect(direct.status == 0, "\(direct.stderr)")
        let stored = try await Self.keys(s3, bucket, under: "svc/2024/01/")
        #expect(!stored.isEmpty)
        var original: [String: [UInt8]] = [:]
        for key in stored { original[String(key.dropFirst(4))] = try await s3.getObject(bucket: bucket, key: key) }

        /// Every file in `copy/` is byte-equal to the object it copies.
        func expectNoCorruptFile(_ copy: String) {
            for file in folder.files(under: copy) where !file.hasPrefix(".") {
                let bytes = (try? Data(contentsOf: URL(fileURLWithPath: folder(copy + "/" + file)))).map(Array.init)
                #expect(bytes == original[file], "\(file) differs from the archived object")
            }
        }

        // Every GET cut short: each call gives up after the policy's attempts, clearly, and writes nothing.
        let proxy = try FaultProxy(frontOf: server, faults: ["truncate": 1])
        defer { proxy.stop() }
        let key = try #require(original.keys.sorted().first)
        let restore = try await BuiltBinary.run(
            ["restore", key, "--archive", "s3://\(bucket)/svc", "--to", "-"], in: folder.path, environment: Self.environment(proxy))
        #expect(restore.status != 0)
        #expect(restore.stdout.isEmpty, "\(restore.stdout)")
        #expect(restore.stderr.contains("Error: S3 GetObject failed"), "\(restore.stderr)")
        #expect(restore.stderr.contains("transfer closed") || restore.stderr.contains("cut short"), "\(restore.stderr)")
        let failedSync = try await BuiltBinary.run(
            ["sync", "2024-01", "failed-copy", "--archive", "s3://\(bucket)/svc"], in: folder.path, environment: Self.environment(proxy))
        #expect(failedSync.status != 0)
        #expect(failedSync.stderr.contains("attempts"), "\(failedSync.stderr)")
        #expect(folder.files(under: "failed-copy").filter { !$0.hasPrefix(".") }.isEmpty)
        let allCut = try await proxy.stats()
        #expect(allCut.mostAttempts == RetryPolicy.standard.maxAttempts, "\(allCut.byInvocation)")
        #expect(allCut.byInvocation.allSatisfy { $0.attempts == RetryPolicy.standard.maxAttempts })

        // A third of the answers cut short or reset: sync retries and, run again if it gave up, completes byte-exact.
        try await proxy.setFaults(["truncate": 0.25, "reset": 0.05])
        var finished = false
        for _ in 0..<4 where !finished {
            let sync = try await BuiltBinary.run(
                ["sync", "2024-01", "copy", "--archive", "s3://\(bucket)/svc", "--json"], in: folder.path, environment: Self.environment(proxy))
            expectNoCorruptFile("copy")
            finished = sync.status == 0
            if !finished { #expect(sync.stderr.contains("attempts"), "\(sync.stderr)") }
        }
        #expect(finished)
        #expect(folder.files(under: "copy").filter { !$0.hasPrefix(".") }.sorted() == original.keys.sorted())
        let restored = try await BuiltBinary.run(
            ["restore", key, "--archive", "s3://\(bucket)/svc", "--to", "-"], in: folder.path, environment: Self.environment(proxy))
        if restored.status == 0 {
            let record = try JSONSerialization.jsonObject(with: Data(try gunzip(try #require(original[key])))) as? [String: Any]
            let image = (record?["dynamodb"] as? [String: Any])?["OldImage"] as? [String: Any]
            let printed = try JSONSerialization.jsonObject(with: Data(restored.stdout.utf8)) as? [String: Any]
            #expect(NSDictionary(dictionary: printed ?? [:]).isEqual(to: image ?? ["x": 1]))
        } else {
            #expect(restored.stdout.isEmpty)
        }
        let stats = try await proxy.stats()
        #expect(stats.faults["truncate", default: 0] > 0)
        #expect(stats.mostAttempts <= RetryPolicy.standard.maxAttempts)
        print("fault-proxy sync and restore: \(original.count) objects, \(stats.requests) requests, faults \(stats.faults), \(stats.retries) retries")
    }
}
