import ArchiverCore
import Foundation
import GRDB
import JSONToolkit
import Testing
import TestSupport

/// Coordinated deletion in the core: the coordination and its event written with the checkpoint, actions held until
/// the consumers answer, timeouts decided by an injected clock.
@Suite("Coordination: held actions, acks, heartbeats, timeouts, completion")
struct CoordinationTests {
    static let configuration = """
        roots:
          files: /srv/files
        rules:
          - name: upload-files
            match: {table: uploads}
            actions:
              - delete-object: {root: files, key: "items/{OldImage.key.S}"}
              - delete-prefix: {root: files, prefix: "users/{Keys.PK.S}/"}
            coordinate:
              consumers:
                - {name: analytics}
                - {name: billing, critical: true, timeout: 30m}
              timeout: 5m
              heartbeat-cap: 1h
        events:
          source: archiver://test
        """

    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    static func record(_ n: Int, table: String = "uploads") -> String {
        #"{"eventName":"REMOVE","eventSourceARN":"arn:aws:dynamodb:us-east-1:1:table/\#(table)/stream/2024","dynamodb":{"ApproximateCreationDateTime":\#(1_705_315_800 + n),"Keys":{"PK":{"S":"U\#(n)"}},"OldImage":{"PK":{"S":"U\#(n)"},"key":{"S":"k\#(n)"},"secret":{"S":"do-not-publish-\#(n)"}},"SequenceNumber":"\#(100 + n)"}}"#
    }

    struct Setup {
        let folder = TemporaryFolder("coordination")
        let checkpoints: CheckpointStore
        let queue: QueueStore
        let store: CoordinationStore
        let clock = FixedClock(CoordinationTests.start)
        let configuration: ArchiverConfiguration

        init(records: [String], configuration text: String = CoordinationTests.configuration) throws {
            configuration = try ArchiverConfiguration.parse(text, file: "c.yml")
            try Data((records.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: folder("feed.jsonl")))
            checkpoints = try CheckpointStore(stateFolder: folder("state"))
            queue = QueueStore(checkpoints: checkpoints)
            store = CoordinationStore(checkpoints: checkpoints, eventSource: configuration.events.source)
        }

        func tail() async throws -> TailSummary {
            let actions = DeletionActions(
                rules: RuleSet(rules: configuration.rules, roots: configuration.roots, eventSource: configuration.events.source), queue: configuration.queue)
            let pipeline = ArchivePipeline(
                source: JSONLinesSource(path: folder("feed.jsonl")), store: try LocalArchiveStore(path: folder("archive"), access: .create),
                checkpoints: checkpoints, deadLetters: try DeadLetterFolder(stateFolder: folder("state")), options: TailOptions(maximumBackoff: 0.01),
                clock: clock, actions: actions)
            return try await pipeline.run(stop: StopSignal())
        }

        func events() throws -> [OutboxEvent] { try store.outbox() }

        func entries(of id: String) throws -> [QueueEntry] {
            try queue.list(QueueFilter()).filter { $0.hold == id }
        }

        func advance(_ seconds: Double) { clock.set(clock.now().addingTimeInterval(seconds)) }
    }

    @Test func configurationReadsConsumersWithDefaultsAndRefusesMistakes() throws {
        let configuration = try ArchiverConfiguration.parse(Self.configuration, file: "c.yml")
        let policy = try #require(configuration.rules.rules[0].coordinate)
        #expect(policy.consumers.map(\.name) == ["analytics", "billing"])
        #expect(policy["analytics"]?.critical == false && policy["analytics"]?.timeout.seconds == 300 && policy["analytics"]?.onTimeout == .proceed)
        #expect(policy["billing"]?.critical == true && policy["billing"]?.timeout.seconds == 1800 && policy["billing"]?.onTimeout == .park)
        #expect(policy.heartbeatCap.seconds == 3600)
        let described = configuration.described.serialized
        #expect(described.contains(#""heartbeat-cap":"1h""#) && described.contains(#""source":"archiver://test""#))

        func refused(_ coordinate: String, _ fragment: String) {
            let text = Self.configuration.replacingOccurrences(of: """
                    coordinate:
                      consumers:
                        - {name: analytics}
                        - {name: billing, critical: true, timeout: 30m}
                      timeout: 5m
                      heartbeat-cap: 1h
                """, with: coordinate)
            #expect(throws: ConfigurationError.self) { try ArchiverConfiguration.parse(text, file: "c.yml") }
            do { _ = try ArchiverConfiguration.parse(text, file: "c.yml") } catch { #expect("\(error)".contains(fragment), "\(error)") }
        }
        refused("    coordinate:\n      consumers: []\n", "at least one consumer")
        refused("    coordinate:\n      consumers:\n        - {name: a, critcal: true}\n", "critcal")
        refused("    coordinate:\n      consumers: [a, a]\n", "given twice")
        refused("    coordinate:\n      consumers:\n        - {name: a, timeout: 2h}\n      heartbeat-cap: 1h\n", "heartbeat-cap")
        refused("    coordinate:\n      consumers: [a]\n      timeout: 2h\n      heartbeat-cap: 1h\n", "shorter than the timeout")
        refused("    coordinate:\n      consumer: [a]\n", "consumers")
        #expect(throws: ConfigurationError.self) {
            try ArchiverConfiguration.parse(Self.configuration.replacingOccurrences(of: "archiver://test", with: "aws.archiver"), file: "c.yml")
        }
    }

