import ArchiverCore
import Foundation
import Logging
import ServiceLifecycle
import Testing
import TestSupport

@testable import ArchiverServe

@Suite("Serve: tails under a ServiceGroup")
struct TailSupervisionTests {
    struct NotThereYet: Error, CustomStringConvertible {
        var description: String { "the feed is not there yet" }
    }

    @Test("a tail that fails is reported and restarted with backoff while the other archives; a graceful stop saves both checkpoints")
    func failingTailIsRestarted() async throws {
        let folder = TemporaryFolder("supervision")
        defer { folder.remove() }
        let live = folder("live.jsonl"), late = folder("late.jsonl")
        let liveCounts = try SampleFeed.write(0..<400, to: live)
        _ = try SampleFeed.write(1000..<1100, to: late)
        let attempts = Attempts()
        let sources = [
            ServeSource(name: "jsonl:" + live) { JSONLinesSource(path: live) },
            ServeSource(name: "jsonl:" + late) {
                guard attempts.next() > 3 else { throw NotThereYet() }
                return JSONLinesSource(path: late)
            },
        ]
        let bed = try await ServeTestbed(records: 5, sources: sources)
        let group = ServiceGroup(services: bed.context.tails, logger: Logger(label: "supervision-test"))
        let running = Task { try await group.run() }
        // A bound for a machine under load only: the loop ends as soon as both have read everything.
        let deadline = Date().addingTimeInterval(180)
        var snapshots = await bed.context.tailSnapshots()
        while Date() < deadline {
            snapshots = await bed.context.tailSnapshots()
            if snapshots[0].totals.read == liveCounts.total && snapshots[1].totals.read == 100 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(snapshots[0].totals.read == liveCounts.total)
        #expect(snapshots[0].restarts == 0)
        #expect(snapshots[1].restarts == 3)
        #expect(snapshots[1].lastError == "the feed is not there yet")
        #expect(snapshots[1].totals.read == 100)
        #expect(snapshots.allSatisfy { $0.state == .running })
        await group.triggerGracefulShutdown()
        try await running.value
        let stopped = await bed.context.tailSnapshots()
        #expect(stopped.allSatisfy { $0.state == .stopped })
        let checkpoints = bed.context.checkpoints
        #expect(try !checkpoints.checkpoints(source: "jsonl:" + live).isEmpty)
        #expect(try !checkpoints.checkpoints(source: "jsonl:" + late).isEmpty)
        #expect(stopped[0].position?.contains("next line 401") == true)
    }

    @Test("the restart backoff doubles from its base up to its maximum, never zero")
    func backoff() {
        let backoff = RestartBackoff(base: 1, maximum: 10)
        #expect(backoff.delay(afterFailures: 1, random: 0) == 0.5)
        #expect(backoff.delay(afterFailures: 1, random: 1) == 1)
        #expect(backoff.delay(afterFailures: 3, random: 1) == 4)
        #expect(backoff.delay(afterFailures: 10, random: 1) == 10)
        #expect(backoff.delay(afterFailures: 60, random: 0) == 5)
    }
}

private final class Attempts: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func next() -> Int { lock.withLock { count += 1; return count } }
}
