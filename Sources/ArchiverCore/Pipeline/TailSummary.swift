/// What a tail did: every record read ends in exactly one of archived, passed over, dead-lettered.
public struct TailSummary: Sendable, Codable, Equatable {
    public var read = 0
    public var archived = 0
    public var archivedManual = 0
    public var archivedTTL = 0
    public var passedOver = 0
    public var deadLettered = 0
    /// Bytes of records read.
    public var bytes: Int64 = 0
    /// Archive bytes written (gzip).
    public var archivedBytes: Int64 = 0
    public var seconds: Double = 0
    /// Gaps noticed: records the source could no longer supply (trimmed from a stream before they were read).
    public var gaps = 0
    /// Deletion-queue entries written with the checkpoints (nil when no rule is configured).
    public var actionsEnqueued: Int?
    /// Of those, entries parked at once: their target could not be filled or would leave its root (never run).
    public var actionsParked: Int?
    /// What the deletion queue's workers did beside the tail (nil when they did not run).
    public var queue: QueueRunSummary?
    /// Batched objects written (nil for a per-record archive).
    public var objects: Int?
    /// Records of a batched archive held in objects still open when the run ended: the checkpoint stands before
    /// them, and the next run reads them again (nil for a per-record archive).
    public var held: Int?
    /// Records not archived because their subject was erased (nil when no rule names a subject or none was).
    public var suppressed: Int?

    enum CodingKeys: String, CodingKey {
        case read, archived, gaps, queue
        case actionsEnqueued = "actions_enqueued"
        case actionsParked = "actions_parked"
        case archivedManual = "archived_manual"
        case archivedTTL = "archived_ttl"
        case passedOver = "passed_over"
        case deadLettered = "dead_lettered"
        case bytes
        case archivedBytes = "archived_bytes"
        case seconds
        case objects = "batched_objects"
        case held = "held_open"
        case suppressed
    }

    public init() {}

    public static func += (lhs: inout TailSummary, rhs: TailSummary) {
        lhs.read += rhs.read
        lhs.archived += rhs.archived
        lhs.archivedManual += rhs.archivedManual
        lhs.archivedTTL += rhs.archivedTTL
        lhs.passedOver += rhs.passedOver
        lhs.deadLettered += rhs.deadLettered
        lhs.bytes += rhs.bytes
        lhs.archivedBytes += rhs.archivedBytes
        lhs.gaps += rhs.gaps
        if lhs.actionsEnqueued != nil || rhs.actionsEnqueued != nil {
            lhs.actionsEnqueued = (lhs.actionsEnqueued ?? 0) + (rhs.actionsEnqueued ?? 0)
            lhs.actionsParked = (lhs.actionsParked ?? 0) + (rhs.actionsParked ?? 0)
        }
        if let objects = rhs.objects { lhs.objects = (lhs.objects ?? 0) + objects }
        if let held = rhs.held { lhs.held = (lhs.held ?? 0) + held }
        if let suppressed = rhs.suppressed { lhs.suppressed = (lhs.suppressed ?? 0) + suppressed }
    }

    /// For people: short and aligned.
    public var text: String {
        let rate = seconds > 0 ? Double(read) / seconds : 0
        var rows: [(String, String)] = [
            ("read", "\(read)"),
            ("archived", "\(archived)  (manual \(archivedManual), ttl \(archivedTTL))"),
            ("passed over", "\(passedOver)"),
            ("dead-lettered", "\(deadLettered)"),
            ("time", String(format: "%.2f s  (%.0f records/s, ", seconds, rate) + ByteSize.rate(bytes, seconds: seconds) + ")"),
        ]
        if gaps > 0 { rows.insert(("gaps", "\(gaps)"), at: 4) }
        if let actionsEnqueued {
            let parked = actionsParked ?? 0
            let note = parked > 0 ? "  (\(parked) parked at once: a target that cannot be filled or would leave its root)" : ""
            rows.insert(("actions queued", "\(actionsEnqueued)\(note)"), at: rows.count - 1)
        }
        if let queue {
            rows.insert(("actions done", "\(queue.completed)  (retrying \(queue.retrying), parked \(queue.parked))"), at: rows.count - 1)
        }
        if let objects { rows.insert(("objects", "\(objects)  (batched)"), at: 2) }
        if let suppressed, suppressed > 0 { rows.insert(("suppressed", "\(suppressed)  (records of erased subjects, not archived)"), at: 2) }
        if let held, held > 0 { rows.insert(("held open", "\(held)  (in objects not yet full; the next run reads them again)"), at: rows.count - 1) }
        return alignedRows(rows)
    }
}

import Foundation