    /// Ids are stable (the same record, rule and source give the same id) and sort by the deletion's time, so the
    /// tables keyed by them grow at their ends.
    @Test func coordinationIdsAreStableAndSortByDeletionTime() {
        let first = PlannedCoordination.id(source: "s", archiveKey: "k-b", rule: "r", deletedAt: 1_705_315_800)
        #expect(first == PlannedCoordination.id(source: "s", archiveKey: "k-b", rule: "r", deletedAt: 1_705_315_800))
        #expect(first.count == 64 && first.allSatisfy(\.isHexDigit))
        #expect(first != PlannedCoordination.id(source: "s", archiveKey: "k-b", rule: "other", deletedAt: 1_705_315_800))
        let later = (1...50).map { PlannedCoordination.id(source: "s", archiveKey: "k-\($0)", rule: "r", deletedAt: 1_705_315_800 + Int64($0)) }
        #expect(([first] + later).sorted() == [first] + later)
        #expect(PlannedCoordination.id(source: "s", archiveKey: "k", rule: "r", deletedAt: nil).hasPrefix("0000000000"))
    }

    /// An outbox written before event ids lost their UNIQUE constraint keeps its events and their order, and an event
    /// appended again with an id it holds is still not added twice.
    @Test func anOutboxFromBeforeTheMigrationKeepsItsEventsAndRefusesADuplicateId() throws {
        let folder = TemporaryFolder("outbox-migration")
        defer { folder.remove() }
        let path = try CheckpointStore(stateFolder: folder("state")).path
        let old = try DatabaseQueue(path: path)
        try old.write { db in
            try db.execute(sql: """
                DROP TABLE outbox_events;
                CREATE TABLE outbox_events (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL,
                    subject TEXT NOT NULL, time TEXT NOT NULL, envelope TEXT NOT NULL, created_at REAL NOT NULL);
                INSERT INTO outbox_events (seq, id, type, subject, time, envelope, created_at)
                    VALUES (5, 'e5', 'x.one', 's', 't', '{}', 0), (9, 'e9', 'x.two', 's', 't', '{}', 0);
                DELETE FROM grdb_migrations WHERE identifier = 'outbox_event_ids';
                """)
        }
        try old.close()
        let checkpoints = try CheckpointStore(stateFolder: folder("state"))
        let store = CoordinationStore(checkpoints: checkpoints)
        #expect(try store.outbox().map(\.seq) == [5, 9])
        let again = CloudEvent(id: "e9", source: "s", type: "x.two", subject: "s", time: "t", data: .null)
        let fresh = CloudEvent(id: "e10", source: "s", type: "x.two", subject: "s", time: "t", data: .null)
        try Outbox.append([again, fresh, fresh], to: checkpoints, at: Self.start)
        let events = try store.outbox()
        #expect(events.map(\.id) == ["e5", "e9", "e10"])
        #expect((events.last?.seq ?? 0) > 9)
    }

