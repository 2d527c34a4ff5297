import Foundation
import GRDB
import JSONToolkit

/// Where a queue entry stands, in the style of Oban and River:
///
///     scheduled ─┐
///                ├─► available ─► executing ─► completed
///     retryable ─┘                    │
///        ▲                            ├─► retryable (attempts left: again at next_attempt_at)
///        └────────────────────────────┤
///                                     └─► parked (max attempts reached, or an unsafe target: waits for a person)
///     any waiting state ─► cancelled (by a person);  held: waits for a coordination to release it
public enum QueueState: String, Sendable, CaseIterable, Codable {
    /// Waits for its start time (`queue.delay` after the deletion was archived).
    case scheduled
    /// Ready to be claimed by a worker.
    case available
    /// Claimed by a worker (leased until `leased_until`).
    case executing
    /// Failed, with attempts left: available again at `next_attempt_at`.
    case retryable
    /// Done (the target is gone, or was already).
    case completed
    /// Given up on: max attempts reached, or a target that may never run. Waits for `queue retry` or `queue cancel`.
    case parked
    /// Cancelled by a person; never runs.
    case cancelled
    /// Waits for a coordination to release it.
    case held

    /// States of entries that still wait to run.
    public static let waiting: [QueueState] = [.scheduled, .available, .retryable, .held]
    /// States a person may retry, cancel or drop (not `executing`: a worker is on it).
    public static let settled: [QueueState] = [.scheduled, .available, .retryable, .held, .parked, .completed, .cancelled]
}

/// One failed attempt, as the entry's error history keeps it (like Oban's `errors[]`).
public struct QueueAttemptError: Sendable, Equatable, Codable {
    /// When, ISO 8601.
    public var at: String
    /// The attempt that failed (1 for the first).
    public var attempt: Int
    /// What went wrong.
    public var error: String
    /// A short code: the AWS error code (`AccessDenied`), the errno name (`EACCES`), or archiver's
    /// (`unsafe-target`, `lease-expired`, `template`).
    public var code: String
    /// The HTTP status, for S3.
    public var httpStatus: Int?

    enum CodingKeys: String, CodingKey {
        case at, attempt, error, code
        case httpStatus = "http_status"
    }
}

/// One row of the queue.
public struct QueueEntry: Sendable, Equatable {
    public var id: String
    public var rule: String
    public var actionIndex: Int
    /// `delete-object`, `delete-prefix`, `abort-multipart` (other features add their own).
    public var action: String
    /// The root's name.
    public var root: String
    /// The filled parameters and the root's location when enqueued.
    public var target: JSONValue
    public var source: String
    public var archiveKey: String
    public var state: QueueState
    public var attempts: Int
    public var maxAttempts: Int
    public var nextAttemptAt: Date
    public var leasedUntil: Date?
    public var leaseOwner: String?
    public var lastError: String?
    public var lastErrorCode: String?
    public var errors: [QueueAttemptError]
    public var createdAt: Date
    public var completedAt: Date?
    /// The coordination that must release it.
    public var hold: String?
    /// What the action did (JSON), once completed.
    public var outcome: JSONValue?

    /// The action's kind, when it is one of this queue's.
    public var actionKind: ActionKind? { ActionKind(rawValue: action) }

    /// The filled target; nil for an entry parked because its templates could not be filled.
    public var deletionTarget: DeletionTarget? { actionKind.flatMap { DeletionTarget(kind: $0, json: target) } }

    /// The root's location when the entry was made.
    public var rootLocation: RootLocation? { target["root_location"]?.stringValue.flatMap { try? RootLocation($0) } }

    /// Where the target is, for people: `s3://bucket/prefix/key` or `/folder/key`.
    public var place: String {
        let location = target["root_location"]?.stringValue ?? "\(root):"
        if let path = deletionTarget?.path { return location + path }
        return location + "(unfilled: \(target["templates"]?.serialized ?? "?"))"
    }

