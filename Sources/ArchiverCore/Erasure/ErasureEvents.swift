import Foundation
import GRDB
import JSONToolkit
import Logging

/// An erasure's events in the outbox, and its consumers' acks before anything is erased (``ErasureEventHook``).
///
/// When a job is taken up it writes `erasure.requested` (the job id, the subject's HMAC — never the subject —, when it
/// was asked for, how many archived records the index holds for it, the actions on the application's data). With
/// `erasure.coordinate:` it also makes a coordination (the same table, acks and timeouts as a coordinated deletion's,
/// `source` ``coordinationSource``, its `archive_key` the job id) and the job waits, queued, until the coordination is
/// released: every consumer acked (`archiver ack <coordination> --consumer …`), or the optional ones ran out of time.
/// A critical consumer's `failed`, or its silence past its limit, parks the coordination (`erasure.parked`) and the
/// job waits for a person (`coordination release`, or `coordination cancel`, which cancels the job: nothing is erased).
/// When the job finishes, `erasure.completed` carries its state, its counts and the SHA-256 of its receipt.
///
/// Every write is one transaction on the state database, with a deterministic event id, so a job taken up again
/// (after a crash, or after waiting) writes nothing twice.
public struct ErasureEvents: ErasureEventHook {
    /// The `source` of an erasure's coordination (no change source is named so).
    public static let coordinationSource = "erasure"
    public static let requested = "erasure.requested"
    public static let completed = "erasure.completed"
    public static let parked = "erasure.parked"

    let database: DatabaseQueue
    let eventSource: String
    let policy: CoordinationPolicy?
    let clock: any WallClock
    let logger: Logger

    public init(checkpoints: CheckpointStore, eventSource: String, policy: CoordinationPolicy?, clock: any WallClock = SystemClock(),
                logger: Logger = Logger(label: "archiver.erase")) {
        database = checkpoints.database
        self.eventSource = eventSource
        self.policy = policy
        self.clock = clock
        self.logger = logger
    }

    /// The id of the coordination of `job` (ordered by when the job was asked for).
    public static func coordinationID(job: ErasureJob) -> String {
        PlannedCoordination.id(source: coordinationSource, archiveKey: job.id, rule: "erasure", deletedAt: Int64(job.requestedAt.timeIntervalSince1970))
    }

    public func requested(_ job: ErasureJob) async throws {
        let now = clock.now()
        let coordination = Self.coordinationID(job: job)
        let found: (state: String, reason: String?)? = try await database.write { db in
            let indexed = try SubjectIndex.records(db, subjectHMAC: job.subjectHMAC).count
            let event = CloudEvent(
                id: CloudEvent.id(subject: job.id, type: Self.requested), source: eventSource, type: Self.requested, subject: job.id,
                time: QueueTime.text(job.requestedAt),
                data: .object([
                    ("job", .string(job.id)), ("subject_hmac", .string(job.subjectHMAC)), ("origin", .string(job.origin)),
                    ("requested_at", .string(QueueTime.text(job.requestedAt))), ("not_before", .string(QueueTime.text(job.notBefore))),
                    ("archived_records_indexed", .integer(indexed)), ("actions", job.actions),
                    ("coordination_id", policy == nil ? .null : .string(coordination)),
                    ("consumers", .array((policy?.consumers ?? []).map {
                        .object([("name", .string($0.name)), ("critical", .bool($0.critical)), ("timeout", .string($0.timeout.text))])
                    })),
                ]))
            guard let policy else {
                try Outbox.append(db, event, at: now)
                return nil
            }
            var planned = PlannedCoordination(
                id: coordination, rule: "erasure", source: Self.coordinationSource, table: nil, archiveKey: job.id,
                itemKey: JSONValue.object([("subject_hmac", .string(job.subjectHMAC))]).serialized, deletionKind: .manual,
                deletedAt: QueueTime.text(job.requestedAt), policy: policy, detail: "{}")
            planned.requested = event
            try CoordinationWrite(coordinations: [planned]).write(db, at: now)
            guard let row = try Row.fetchOne(db, sql: "SELECT state, reason FROM coordinations WHERE id = ?", arguments: [coordination]) else { return nil }
            let state: String = row["state"]
            let reason: String? = row["reason"]
            if reason == CoordinationStore.cancelledByAPerson {
                // Nothing is erased: the job stops at its first clean point, as `erase cancel` would stop it.
                try db.execute(sql: "UPDATE erasure_jobs SET cancel_requested = 1 WHERE id = ?", arguments: [job.id])
            }
            return (state, reason)
        }
        guard let found else { return }
        switch CoordinationState(rawValue: found.state) {
        case .waiting:
            let awaited = try await awaitedConsumers(coordination)
            throw ErasureWaits(text: "it waits for its consumers' acks (\(awaited.joined(separator: ", "))): archiver coordination show \(coordination)")
        case .parked:
            throw ErasureWaits(text: "its coordination is parked (\(found.reason ?? "")): archiver coordination release \(coordination), or coordination cancel \(coordination) to erase nothing")
        default:
            return
        }
    }

    public func completed(_ job: ErasureJob, receipt: String?) async {
        let now = clock.now()
        let coordination = Self.coordinationID(job: job)
        do {
            try await database.write { db in
                try Outbox.append(db, CloudEvent(
                    id: CloudEvent.id(subject: job.id, type: Self.completed), source: eventSource, type: Self.completed, subject: job.id,
                    time: QueueTime.text(job.finishedAt ?? now),
                    data: .object([
                        ("job", .string(job.id)), ("subject_hmac", .string(job.subjectHMAC)), ("state", .string(job.state.rawValue)),
                        ("finished_at", job.finishedAt.map { .string(QueueTime.text($0)) } ?? .null),
                        ("counts", .object(job.counts.sorted { $0.key < $1.key }.map { ($0.key, .integer($0.value)) })),
                        ("receipt_sha256", receipt.map { .string(hex(SHA256Hex.digest($0))) } ?? .null),
                        ("coordination_id", policy == nil ? .null : .string(coordination)),
                    ])), at: now)
                try db.execute(
                    sql: "UPDATE coordinations SET state = 'completed', completed_at = ? WHERE id = ? AND state IN ('released', 'timed-out')",
                    arguments: [now.timeIntervalSince1970, coordination])
            }
        } catch {
            logger.error("erasure.completed could not be written", metadata: ["erasure.job": "\(job.id)", "error": "\(error)"])
        }
    }

    private func awaitedConsumers(_ coordination: String) async throws -> [String] {
        try await database.read { db in
            try String.fetchAll(db, sql: "SELECT consumer FROM coordination_consumers WHERE coordination = ? AND status = 'waiting' ORDER BY position",
                                arguments: [coordination])
        }
    }

    /// Called in the transaction that releases (or cancels) coordination `id`: an erasure job waiting on it is due now.
    static func released(_ db: Database, coordination id: String, now: Date) throws {
        try db.cachedStatement(sql: """
                UPDATE erasure_jobs SET not_before = ?, error = NULL WHERE state = 'queued'
                AND id = (SELECT archive_key FROM coordinations WHERE id = ? AND source = ?)
                """).execute(arguments: [now.timeIntervalSince1970, id, coordinationSource])
    }
}

/// Why an erasure job was put back without erasing anything (it waits for its consumers, or for a person).
public struct ErasureWaits: Error, Sendable, CustomStringConvertible {
    public let text: String
    public var description: String { text }
}