    @Test func aCoordinatedDeletionHoldsItsActionsAndWritesItsEventWithTheCheckpoint() async throws {
        let setup = try Setup(records: (1...3).map { Self.record($0) } + [Self.record(9, table: "other")])
        defer { setup.folder.remove() }
        _ = try await setup.tail()
        let coordinations = try setup.store.list()
        #expect(coordinations.count == 3)
        #expect(coordinations.allSatisfy { $0.state == .waiting && $0.awaited == ["analytics", "billing"] })
        let entries = try setup.queue.list(QueueFilter())
        #expect(entries.count == 6 && entries.allSatisfy { $0.state == .held && $0.hold != nil })
        for coordination in coordinations {
            #expect((1...3).contains { n in
                coordination.id == PlannedCoordination.id(
                    source: JSONLinesSource(path: setup.folder("feed.jsonl")).id, archiveKey: coordination.archiveKey, rule: "upload-files",
                    deletedAt: 1_705_315_800 + Int64(n))
            })
            #expect(coordination.nextDeadline == Self.start.addingTimeInterval(300))
        }
        let events = try setup.events()
        #expect(events.count == 3 && events.allSatisfy { $0.type == "deletion.requested" })
        for event in events {
            let cloud = try #require(event.cloudEvent)
            #expect(cloud.id == CloudEvent.id(subject: cloud.subject, type: "deletion.requested"))
            #expect(cloud.source == "archiver://test")
            let envelope = try JSONValue.parse(event.envelope)
            #expect(envelope["specversion"]?.stringValue == "1.0" && envelope["datacontenttype"]?.stringValue == "application/json")
            // The deletion's own time, not the commit's.
            #expect(cloud.time.hasPrefix("2024-01-15T"))
            #expect(cloud.data["coordination_id"]?.stringValue == cloud.subject)
            if case .object(let members) = cloud.data {
                #expect(members.map(\.0) == ["coordination_id", "rule", "source", "table", "item_key", "deleted_at", "deletion_kind", "archive_key", "consumers", "actions"])
            }
            #expect(cloud.data["rule"]?.stringValue == "upload-files" && cloud.data["deletion_kind"]?.stringValue == "manual")
            #expect(cloud.data["archive_key"]?.stringValue == coordinations.first { $0.id == cloud.subject }?.archiveKey)
            #expect(cloud.data["item_key"]?["PK"]?["S"]?.stringValue?.hasPrefix("U") == true)
            #expect(cloud.data["actions"].map { if case .array(let a) = $0 { a.count } else { 0 } } == 2)
            // The consumers awaited and the actions held, as the rule says them.
            #expect(cloud.data["consumers"]?.serialized == #"[{"name":"analytics","critical":false,"timeout":"5m"},{"name":"billing","critical":true,"timeout":"30m"}]"#)
            let n = cloud.data["item_key"]?["PK"]?["S"]?.stringValue?.dropFirst() ?? ""
            var listed: [JSONValue] = []
            if case .array(let a)? = cloud.data["actions"] { listed = a }
            let held = listed.map { (action: JSONValue) -> String in
                "\(action["action"]?.stringValue ?? "?") \(action["root"]?.stringValue ?? "?") \(action["target"]?.stringValue ?? "?") \(action["will_run"]?.serialized ?? "?")"
            }
            #expect(held == ["delete-object files items/k\(n) true", "delete-prefix files users/U\(n)/ true"])
            #expect(!event.envelope.contains("do-not-publish"), "never the item's attributes")
            // The actions named are the held entries, by id (the envelope is built from the coordination's row).
            var actionIDs: [String] = []
            if case .array(let actions)? = cloud.data["actions"] { actionIDs = actions.compactMap { $0["id"]?.stringValue } }
            #expect(Set(actionIDs) == Set(entries.filter { $0.hold == cloud.subject }.map(\.id)) && actionIDs.count == 2)
        }
        // The outbox rows of deletion.requested hold no envelope: it is built when the outbox is read.
        let stored = try await DatabaseQueue(path: setup.checkpoints.path).read { try Int.fetchAll($0, sql: "SELECT length(envelope) FROM outbox_events") }
        #expect(stored == [0, 0, 0])
        // A replay after a crash before the checkpoint writes nothing new: same coordinations, same event ids.
        try await DatabaseQueue(path: setup.checkpoints.path).write { try $0.execute(sql: "DELETE FROM checkpoints") }
        setup.advance(60)
        _ = try await setup.tail()
        #expect(try setup.events().map(\.id) == events.map(\.id))
        #expect(try setup.events().map(\.envelope) == events.map(\.envelope), "the same bytes on every read")
        #expect(try setup.store.list().count == 3)
    }

    @Test func actionsAreReleasedWhenEveryConsumerAnsweredAndCompletionFollowsTheLastAction() async throws {
        let setup = try Setup(records: [Self.record(1)])
        defer { setup.folder.remove() }
        _ = try await setup.tail()
        let id = try #require(try setup.store.list().first).id
        setup.advance(10)
        #expect(try setup.store.ack(id, consumer: "analytics", now: setup.clock.now()).state == .waiting)
        #expect(try setup.entries(of: id).allSatisfy { $0.state == .held })
        // Idempotent.
        #expect(try setup.store.ack(id, consumer: "analytics", now: setup.clock.now()).outcome == .duplicate)
        let last = try setup.store.ack(id, consumer: "billing", status: .completed, detail: "ledger closed", now: setup.clock.now())
        #expect(last.outcome == .recorded && last.state == .released)
        #expect(try setup.entries(of: id).allSatisfy { $0.state == .available })
        // Not completed while an action waits.
        #expect(try setup.store.tick(now: setup.clock.now()).completed == 0)
        let claimed = try setup.queue.claim(limit: 10, owner: "w", leaseUntil: setup.clock.now().addingTimeInterval(60))
        #expect(claimed.count == 2)
        _ = try setup.queue.finish([(claimed[0], .completed(.object([("deleted", .bool(true))])))], owner: "w", now: setup.clock.now(), backoff: Backoff(base: 1, maximum: 1))
        #expect(try setup.store.tick(now: setup.clock.now()).completed == 0)
        _ = try setup.queue.finish([(claimed[1], .failed(ActionFailure(code: "EACCES", message: "denied", permanent: true)))], owner: "w", now: setup.clock.now(), backoff: Backoff(base: 1, maximum: 1))
        #expect(try setup.store.tick(now: setup.clock.now()).completed == 1)
        #expect(try setup.store.tick(now: setup.clock.now()).completed == 0, "completed once")
        let completed = try setup.events().filter { $0.type == "deletion.completed" }
        #expect(completed.count == 1)
        let data = try #require(completed.first?.cloudEvent?.data)
        #expect(Set(data["actions"].map { if case .array(let a) = $0 { a.compactMap { $0["state"]?.stringValue } } else { [] } } ?? []) == ["completed", "parked"])
        // The whole summary: the deletion, each consumer's answer, each action's outcome or error.
        #expect(data["coordination_id"]?.stringValue == id && data["state"]?.stringValue == "completed" && data["reason"] == .null)
        #expect(data["item_key"]?["PK"] != nil && data["archive_key"]?.stringValue?.isEmpty == false && data["table"] != nil)
        func elements(_ value: JSONValue?) -> [JSONValue] { if case .array(let a)? = value { a } else { [] } }
        let consumers = elements(data["consumers"])
        #expect(consumers.compactMap { $0["name"]?.stringValue } == ["analytics", "billing"])
        #expect(consumers.compactMap { $0["status"]?.stringValue } == ["completed", "completed"])
        #expect(consumers[1]["detail"]?.stringValue == "ledger closed" && consumers[0]["detail"] == .null && consumers[1]["acked_at"]?.stringValue != nil)
        let actions = elements(data["actions"])
        let done = try #require(actions.first { (action: JSONValue) in action["state"]?.stringValue == "completed" })
        #expect(done["outcome"] == JSONValue.object([("deleted", .bool(true))]) && done["error"] == JSONValue.null)
        let parked = try #require(actions.first { (action: JSONValue) in action["state"]?.stringValue == "parked" })
        #expect(parked["error"]?.stringValue == "denied" && parked["outcome"] == JSONValue.null)
        let envelope = try JSONValue.parse(try #require(completed.first?.envelope))
        #expect(envelope["specversion"]?.stringValue == "1.0" && envelope["datacontenttype"]?.stringValue == "application/json")
        #expect(envelope["subject"]?.stringValue == id && envelope["type"]?.stringValue == "deletion.completed")
        #expect(try setup.store.show(id).state == .completed)
        // A late ack is recorded, and changes nothing.
        let late = try setup.store.ack(id, consumer: "analytics", status: .failed, now: setup.clock.now())
        #expect(late.outcome == .late)
        #expect(try setup.store.show(id).consumers[0].lateStatus == "failed")
    }

    @Test func unknownIdsAndUnexpectedConsumersAreRefusedWithTheReason() async throws {
        let setup = try Setup(records: [Self.record(1)])
        defer { setup.folder.remove() }
        _ = try await setup.tail()
        let id = try #require(try setup.store.list().first).id
        do {
            _ = try setup.store.ack("0000", consumer: "analytics", now: setup.clock.now())
            Issue.record("an unknown id was taken")
        } catch let error as CoordinationError {
            #expect(error.isUnknown && error.description.contains("no coordination 0000"))
        }
        do {
            _ = try setup.store.ack(id, consumer: "marketing", now: setup.clock.now())
            Issue.record("an unexpected consumer was taken")
        } catch let error as CoordinationError {
            #expect(error.isUnexpectedConsumer && error.description.contains("'analytics', 'billing'"))
        }
    }

    @Test func anOptionalConsumerThatFailsOrTimesOutDoesNotBlockButACriticalOneParks() async throws {
        let setup = try Setup(records: [Self.record(1), Self.record(2)])
        defer { setup.folder.remove() }
        _ = try await setup.tail()
        let ids = try setup.store.list().map(\.id).sorted()
        // First: analytics fails (optional: logged, does not block), billing completes → released.
        _ = try setup.store.ack(ids[0], consumer: "analytics", status: .failed, detail: "disk full", now: setup.clock.now())
        #expect(try setup.store.ack(ids[0], consumer: "billing", now: setup.clock.now()).state == .released)
        // Second: billing (critical) completes; analytics never answers → at 5 min it times out, with a warning.
        _ = try setup.store.ack(ids[1], consumer: "billing", now: setup.clock.now())
        setup.advance(299)
        #expect(try setup.store.tick(now: setup.clock.now()).released == 0)
        #expect(try setup.entries(of: ids[1]).allSatisfy { $0.state == .held })
        setup.advance(1)
        let tick = try setup.store.tick(now: setup.clock.now())
        #expect(tick.timedOutConsumers == 1 && tick.released == 1)
        let view = try setup.store.show(ids[1])
        #expect(view.state == .timedOut && view.warnings == 1)
        #expect(try setup.entries(of: ids[1]).allSatisfy { $0.state == .available })
    }

    @Test func aCriticalConsumerParksOnFailureAndAtItsOwnLimit() async throws {
        let setup = try Setup(records: [Self.record(1), Self.record(2)])
        defer { setup.folder.remove() }
        _ = try await setup.tail()
        let ids = try setup.store.list().map(\.id).sorted()
        #expect(try setup.store.ack(ids[0], consumer: "billing", status: .failed, detail: "ledger locked", now: setup.clock.now()).state == .parked)
        #expect(try setup.store.show(ids[0]).reason?.contains("'billing' reported failed: ledger locked") == true)
        #expect(try setup.events().contains { $0.type == "deletion.parked" && $0.subject == ids[0] })
        // The other: analytics answers; billing never does. Its own limit is 30 min: held until then, then parked.
        _ = try setup.store.ack(ids[1], consumer: "analytics", now: setup.clock.now())
        setup.advance(1799)
        _ = try setup.store.tick(now: setup.clock.now())
        #expect(try setup.store.show(ids[1]).state == .waiting)
        setup.advance(1)
        #expect(try setup.store.tick(now: setup.clock.now()).parked == 1)
        #expect(try setup.store.show(ids[1]).state == .parked)
        #expect(try setup.entries(of: ids[1]).allSatisfy { $0.state == .held }, "nothing runs for a parked coordination")
        // A person releases it.
        #expect(try setup.store.resolve(ids[1], release: true, now: setup.clock.now()) == .released)
        #expect(try setup.entries(of: ids[1]).allSatisfy { $0.state == .available })
        _ = try setup.store.resolve(ids[0], release: false, now: setup.clock.now())
        #expect(try setup.entries(of: ids[0]).allSatisfy { $0.state == .cancelled })
    }

    @Test func heartbeatsExtendOneConsumersWaitButNeverPastTheCap() async throws {
        let setup = try Setup(records: [Self.record(1)])
        defer { setup.folder.remove() }
        _ = try await setup.tail()
        let id = try #require(try setup.store.list().first).id
        _ = try setup.store.ack(id, consumer: "billing", now: setup.clock.now())
        // Every 4 minutes a heartbeat: analytics is waited for past its 5 minutes, up to the 1 h cap.
        for _ in 0..<14 {
            setup.advance(240)
            let beat = try setup.store.ack(id, consumer: "analytics", heartbeat: true, now: setup.clock.now())
            #expect(beat.outcome == .heartbeat)
            #expect(try #require(beat.deadline) <= Self.start.addingTimeInterval(3600))
            _ = try setup.store.tick(now: setup.clock.now())
            #expect(try setup.store.show(id).state == .waiting)
        }
        // 56 minutes have passed; the last heartbeat gives 5 more, but the cap (1 h) comes first.
        setup.advance(180)
        _ = try setup.store.tick(now: setup.clock.now())
        #expect(try setup.store.show(id).state == .waiting)
        setup.advance(60)
        _ = try setup.store.tick(now: setup.clock.now())
        #expect(try setup.store.show(id).state == .timedOut)
        #expect(try setup.store.ack(id, consumer: "analytics", heartbeat: true, now: setup.clock.now()).outcome == .late)
    }
}