    /// An entry from a row of ``QueueSchema/columns``, read by position (a name lookup per column costs more than
    /// the rest of a claim).
    init(row: Row) {
        id = row[0]
        rule = row[1]
        actionIndex = row[2]
        action = row[3]
        root = row[4]
        target = (try? JSONValue.parse(row[5] as String)) ?? .null
        source = row[6]
        archiveKey = row[7]
        state = QueueState(rawValue: row[8]) ?? .parked
        attempts = row[9]
        maxAttempts = row[10]
        nextAttemptAt = Date(timeIntervalSince1970: row[11])
        leasedUntil = (row[12] as Double?).map(Date.init(timeIntervalSince1970:))
        leaseOwner = row[13]
        lastError = row[14]
        lastErrorCode = row[15]
        let errorsText = row[16] as String? ?? "[]"
        errors = errorsText == "[]" ? [] : (try? JSONDecoder().decode([QueueAttemptError].self, from: Data(errorsText.utf8))) ?? []
        createdAt = Date(timeIntervalSince1970: row[17])
        completedAt = (row[18] as Double?).map(Date.init(timeIntervalSince1970:))
        hold = row[19]
        outcome = (row[20] as String?).flatMap { try? JSONValue.parse($0) }
    }

    /// The entry as `queue show --json` and `queue list --json` print it.
    public var json: JSONValue {
        func date(_ value: Date?) -> JSONValue { value.map { .string(QueueTime.text($0)) } ?? .null }
        return .object([
            ("id", .string(id)), ("rule", .string(rule)), ("action_index", .integer(actionIndex)), ("action", .string(action)),
            ("root", .string(root)), ("target", target), ("place", .string(place)), ("source", .string(source)),
            ("archive_key", .string(archiveKey)), ("state", .string(state.rawValue)), ("attempts", .integer(attempts)),
            ("max_attempts", .integer(maxAttempts)), ("next_attempt_at", date(nextAttemptAt)), ("leased_until", date(leasedUntil)),
            ("lease_owner", leaseOwner.map(JSONValue.string) ?? .null), ("last_error", lastError.map(JSONValue.string) ?? .null),
            ("last_error_code", lastErrorCode.map(JSONValue.string) ?? .null),
            ("errors", .array(errors.map { error in
                .object(omittingNil: [
                    "at": .string(error.at), "attempt": .integer(error.attempt), "error": .string(error.error), "code": .string(error.code),
                    "http_status": error.httpStatus.map { .integer($0) },
                ])
            })),
            ("created_at", date(createdAt)), ("completed_at", date(completedAt)), ("hold", hold.map(JSONValue.string) ?? .null),
            ("outcome", outcome ?? .null),
        ])
    }
}

/// Times of the queue as people and JSON read them: ISO 8601 in UTC, to the millisecond.
public enum QueueTime {
    /// `2024-01-31T09:05:07.250Z`: the date in UTC, to the nearest millisecond (as `ISO8601DateFormatter` with
    /// `.withInternetDateTime` and `.withFractionalSeconds` writes it), without making a formatter each time.
    public static func text(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let (days, dayMillis) = floorDivision(millis, 86_400_000)
        // Civil date from days since 1970-01-01 (proleptic Gregorian; Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        func digits(_ value: Int64, _ count: Int) {
            var divisor: Int64 = 1
            for _ in 1..<count { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                bytes.append(UInt8(48 + (rest / divisor) % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(year, 4); bytes.append(45); digits(month, 2); bytes.append(45); digits(day, 2); bytes.append(84)
        digits(dayMillis / 3_600_000, 2); bytes.append(58); digits(dayMillis / 60_000 % 60, 2); bytes.append(58)
        digits(dayMillis / 1000 % 60, 2); bytes.append(46); digits(dayMillis % 1000, 3); bytes.append(90)
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func floorDivision(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let quotient = value / divisor
        let remainder = value % divisor
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }
}
