import ArchiverCore
import Foundation
import GRDB
import JSONToolkit
import Testing
import TestSupport

/// A folder archive tailed with a subject rule, and what erasing one subject does to it.
struct ErasureFixture {
    let folder: TemporaryFolder
    let layout: ArchiveLayout
    let configuration: ArchiverConfiguration
    let key: SubjectKey
    let checkpoints: CheckpointStore
    let erasures: ErasureStore

    static func text(files: String) -> String {
        """
        roots:
          files: \(files)
        rules:
          - name: users
            match: {table: "*"}
            subject: "{Keys.PK.S|strip-prefix:USER#}"
        erasure:
          actions:
            - delete-prefix: {root: files, prefix: "users/{subject}/"}
        """
    }

    init(layout: ArchiveLayout, records: Int = 3000, label: String = "erasure") throws {
        folder = TemporaryFolder(label)
        self.layout = layout
        _ = try SampleFeed.write(0..<records, to: folder("feed.jsonl"))
        try FileManager.default.createDirectory(atPath: folder("files"), withIntermediateDirectories: true)
        configuration = try ArchiverConfiguration.parse(Self.text(files: folder("files")), file: "erasure.yml")
        key = try #require(try configuration.subjectKey(stateFolder: folder("state")))
        checkpoints = try CheckpointStore(stateFolder: folder("state"))
        erasures = ErasureStore(checkpoints: checkpoints)
    }

    var store: LocalArchiveStore { get throws { try LocalArchiveStore(path: folder("archive"), access: .create) } }

    @discardableResult
    func tail(feed: String = "feed.jsonl") async throws -> TailSummary {
        let store = try self.store
        var options = TailOptions(workers: 2, maximumBackoff: 0.01)
        options.layout = try await LayoutManifest.prepare(store, requested: layout)
        options.batching = BatchLimits(maxBytes: 24 * 1024, maxRecords: 40, minBytes: 6 * 1024, window: 3600)
        let actions = DeletionActions(
            rules: RuleSet(rules: configuration.rules, roots: configuration.roots, subjectKey: key), queue: configuration.queue)
        let pipeline = ArchivePipeline(
            source: JSONLinesSource(path: folder(feed), chunkSize: 16 * 1024), store: store, checkpoints: checkpoints,
            deadLetters: try DeadLetterFolder(stateFolder: folder("state")), options: options, actions: actions)
        return try await pipeline.run(stop: StopSignal())
    }

    /// Every archived record's (key, item), as `ls` lists them.
    func listing() async throws -> [ListedDeletion] {
        var all: [ListedDeletion] = []
        for try await page in listDeletions(in: try store, filter: try ListingFilter()) { all += page }
        return all.sorted { $0.key < $1.key }
    }

    func runner(events: any ErasureEventHook = NoErasureEvents()) throws -> ErasureRunner {
        ErasureRunner(
            erasures: erasures, store: try store, executors: [LocalFolderExecutor(archive: nil)], roots: configuration.roots,
            receipts: ReceiptBook(stateFolder: folder("state")), chunk: 7, concurrency: 3, events: events)
    }

    func request(_ subject: String) throws -> ErasureJob {
        let actions = ErasurePlan.actions(for: subject, erasure: configuration.erasure, roots: configuration.roots)
        return try erasures.create(
            subjectHMAC: key.hmac(subject), actions: ErasurePlan.actionsJSON(actions, roots: configuration.roots), notBefore: Date(), at: Date())
    }

    func write(_ relative: String) throws {
        let path = folder("files/" + relative)
        try FileManager.default.createDirectory(atPath: FileSystem.parent(of: path), withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: path))
    }
}

