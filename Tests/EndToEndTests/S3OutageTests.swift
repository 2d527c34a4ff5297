import AWSClients
import ArchiverCore
import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// S3 goes away in the middle of a following tail (the fault proxy refuses every connection) while the feed
/// keeps growing: the tail waits, says so, holds memory bounded, never moves the checkpoint past an unwritten
/// record, and catches up once S3 is back. 12 s down by default; `ARCHIVER_FAULT_OUTAGE_SECONDS=60` for a soak.
@Suite("archiver during an S3 outage", .serialized)
struct S3OutageTests {
    /// Lines written while S3 is down: large INSERTs (so that reading everything would show in memory) and
    /// every 40th line a deletion.
    struct BigFeed {
        var text = ""
        var lineEnds: [Int64] = []
        var removes: [(line: Int, sequence: String)] = []

        init(lines: Int, base: Int64) {
            let padding = String(repeating: "x", count: 8_000)
            var offset = base
            for i in 0..<lines {
                let sequence = "2000000" + String(100_000_000_000_000 + i)
                let time = 1_706_745_600 + i * 11
                let keys = "{\"PK\":{\"S\":\"BIG#\(i)\"},\"SK\":{\"S\":\"V\"}}"
                let line: String
                if i % 40 == 39 {
                    removes.append((lineEnds.count, sequence))
                    line = "{\"eventID\":\"b\(i)\",\"eventName\":\"REMOVE\",\"dynamodb\":{\"ApproximateCreationDateTime\":\(time),\"Keys\":\(keys),\"OldImage\":{\"PK\":{\"S\":\"BIG#\(i)\"},\"SK\":{\"S\":\"V\"},\"n\":{\"N\":\"\(i)\"}},\"SequenceNumber\":\"\(sequence)\",\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"}}"
                } else {
                    line = "{\"eventID\":\"b\(i)\",\"eventName\":\"INSERT\",\"dynamodb\":{\"ApproximateCreationDateTime\":\(time),\"Keys\":\(keys),\"NewImage\":{\"PK\":{\"S\":\"BIG#\(i)\"},\"SK\":{\"S\":\"V\"},\"pad\":{\"S\":\"\(padding)\"}},\"SequenceNumber\":\"\(sequence)\",\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"}}"
                }
                text += line + "\n"
                offset += Int64(line.utf8.count + 1)
                lineEnds.append(offset)
            }
        }

        /// Deletions that end at or before `offset` with no object among `keys`.
        func missing(before offset: Int64, keys: [String]) -> [String] {
            let present = Set(keys.compactMap(SampleFeedIndex.sequence(inKey:)))
            return removes.filter { lineEnds[$0.line] <= offset && !present.contains($0.sequence) }.map(\.sequence)
        }
    }

    static func keys(_ s3: S3Client, _ bucket: String) async throws -> [String] {
        var keys: [String] = []
        for try await object in s3.listAllObjects(bucket: bucket, prefix: "svc/") { keys.append(object.key) }
        return keys
    }

    /// Waits until the tail's checkpoint reaches `offset`; false on timeout or when the tail ended.
    static func waitForCheckpoint(_ state: String, _ offset: Int64, tail: BuiltBinary.Running, seconds: Double) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline && tail.process.isRunning {
            if StateInspection.jsonLinesOffset(state) >= offset { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return StateInspection.jsonLinesOffset(state) >= offset
    }

    @Test func aTailWaitsOutAnOutageWithBoundedMemoryAndCatchesUp() async throws {
        let server = try await MotoServer.shared()
        let s3 = S3Client(settings: server.settings(), retryPolicy: RetryPolicy(maxAttempts: 2))
        let bucket = MotoServer.uniqueName("outage")
        try await s3.createBucket(bucket)
        let folder = TemporaryFolder("outage")
        defer { folder.remove() }
        let feed = folder("feed.jsonl")
        let first = 400
        let counts = try SampleFeed.write(0..<first, to: feed)
        let firstIndex = SampleFeedIndex(0..<first)
        let firstSize = firstIndex.lineEnds.last!
        let outage = FaultSoak.outageSeconds(ci: 12)
        let proxy = try FaultProxy(frontOf: server)
        defer { proxy.stop() }
        var environment = proxy.awsEnvironment()
        environment["ARCHIVER_HTTP_TIMEOUT"] = "2"

        let tail = try BuiltBinary.start(
            ["tail", "--source", "jsonl:feed.jsonl", "--archive", "s3://\(bucket)/svc", "--state", "state"], in: folder.path, environment: environment)
        defer { if tail.process.isRunning { tail.signal(SIGKILL) } }
        #expect(try await Self.waitForCheckpoint(folder("state"), firstSize, tail: tail, seconds: 60), "the tail did not take the first records")
        let before = StateInspection.residentBytes(pid: tail.pid) ?? 0

        // S3 goes down; meanwhile ~100 MB of records arrive. The clock starts before the proxy is told, so the window
        // the test counts as down never outlasts the proxy's own (a loaded machine can take seconds to tell it).
        let downAt = Date()
        try await proxy.goDown(seconds: outage)
        let big = BigFeed(lines: 12_000, base: firstSize)
        let handle = try #require(FileHandle(forWritingAtPath: feed))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(big.text.utf8))
        try handle.close()
        let total = big.lineEnds.last!

        var peak = before
        var checks = 0
        // The last checkpoint read while S3 was certainly still down (a pass of this loop can take seconds on a
        // loaded machine, so a reading counts only when it ended before the outage did).
        var offsetWhileDown: Int64 = 0
        while Date().timeIntervalSince(downAt) < outage - 0.5 {
            #expect(tail.process.isRunning, "the tail gave up while S3 was down")
            peak = max(peak, StateInspection.residentBytes(pid: tail.pid) ?? 0)
            let offset = StateInspection.jsonLinesOffset(folder("state"))
            if Date().timeIntervalSince(downAt) < outage { offsetWhileDown = offset }
            let keys = try await Self.keys(s3, bucket)
            #expect(firstIndex.missing(before: offset, keys: keys).isEmpty)
            #expect(big.missing(before: offset, keys: keys).isEmpty, "the checkpoint (byte \(offset)) passed records without objects")
            checks += 1
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(offsetWhileDown < total, "the checkpoint reached the end while S3 was down")

        // S3 is back: the tail catches up without help.
        let caughtUp = try await Self.waitForCheckpoint(folder("state"), total, tail: tail, seconds: outage + 120)
        let catchUp = Date().timeIntervalSince(downAt) - outage
        #expect(caughtUp, "the tail did not catch up after S3 came back")
        tail.signal(SIGTERM)
        let result = await tail.finish()
        #expect(result.status == 0, "\(result.stderr.suffix(3000))")
        let waiting = result.stderr.split(separator: "\n").filter { $0.contains("the archive store is unavailable; waiting") }
        #expect(!waiting.isEmpty, "no line said the tail was waiting: \(result.stderr.suffix(2000))")
        #expect(waiting.contains { $0.contains("s3://\(bucket)/svc/") && $0.contains("retry.delay") }, "\(waiting.first ?? "")")

        let keys = try await Self.keys(s3, bucket)
        #expect(keys.count == counts.removes + big.removes.count)
        #expect(big.missing(before: .max, keys: keys).isEmpty)
        #expect(firstIndex.missing(before: .max, keys: keys).isEmpty)
        // Memory stays bounded by the read-ahead, not by what arrived while S3 was down.
        let growth = peak - before
        #expect(growth < 64 << 20, "memory grew by \(growth >> 20) MB while S3 was down (\(big.text.utf8.count >> 20) MB arrived)")
        print(
            "S3 outage: \(Int(outage)) s down, \(big.text.utf8.count >> 20) MB arrived meanwhile, memory \(before >> 20) → peak \(peak >> 20) MB, "
                + "\(waiting.count) waiting lines, caught up \(String(format: "%.1f", catchUp)) s after S3 came back, \(checks) checkpoint checks")
    }
}
