import ArchiverCore
import Foundation
import GRDB
import JSONToolkit
import Testing
import TestSupport

@Suite("Rules in the pipeline: actions enqueued with the checkpoint, for archived deletions only")
struct PipelineRulesTests {
    static let configuration = """
        roots:
          files: /srv/files
        rules:
          - name: item-files
            match: {table: "*"}
            actions:
              - delete-object: {root: files, key: "items/{Keys.SK.S|strip-prefix:ITEM#}"}
        """

    static func actions(_ text: String = configuration) throws -> DeletionActions {
        let configuration = try ArchiverConfiguration.parse(text, file: "rules.yml")
        return DeletionActions(rules: RuleSet(rules: configuration.rules, roots: configuration.roots), queue: configuration.queue)
    }

    struct Setup {
        let folder = TemporaryFolder("pipeline-rules")
        let counts: SampleFeed.Counts
        let checkpoints: CheckpointStore
        let queue: QueueStore

        init(records: Int = 2000) throws {
            counts = try SampleFeed.write(0..<records, to: folder("feed.jsonl"))
            checkpoints = try CheckpointStore(stateFolder: folder("state"))
            queue = QueueStore(checkpoints: checkpoints)
        }

        var source: JSONLinesSource { JSONLinesSource(path: folder("feed.jsonl"), chunkSize: 64 * 1024) }

        func run(store: (any ArchiveStore)? = nil, actions: DeletionActions?) async throws -> TailSummary {
            let pipeline = ArchivePipeline(
                source: source, store: try store ?? LocalArchiveStore(path: folder("archive"), access: .create), checkpoints: checkpoints,
                deadLetters: try DeadLetterFolder(stateFolder: folder("state")), options: TailOptions(maximumBackoff: 0.01), actions: actions)
            return try await pipeline.run(stop: StopSignal())
        }
    }

    /// Sample line `index`'s archived name is needed to recompute ids: read the entries' archive keys back from the archive.
    @Test func everyArchivedDeletionGetsItsEntriesAndNothingElseDoes() async throws {
        let setup = try Setup()
        defer { setup.folder.remove() }
        let summary = try await setup.run(actions: try Self.actions())
        let entries = try setup.queue.list(QueueFilter())
        #expect(summary.actionsEnqueued == setup.counts.removes)
        #expect(entries.count == setup.counts.removes, "one entry per archived REMOVE; none for inserts, modifies or dead letters")
        let archived = Set(setup.folder.files(under: "archive"))
        #expect(Set(entries.map(\.archiveKey)) == archived)
        for entry in entries {
            #expect(entry.id == PlannedEntry.id(source: setup.source.id, archiveKey: entry.archiveKey, rule: "item-files", actionIndex: 0))
        }
        // SK values holding "../x" fill an unsafe key: those entries are parked with a reason naming rule, action and record.
        let parked = entries.filter { $0.state == .parked }
        #expect(!parked.isEmpty && parked.count < entries.count)
        for entry in parked {
            #expect(entry.lastErrorCode == "unsafe-target")
            let reason = entry.lastError ?? ""
            #expect(reason.contains("rule 'item-files', action 1 (delete-object") && reason.contains(entry.archiveKey) && reason.contains("'..' segment"))
        }
        #expect(entries.filter { $0.state == .available }.allSatisfy { $0.deletionTarget?.path.hasPrefix("items/") == true })
    }

    @Test func recordsWhoseObjectTheStoreRefusedGetNoEntries() async throws {
        let setup = try Setup(records: 600)
        defer { setup.folder.remove() }
        let store = FlakyStore(try LocalArchiveStore(path: setup.folder("archive"), access: .create))
        store.rejectKeysContaining = "USER#16_"
        let summary = try await setup.run(store: store, actions: try Self.actions())
        let entries = try setup.queue.list(QueueFilter())
        #expect(summary.archived < setup.counts.removes)
        #expect(entries.count == summary.archived)
        #expect(!entries.contains { $0.archiveKey.contains("USER#16_") })
    }

    @Test func aReplayedBatchInsertsNothingNewAndResetsNothing() async throws {
        let setup = try Setup(records: 800)
        defer { setup.folder.remove() }
        _ = try await setup.run(actions: try Self.actions())
        let first = try setup.queue.list(QueueFilter())
        let claimed = try setup.queue.claim(limit: 10, owner: "w", leaseUntil: Date().addingTimeInterval(60))
        _ = try setup.queue.finish(claimed.map { ($0, .completed(.object([]))) }, owner: "w", now: Date(), backoff: Backoff(base: 1, maximum: 1))
        // As after a crash before the checkpoint: the feed is read again from the start.
        try await DatabaseQueue(path: setup.checkpoints.path).write { try $0.execute(sql: "DELETE FROM checkpoints") }
        let again = try await setup.run(actions: try Self.actions())
        #expect(again.archived > 0)
        let second = try setup.queue.list(QueueFilter())
        #expect(second.map(\.id) == first.map(\.id))
        #expect(try setup.queue.stats().counts[.completed] == 10)
    }

    @Test func withoutRulesNothingIsQueued() async throws {
        let setup = try Setup(records: 300)
        defer { setup.folder.remove() }
        let summary = try await setup.run(actions: nil)
        #expect(summary.actionsEnqueued == nil && summary.archived == setup.counts.removes)
        #expect(try setup.queue.stats().total == 0)
        #expect(!summary.text.contains("actions queued"))
    }

