import JSONToolkit

/// The rules the processing stage applies to archived deletions, with what it needs to plan entries.
public struct RuleContext: Sendable {
    public var rules: RuleSet
    /// The source's id (part of every entry's id).
    public var source: String
    /// The table of records that do not name theirs (``ChangeSource/table``).
    public var sourceTable: String?

    public init(rules: RuleSet, source: String, sourceTable: String?) {
        self.rules = rules
        self.source = source
        self.sourceTable = sourceTable
    }
}

/// What becomes of one record.
public enum RecordOutcome: Sendable {
    /// A REMOVE: archive this object.
    case archive(ArchiveObject, DeletionKind)
    /// An INSERT or MODIFY: counted and passed over.
    case passOver(EventName)
    /// Cannot be archived: goes to the dead-letter folder with this reason.
    case deadLetter(RecordError)
}

/// Turns a record's bytes into its outcome: read the few fields that matter, name the object, gzip the
/// bytes as they came. The archived bytes are the input bytes; the item images are never decoded.
///
/// Holds a zlib state: one per thread.
public final class RecordProcessor {
    private let scanner = RecordScanner()
    private let encoder: GzipEncoder
    /// Key attribute order from the source's schema, when known.
    private let keyOrder: [String]?

    public init(gzipLevel: Int = GzipEncoder.defaultLevel, keyOrder: [String]? = nil) {
        encoder = GzipEncoder(level: gzipLevel)
        self.keyOrder = keyOrder
    }

    public func process(_ bytes: UnsafeRawBufferPointer) -> RecordOutcome {
        process(bytes, rules: nil).outcome
    }

    /// The record's outcome and, for a deletion to archive that a rule takes, the queue entries the rules plan
    /// (evaluated here, on the worker thread; a record of a table without rules is not decoded).
    public func process(_ bytes: UnsafeRawBufferPointer, rules: RuleContext?) -> (outcome: RecordOutcome, planned: [PlannedEntry]) {
        let (outcome, planned, _) = processWithSubject(bytes, rules: rules)
        return (outcome, planned)
    }

    /// ``process(_:rules:)`` with the HMAC of the record's subject, when a rule that takes it names one.
    public func processWithSubject(_ bytes: UnsafeRawBufferPointer, rules: RuleContext?) -> (outcome: RecordOutcome, planned: [PlannedEntry], subject: String?) {
        var scanned: ScannedRecord?
        let outcome = process(bytes, scanned: &scanned)
        guard let rules, !rules.rules.isEmpty, case .archive(let object, _) = outcome, let record = scanned else { return (outcome, [], nil) }
        var table = record.eventSourceARNRepeated ? nil : rules.sourceTable
        if let range = record.eventSourceARNRange {
            // The scanner validated the string; it is read only now that rules exist, and without decoding it.
            switch rules.rules.table(inRawARN: UnsafeRawBufferPointer(rebasing: bytes[range])) {
            case .noRule: return (outcome, [], nil)
            case .table(let named): table = named
            }
        }
        guard rules.rules.hasRules(forTable: table) else { return (outcome, [], nil) }
        let plan = rules.rules.planWithSubject(record: bytes, scanned: record, table: table, archiveKey: object.key, source: rules.source)
        return (outcome, plan.entries, plan.subject)
    }

    private func process(_ bytes: UnsafeRawBufferPointer, scanned: inout ScannedRecord?) -> RecordOutcome {
        let record: ScannedRecord
        do {
            record = try scanner.scan(bytes)
        } catch {
            return .deadLetter(error)
        }
        scanned = record
        guard record.eventName == .remove else { return .passOver(record.eventName) }
        guard record.hasOldImage else { return .deadLetter(RecordError(.noOldImage)) }
        guard record.hasKeys, !record.keys.isEmpty else { return .deadLetter(RecordError(.noKeys)) }
        guard let eventTime = record.eventTime else {
            return .deadLetter(RecordError(.missingField("dynamodb.ApproximateCreationDateTime")))
        }
        let time: DeletionTime
        do {
            time = try DeletionTime(eventTime)
        } catch {
            return .deadLetter(error)
        }
        let kind = record.deletionKind
        let key = ArchiveKey(keys: ordered(record.keys), time: time, sequenceNumber: record.sequenceNumber, kind: kind, recordBytes: bytes)
        let object = ArchiveObject(
            key: key.path, body: encoder.compress(bytes),
            metadata: ["archiver-kind": kind.rawValue, "archiver-deleted-at": time.description])
        return .archive(object, kind)
    }

    private func ordered(_ keys: [KeyAttribute]) -> [KeyAttribute] {
        guard let keyOrder, keys.count > 1 else { return keys }
        return keys.sorted { a, b in
            (keyOrder.firstIndex(of: a.name) ?? Int.max, a.name) < (keyOrder.firstIndex(of: b.name) ?? Int.max, b.name)
        }
    }
}
