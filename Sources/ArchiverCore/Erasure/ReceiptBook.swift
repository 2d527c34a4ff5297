import Crypto
import Foundation
import GRDB
import JSONToolkit

/// The receipts of finished erasure jobs: one JSON file each in `<state>/erasure/receipts/<job>.json`, chained: each
/// holds the SHA-256 of the receipt before it (`previous`), and the state database keeps every receipt's SHA-256 in
/// order (`erasure_receipts`). An edit of a receipt, or of the table, shows in `archiver erase verify`.
///
/// A receipt is built from the job's row and its event log only, so writing it again after a crash (the job
/// finished, the receipt not yet written) writes the same bytes.
public struct ReceiptBook: Sendable {
    public let folder: String

    /// The chain's first `previous`.
    public static let genesis = String(repeating: "0", count: 64)

    public init(stateFolder: String) {
        folder = FileSystem.absolute(stateFolder) + "/erasure/receipts"
    }

    public func path(_ job: String) -> String { folder + "/" + job + ".json" }

    /// Writes the receipt of every finished job that has none yet, in the order the jobs finished.
    public func writeMissing(_ erasures: ErasureStore) throws {
        let missing = try erasures.reading { db in
            try String.fetchAll(db, sql: """
                SELECT id FROM erasure_jobs WHERE state IN ('completed', 'completed-with-errors')
                AND id NOT IN (SELECT job_id FROM erasure_receipts) ORDER BY finished_at, id
                """)
        }
        for id in missing { try write(id, erasures) }
    }

    func write(_ id: String, _ erasures: ErasureStore) throws {
        let job = try erasures.job(id)
        let events = try erasures.events(id)
        let (seq, previous) = try erasures.reading { db in
            let last = try Row.fetchOne(db, sql: "SELECT seq, sha256 FROM erasure_receipts ORDER BY seq DESC LIMIT 1")
            return ((last?["seq"] as Int? ?? 0) + 1, last?["sha256"] as String? ?? Self.genesis)
        }
        // The months of the records it erased (archive keys start YYYY/MM/), and the analysis copies of them made before.
        let months = Set(events.filter { $0.store == "archive" && $0.outcome != "failed" }.compactMap { event -> String? in
            let parts = event.key.split(separator: "/")
            guard parts.count > 2, parts[0].count == 4, parts[1].count == 2 else { return nil }
            return "\(parts[0])-\(parts[1])"
        })
        let copies = try erasures.syncCopies(months: months, before: job.finishedAt ?? job.requestedAt)
        var content = Self.receipt(job, events: events, seq: seq, previous: previous)
        if case .object(var members) = content {
            members.insert(("analysis_copies", .array(copies.map { copy in
                .object([
                    ("month", .string(copy.month)), ("destination", .string(copy.destination)), ("jsonl", copy.jsonl.map(JSONValue.string) ?? .null),
                    ("copied_at", .string(ISO8601DateFormatter().string(from: copy.copiedAt))),
                ])
            })), at: members.count - 1)
            content = .object(members)
        }
        let bytes = Array(content.serialized.utf8) + [0x0A]
        let sha = hex(SHA256.hash(data: bytes))
        try FileSystem.makeFolders(folder)
        let temporary = folder + "/." + id + ".json.new"
        try bytes.withUnsafeBytes { try FileSystem.writeFile(temporary, $0) }
        try FileSystem.fsyncPath(temporary)
        try FileSystem.rename(temporary, path(id))
        try FileSystem.fsyncPath(folder)
        try erasures.writing { db in
            try db.execute(sql: "INSERT INTO erasure_receipts (seq, job_id, sha256, previous) VALUES (?, ?, ?, ?) ON CONFLICT (job_id) DO NOTHING",
                           arguments: [seq, id, sha, previous])
        }
    }