    @Test func rulesMatchTheRecordsTableKindAndConditions() async throws {
        let folder = TemporaryFolder("rules-tables")
        defer { folder.remove() }
        func record(_ n: Int, table: String?, ttl: Bool = false, status: String = "uploaded") -> String {
            let arn = table.map { #","eventSourceARN":"arn:aws:dynamodb:us-east-1:1:table/\#($0)/stream/2024""# } ?? ""
            let identity = ttl ? #","userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"}"# : ""
            return #"{"eventName":"REMOVE"\#(identity),"dynamodb":{"ApproximateCreationDateTime":\#(1_705_315_800 + n),"Keys":{"PK":{"S":"U\#(n)"}},"OldImage":{"PK":{"S":"U\#(n)"},"key":{"S":"k/\#(n)"},"status":{"S":"\#(status)"}},"SequenceNumber":"\#(100 + n)"}\#(arn)}"#
        }
        let lines = [
            record(1, table: "uploads"), record(2, table: "other"), record(3, table: nil), record(4, table: "uploads", ttl: true),
            record(5, table: "uploads", status: "draft"), #"{"eventSourceARN":"arn:aws:dynamodb:r:1:table/uploads/stream/x","eventSourceARN":"arn:aws:dynamodb:r:1:table/other/stream/x","eventName":"REMOVE","dynamodb":{"ApproximateCreationDateTime":1705315806,"Keys":{"PK":{"S":"U6"}},"OldImage":{"key":{"S":"k/6"},"status":{"S":"uploaded"}},"SequenceNumber":"106"}}"#,
        ]
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: folder("feed.jsonl")))
        let actions = try Self.actions("""
            roots: {files: /srv/files}
            rules:
              - name: uploads-manual
                match: {table: uploads, kind: manual, where: ["OldImage.status.S == uploaded"]}
                actions: [{delete-object: {root: files, key: "{OldImage.key.S}"}}]
            """)
        let checkpoints = try CheckpointStore(stateFolder: folder("state"))
        /// A source whose records without an ARN are of table `uploads` (as a DynamoDB stream's are of its table).
        struct UploadsSource: ChangeSource {
            let inner: JSONLinesSource
            var id: String { inner.id }
            var table: String? { "uploads" }
            func batches(after checkpoints: [String: String], follow: Bool, stop: StopSignal) -> AsyncThrowingStream<SourceBatch, any Error> {
                inner.batches(after: checkpoints, follow: follow, stop: stop)
            }
        }
        let pipeline = ArchivePipeline(
            source: UploadsSource(inner: JSONLinesSource(path: folder("feed.jsonl"))), store: try LocalArchiveStore(path: folder("archive"), access: .create),
            checkpoints: checkpoints, deadLetters: try DeadLetterFolder(stateFolder: folder("state")), options: TailOptions(), actions: actions)
        let summary = try await pipeline.run(stop: StopSignal())
        #expect(summary.archived == 6)
        let targets = try QueueStore(checkpoints: checkpoints).list(QueueFilter()).compactMap { $0.deletionTarget?.path }.sorted()
        // 1: uploads, manual, uploaded. 3: no ARN, so the source's table. Not 2 (other table), 4 (TTL), 5 (draft), 6 (two ARNs: unknown table).
        #expect(targets == ["k/1", "k/3"])
    }

    @Test func tablesAreReadFromTheRawARN() throws {
        func table(_ raw: String, wildcard: Bool) throws -> RuleSet.ARNTable {
            var text = "roots: {files: /srv/files}\nrules:\n  - {name: a, match: {table: uploads}, actions: [{delete-object: {root: files, key: \"{OldImage.k.S}\"}}]}\n"
            if wildcard { text += "  - {name: b, match: {table: \"*\"}, actions: [{delete-object: {root: files, key: \"{OldImage.k.S}\"}}]}\n" }
            let rules = try Self.actions(text).rules
            return Array(raw.utf8).withUnsafeBytes { rules.table(inRawARN: $0) }
        }
        #expect(try table(#""arn:aws:dynamodb:r:1:table/uploads/stream/x""#, wildcard: false) == .table("uploads"))
        #expect(try table(#""arn:aws:dynamodb:r:1:table/uploads2/stream/x""#, wildcard: false) == .noRule)
        #expect(try table(#""arn:aws:dynamodb:r:1:table/upload/stream/x""#, wildcard: false) == .noRule)
        #expect(try table(#""arn:archiver:sqlite:local::table/uploads""#, wildcard: false) == .table("uploads"))
        #expect(try table(#""arn:aws:dynamodb:r:1:table\/uploads\/stream\/x""#, wildcard: false) == .table("uploads"), "an escaped ARN is decoded")
        #expect(try table(#""arn:aws:dynamodb:r:1:table/other/stream/x""#, wildcard: true) == .table("other"))
        #expect(try table(#""not an arn""#, wildcard: true) == .table(nil))
        #expect(try table(#""not an arn""#, wildcard: false) == .noRule)
    }

    @Test func theCommitIsAllOrNothing() throws {
        let folder = TemporaryFolder("commit")
        defer { folder.remove() }
        let checkpoints = try CheckpointStore(stateFolder: folder("state"))
        struct Failing: CommitWrite {
            func write(_ db: Database, at date: Date) throws { throw StateError.unusable("this write fails") }
        }
        let entries = QueueFixture.planned(5)
        #expect(throws: StateError.self) {
            try checkpoints.commit(BatchCommit(source: "s", partition: "", position: "9", at: Date(), writes: [QueueEnqueue(entries: entries, maxAttempts: 3), Failing()]))
        }
        #expect(try checkpoints.checkpoints(source: "s").isEmpty)
        #expect(try QueueStore(checkpoints: checkpoints).stats().total == 0)
        try checkpoints.commit(BatchCommit(source: "s", partition: "", position: "9", at: Date(), writes: [QueueEnqueue(entries: entries, maxAttempts: 3)]))
        #expect(try checkpoints.checkpoints(source: "s") == ["": "9"])
        #expect(try QueueStore(checkpoints: checkpoints).stats().total == 5)
    }
}