@Suite("Erasure: the subject index written with the checkpoint, and a subject's records and files erased through it")
struct ErasureTests {
    @Test func subjectAndErasureActionsAreReadAndChecked() throws {
        let configuration = try ArchiverConfiguration.parse(ErasureFixture.text(files: "/srv/files"), file: "e.yml")
        #expect(configuration.indexesSubjects)
        #expect(configuration.rules.rules[0].actions.isEmpty && configuration.rules.rules[0].subject?.description == "{Keys.PK.S|strip-prefix:USER#}")
        #expect(configuration.erasure.actions.count == 1)
        // An erasure action reads the subject only; a rule's subject must depend on the record.
        let recordHole = ErasureFixture.text(files: "/srv/files").replacingOccurrences(of: "users/{subject}/", with: "users/{OldImage.userId.S}/")
        #expect(throws: ConfigurationError.self) { try ArchiverConfiguration.parse(recordHole, file: "e.yml") }
        let constant = ErasureFixture.text(files: "/srv/files").replacingOccurrences(of: "{Keys.PK.S|strip-prefix:USER#}", with: "everyone")
        #expect(throws: ConfigurationError.self) { try ArchiverConfiguration.parse(constant, file: "e.yml") }
        let typo = ErasureFixture.text(files: "/srv/files") + "\n  key-flie: x\n"
        #expect(throws: ConfigurationError.self) { try ArchiverConfiguration.parse(typo, file: "e.yml") }
        // When an S3 archive's objects are listed before they are deleted: auto unless told always.
        #expect(configuration.erasure.listObjects == .auto)
        let always = try ArchiverConfiguration.parse(ErasureFixture.text(files: "/srv/files") + "\n  list-objects: always\n", file: "e.yml")
        #expect(always.erasure.listObjects == .always)
        #expect(always.erasure.described(roots: always.roots)["list-objects"] == .string("always"))
        let error = #expect(throws: ConfigurationError.self) {
            try ArchiverConfiguration.parse(ErasureFixture.text(files: "/srv/files") + "\n  list-objects: sometimes\n", file: "e.yml")
        }
        #expect("\(error.map { "\($0)" } ?? "")".contains("'sometimes' is not one of auto, always"))
    }

    @Test func theKeyIsPrivateAndStable() throws {
        let folder = TemporaryFolder("subject-key")
        defer { folder.remove() }
        let first = try SubjectKey(stateFolder: folder("state"), file: nil)
        var info = stat()
        #expect(stat(folder("state/subject.key"), &info) == 0 && info.st_mode & 0o077 == 0 && info.st_size == 32)
        let again = try SubjectKey(stateFolder: folder("state"), file: nil)
        #expect(first.hmac("123") == again.hmac("123") && first.hmac("123") != first.hmac("124"))
        #expect(first.hmac("7") != first.hmac("\u{FF17}"), "a confusable is another subject")
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: folder("short.key")))
        #expect(throws: ErasureError.self) { try SubjectKey(path: folder("short.key")) }
    }

    @Test func hostileSubjectsAreRefusedOrMatchOnlyThemselves() {
        for refused in ["", String(repeating: "a", count: 10 * 1024), "a\nb", "a\u{0}b", " 7", "7 "] {
            #expect(SubjectCheck.problem(refused) != nil, "\(refused.prefix(10).debugDescription)")
        }
        for accepted in ["*", "..", "%", "%2e%2e", "7", "\u{FF17}", "USER#7", "a/b"] {
            #expect(SubjectCheck.problem(accepted) == nil)
        }
    }

    @Test(arguments: [ArchiveLayout.perRecord, .batched])
    func erasingASubjectRemovesItsRecordsAndFilesAndNothingElse(layout: ArchiveLayout) async throws {
        let f = try ErasureFixture(layout: layout, label: "erasure-\(layout)")
        defer { f.folder.remove() }
        try await f.tail()
        let before = try await f.listing()
        let subject = before.filter { $0.item.hasPrefix("USER#7_") }
        #expect(subject.count >= 2)

        // The index holds exactly the subject's records, under its HMAC; the subject itself is stored nowhere.
        let indexed = try f.erasures.indexed(subjectHMAC: f.key.hmac("7"))
        #expect(Set(indexed.map(\.archiveKey)) == Set(subject.map(\.key)))
        #expect(indexed.allSatisfy { (layout == .batched) == ($0.objectKey != nil) })
        #expect(try f.erasures.indexCounts().subjects > 100)
        let stored = try await DatabaseQueue(path: f.checkpoints.path).read { db in
            try Data.fetchAll(db, sql: "SELECT body FROM subject_log UNION ALL SELECT body || subject FROM subject_groups")
        }
        // The subject's HMAC is kept as its 32 bytes, next to the archive keys of its records.
        let hmac = f.key.hmac("7")
        let hmacBytes = Data(stride(from: 0, to: hmac.count, by: 2).map { UInt8(hmac.dropFirst($0).prefix(2), radix: 16)! })
        #expect(stored.contains { $0.range(of: hmacBytes) != nil })
        #expect(stored.allSatisfy { $0.range(of: Data(hmac.utf8)) == nil })

        try f.write("users/7/a.txt")
        try f.write("users/7/deep/b.txt")
        try f.write("users/70/c.txt")
        let job = try f.request("7")
        let summary = try await f.runner().run(job.id)
        #expect(summary.completed == 1)

        let after = try await f.listing()
        #expect(after.map(\.key) == before.filter { !$0.item.hasPrefix("USER#7_") }.map(\.key), "every other record untouched")
        #expect(!FileManager.default.fileExists(atPath: f.folder("files/users/7/a.txt")))
        #expect(!FileManager.default.fileExists(atPath: f.folder("files/users/7/deep/b.txt")))
        #expect(FileManager.default.fileExists(atPath: f.folder("files/users/70/c.txt")))
        #expect(try f.erasures.indexed(subjectHMAC: f.key.hmac("7")).isEmpty)

        // The receipt counts what was done and is chained; an edit shows.
        let done = try f.erasures.job(job.id)
        #expect(done.state == .completed)
        let book = ReceiptBook(stateFolder: f.folder("state"))
        let receipt = try JSONValue.parse(try book.text(job.id))
        #expect(receipt["subject_hmac"]?.stringValue == f.key.hmac("7"))
        #expect(!(try book.text(job.id)).contains("USER#7\""))
        let events = try f.erasures.events(job.id)
        if layout == .perRecord {
            #expect(events.count { $0.operation == "delete" && $0.outcome == "deleted" } == subject.count)
            #expect(receipt["counts"]?["archive"]?["delete.deleted"] == .integer(subject.count))
        } else {
            #expect(events.count { $0.store == "archive" && $0.operation == "rewrite" } == Set(indexed.compactMap(\.objectKey)).count)
        }
        // The archive's subject index objects that named the subject were rewritten without it.
        #expect(events.contains { $0.store == ErasureStore.subjectIndexStore && $0.outcome == "rewritten" })
        #expect(!events.contains { $0.outcome == "failed" })
        #expect(receipt["counts"]?["root:files"]?["delete-prefix.done"] == .integer(1))
        #expect(try book.verify(f.erasures) == 1)

        // A later record of the subject is not archived; other subjects' are.
        try FileManager.default.copyItem(atPath: f.folder("feed.jsonl"), toPath: f.folder("again.jsonl"))
        let again = try await f.tail(feed: "again.jsonl")
        #expect(again.suppressed == subject.count)
        #expect(Set(try await f.listing().map(\.key)) == Set(after.map(\.key)))

        // A second erasure adds a receipt to the chain; editing the first breaks it.
        let second = try f.request("8")
        _ = try await f.runner().run(second.id)
        #expect(try book.verify(f.erasures) == 2)
        var text = try book.text(job.id)
        text = text.replacingOccurrences(of: "\"completed\"", with: "\"cancelled\"")
        try Data(text.utf8).write(to: URL(fileURLWithPath: book.path(job.id)))
        #expect(throws: ErasureError.self) { try book.verify(f.erasures) }

        // Lifting the suppression archives the subject's records again.
        #expect(try f.erasures.lift(f.key.hmac("7"), reason: "test", at: Date()))
        try FileManager.default.copyItem(atPath: f.folder("feed.jsonl"), toPath: f.folder("third.jsonl"))
        let third = try await f.tail(feed: "third.jsonl")
        #expect((third.suppressed ?? 0) == before.count { $0.item.hasPrefix("USER#8_") })
        #expect(Set(try await f.listing().filter { $0.item.hasPrefix("USER#7_") }.map(\.key)) == Set(subject.map(\.key)))
    }

    @Test func hostileSubjectsEraseNothingElse() async throws {
        let f = try ErasureFixture(layout: .perRecord, records: 1500, label: "erasure-hostile")
        defer { f.folder.remove() }
        try await f.tail()
        try f.write("users/7/a.txt")
        try f.write("keep.txt")
        let before = try await f.listing()
        for subject in ["*", "..", "%", "%2e%2e", "\u{FF17}", "USER#7", "7/..", "."] {
            let job = try f.request(subject)
            _ = try await f.runner().run(job.id)
            let state = try f.erasures.job(job.id).state
            #expect(state == .completed || state == .completedWithErrors)
        }
        #expect(try await f.listing() == before)
        #expect(FileManager.default.fileExists(atPath: f.folder("files/users/7/a.txt")))
        #expect(FileManager.default.fileExists(atPath: f.folder("files/keep.txt")))
    }

    @Test func aCancelledJobStopsAndResumes() async throws {
        let f = try ErasureFixture(layout: .perRecord, records: 1500, label: "erasure-cancel")
        defer { f.folder.remove() }
        try await f.tail()
        let job = try f.request("7")
        #expect(try f.erasures.cancel(job.id, at: Date()).state == .cancelled)
        #expect(try await f.runner().run(nil).jobs.isEmpty, "a cancelled job is not taken up")
        #expect(!(try f.erasures.indexed(subjectHMAC: f.key.hmac("7")).isEmpty))
        _ = try f.erasures.resume(job.id)
        #expect(try await f.runner().run(nil).completed == 1)
        #expect(try f.erasures.indexed(subjectHMAC: f.key.hmac("7")).isEmpty)
    }

    /// The coordination seam: a hook that refuses keeps the job queued and erases nothing; one that lets it run hears
    /// of its completion with the receipt.
    final class Hook: ErasureEventHook, @unchecked Sendable {
        let lock = NSLock()
        var allow = false
        var requested: [String] = []
        var completed: [(String, String?)] = []
        struct NotAcked: Error {}
        func requested(_ job: ErasureJob) async throws {
            try lock.withLock {
                requested.append(job.id)
                if !allow { throw NotAcked() }
            }
        }
        func completed(_ job: ErasureJob, receipt: String?) async { lock.withLock { completed.append((job.id, receipt)) } }
    }

    @Test func theEventHookHoldsAJobUntilItAllowsAndHearsOfItsCompletion() async throws {
        let f = try ErasureFixture(layout: .perRecord, records: 1500, label: "erasure-hook")
        defer { f.folder.remove() }
        try await f.tail()
        let job = try f.request("7")
        let hook = Hook()
        _ = try await f.runner(events: hook).run(job.id)
        let waiting = try f.erasures.job(job.id)
        #expect(waiting.state == .queued && waiting.error != nil)
        #expect(!(try f.erasures.indexed(subjectHMAC: f.key.hmac("7")).isEmpty), "nothing erased before the hook allows it")
        hook.lock.withLock { hook.allow = true }
        // Due again in a minute; made due now.
        try await DatabaseQueue(path: f.checkpoints.path).write { db in try db.execute(sql: "UPDATE erasure_jobs SET not_before = 0") }
        _ = try await f.runner(events: hook).run(job.id)
        #expect(try f.erasures.job(job.id).state == .completed)
        #expect(hook.lock.withLock { hook.requested.count == 2 && hook.completed.count == 1 && hook.completed[0].1?.contains(job.id) == true })
    }

    /// The last ack lands after the hook found the coordination waiting and before the job is put back.
    final class AckedMeanwhile: ErasureEventHook, @unchecked Sendable {
        let path: String
        init(path: String) { self.path = path }
        func requested(_ job: ErasureJob) async throws {
            let id = ErasureEvents.coordinationID(job: job)
            try await DatabaseQueue(path: path).write { db in
                try db.execute(sql: """
                    INSERT INTO coordinations (id, rule, source, archive_key, item_key, deletion_kind, deleted_at, state, created_at, cap_at)
                    VALUES (?, 'erasure', 'erasure', ?, '{}', 'manual', '', 'released', 0, 0)
                    """, arguments: [id, job.id])
            }
            throw Hook.NotAcked()
        }
        func completed(_ job: ErasureJob, receipt: String?) async {}
    }

    @Test func aJobWhoseCoordinationWasReleasedWhileItWasPutBackIsDueAtOnce() async throws {
        let f = try ErasureFixture(layout: .perRecord, records: 10, label: "erasure-race")
        defer { f.folder.remove() }
        let job = try f.request("7")
        _ = try await f.runner(events: AckedMeanwhile(path: f.checkpoints.path)).run(job.id)
        let back = try f.erasures.job(job.id)
        #expect(back.state == .queued)
        // Due at once (by the time the run returned), not a minute after it was put back.
        let ahead = back.notBefore.timeIntervalSince(Date())
        #expect(ahead <= 0, "due in \(ahead) s, not at once")
    }
}