    /// A receipt's content: the job, its times, counts per store, operation and storage class (and how many classes
    /// were known without a listing), the request ids,
    /// the subject's HMAC (never the subject), and the previous receipt's SHA-256.
    static func receipt(_ job: ErasureJob, events: [ErasureStore.Event], seq: Int, previous: String) -> JSONValue {
        let format = ISO8601DateFormatter()
        var counts: [String: [String: Int]] = [:]
        var classes: [String: Int] = [:]
        for event in events {
            counts[ErasureStore.countsName(event.store), default: [:]]["\(event.operation).\(event.outcome)", default: 0] += 1
            if event.store == "archive", event.outcome != "failed" { classes[event.storageClass ?? "STANDARD", default: 0] += 1 }
        }
        let requestIDs = Array(Set(events.compactMap(\.requestID))).sorted()
        let early = events.compactMap(\.earlyDeletionUSD).reduce(0, +)
        return .object([
            ("receipt", .integer(seq)),
            ("job", .string(job.id)),
            ("state", .string(job.state.rawValue)),
            ("origin", .string(job.origin)),
            ("subject_hmac", .string(job.subjectHMAC)),
            ("requested_at", .string(format.string(from: job.requestedAt))),
            ("started_at", job.startedAt.map { .string(format.string(from: $0)) } ?? .null),
            ("finished_at", job.finishedAt.map { .string(format.string(from: $0)) } ?? .null),
            ("counts", .object(counts.sorted { $0.key < $1.key }.map { store, operations in
                (store, .object(operations.sorted { $0.key < $1.key }.map { ($0.key, .integer($0.value)) }))
            })),
            ("objects_by_storage_class", .object(classes.sorted { $0.key < $1.key }.map { ($0.key, .integer($0.value)) })),
            // Of those, the ones whose class was not listed but known: written STANDARD where nothing moves them.
            ("storage_class_as_written", .integer(events.count { $0.store == "archive" && $0.detail == ErasureStore.Event.classAsWritten })),
            ("failed", .array(events.filter { $0.outcome == "failed" }.prefix(100).map { .object([("store", .string($0.store)), ("key", .string($0.key)), ("error", .string($0.detail ?? ""))]) })),
            ("early_deletion_usd", .number("\(early)")),
            ("s3_request_ids", .array(requestIDs.map(JSONValue.string))),
            ("previous", .string(previous)),
        ])
    }

    /// A receipt's text. - Throws: `receipt` when the job has none (yet).
    public func text(_ job: String) throws -> String {
        guard let bytes = try? FileSystem.readFile(path(job)) else {
            throw ErasureError.receipt("the erasure job \(job) has no receipt (\(path(job))); a receipt is written when a job completes")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Checks the chain: every receipt's bytes against its recorded SHA-256, and each `previous` against the receipt
    /// before. Returns the number checked. - Throws: `receipt`, naming the first receipt that does not match.
    public func verify(_ erasures: ErasureStore) throws -> Int {
        let rows = try erasures.reading { db in try Row.fetchAll(db, sql: "SELECT seq, job_id, sha256, previous FROM erasure_receipts ORDER BY seq") }
        var expectedPrevious = Self.genesis
        for row in rows {
            let id: String = row["job_id"]
            let recorded: String = row["sha256"]
            guard let bytes = try? FileSystem.readFile(path(id)) else {
                throw ErasureError.receipt("the receipt of \(id) (\(path(id))) is missing; the chain is broken at receipt \(row["seq"] as Int)")
            }
            let sha = hex(SHA256.hash(data: bytes))
            guard sha == recorded else {
                throw ErasureError.receipt("the receipt of \(id) (\(path(id))) was changed after it was written: its SHA-256 is \(sha), the chain recorded \(recorded)")
            }
            let previous = (try? JSONValue.parse(bytes))?["previous"]?.stringValue
            guard previous == expectedPrevious, (row["previous"] as String) == expectedPrevious else {
                throw ErasureError.receipt("the receipt of \(id) does not follow the one before it (previous \(previous ?? "missing"), expected \(expectedPrevious))")
            }
            expectedPrevious = sha
        }
        return rows.count
    }
}
