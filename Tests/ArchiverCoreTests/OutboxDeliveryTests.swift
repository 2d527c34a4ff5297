import ArchiverCore
import Foundation
import GRDB
import JSONToolkit
import Testing
import TestSupport

/// Delivery of the outbox: at least once, in order, with each target's own cursor and failures handled per target.
@Suite("Outbox delivery: JSON-lines file, retries, parked events, disabled targets")
struct OutboxDeliveryTests {
    struct Setup {
        let folder = TemporaryFolder("outbox")
        let checkpoints: CheckpointStore
        let clock = FixedClock(Date(timeIntervalSince1970: 1_800_000_000))

        init(events: Int) throws {
            checkpoints = try CheckpointStore(stateFolder: folder("state"))
            let now = clock.now()
            try DatabaseQueue(path: checkpoints.path).write { db in
                for n in 0..<events {
                    try Outbox.append(db, CloudEvent(
                        id: CloudEvent.id(subject: "c\(n)", type: "deletion.requested"), source: "archiver://test", type: "deletion.requested",
                        subject: "c\(n)", time: "2024-01-15T10:30:00Z", data: .object([("n", .integer(n))])), at: now)
                }
            }
        }

        func delivery(_ targets: [any EventTarget], batchSize: Int = 100) -> OutboxDelivery {
            var settings = EventsConfiguration()
            settings.batchSize = batchSize
            return OutboxDelivery(checkpoints: checkpoints, targets: targets, settings: settings, clock: clock, random: FixedRandom(value: 0.5))
        }
    }

    /// A target in front of a JSON-lines file that answers as told.
    final class ScriptedTarget: EventTarget, @unchecked Sendable {
        let name = "scripted"
        let lock = NSLock()
        var answers: [([OutboxEvent]) -> DeliveryResult] = []
        var received: [String] = []

        func deliver(_ events: [OutboxEvent]) async -> DeliveryResult {
            lock.withLock {
                let answer = answers.isEmpty ? { DeliveryResult(delivered: $0.count) } : answers.removeFirst()
                let result = answer(events)
                received += events.prefix(result.delivered).map(\.id)
                return result
            }
        }
    }

    @Test func theJSONLinesFileGetsEveryEventOnceInOrderAndAnotherPassAddsNothing() async throws {
        let setup = try Setup(events: 250)
        defer { setup.folder.remove() }
        let file = setup.folder("events.jsonl")
        let delivery = setup.delivery([JSONLinesEventTarget(path: file)], batchSize: 100)
        #expect(try await delivery.run().delivered == 250)
        #expect(try await delivery.run().delivered == 0)
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 250)
        let ids = try lines.map { try #require(try JSONValue.parse(String($0))["id"]?.stringValue) }
        #expect(ids == (0..<250).map { CloudEvent.id(subject: "c\($0)", type: "deletion.requested") })
        let state = try #require(try delivery.states().first)
        #expect(state.delivered == 250 && state.pending == 0)
    }

    @Test func aRetryableFailureWaitsItsBackoffAndDeliversTheSameEventAgain() async throws {
        let setup = try Setup(events: 5)
        defer { setup.folder.remove() }
        let target = ScriptedTarget()
        target.answers = [{ _ in DeliveryResult(delivered: 2, failure: .retry("HTTP 503")) }]
        let delivery = setup.delivery([target])
        let first = try await delivery.run()
        #expect(first.delivered == 2 && first.failures == 1)
        #expect(try delivery.states()[0].lastError == "HTTP 503")
        // Within its backoff nothing is tried.
        #expect(try await delivery.run().delivered == 0)
        setup.clock.set(setup.clock.now().addingTimeInterval(10))
        #expect(try await delivery.run().delivered == 3)
        #expect(target.received == (0..<5).map { CloudEvent.id(subject: "c\($0)", type: "deletion.requested") })
        #expect(try delivery.states()[0].lastError == nil)
    }

    @Test func aRefusedEventIsParkedAndDeliveryGoesOnAndAGoneTargetIsDisabled() async throws {
        let setup = try Setup(events: 4)
        defer { setup.folder.remove() }
        let target = ScriptedTarget()
        target.answers = [{ _ in DeliveryResult(delivered: 1, failure: .park("HTTP 400: bad body")) }]
        let delivery = setup.delivery([target])
        let summary = try await delivery.run()
        #expect(summary.parked == 1 && summary.delivered == 3)
        #expect(try delivery.states()[0].parked == 1 && delivery.states()[0].pending == 0)

        let gone = try Setup(events: 3)
        defer { gone.folder.remove() }
        let disabled = ScriptedTarget()
        disabled.answers = [{ _ in DeliveryResult(delivered: 0, failure: .disable("HTTP 410 Gone")) }]
        let other = JSONLinesEventTarget(path: gone.folder("events.jsonl"))
        let both = gone.delivery([disabled, other])
        #expect(try await both.run().delivered == 3, "the other target is not held back")
        gone.clock.set(gone.clock.now().addingTimeInterval(3600))
        #expect(try await both.run().delivered == 0)
        #expect(try both.states()[0].disabled == "HTTP 410 Gone" && both.states()[0].pending == 3)
    }
}
