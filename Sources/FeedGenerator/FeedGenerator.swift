import ArchiverCore
import Foundation

/// Makes a realistic DynamoDB Streams change feed (JSON lines) for tests and benchmarks.
///
/// - INSERT, MODIFY and REMOVE about 35/25/40; a third of the REMOVEs are TTL expiries (userIdentity
///   `Service` / `dynamodb.amazonaws.com`), the rest manual deletes.
/// - Items of every DynamoDB type (S, N, B, BOOL, NULL, M, L, SS, NS, BS, nested), from a few kinds of entity
///   (users, cart lines, documents, sessions, upload tickets in a PK+SK table; counters with a number key;
///   blobs with a binary key); some unicode, some awkward key values (`/`, `..`, `%`, spaces, control characters).
/// - Record sizes with a long tail: most 200 B to 2 KB, about 1% 10 to 50 KB, about 0.05% over 100 KB.
/// - Sequence numbers increase; event times spread evenly over the days given (as epoch seconds, now and then
///   fractional or an ISO-8601 string).
/// - The same seed, start, days and record count give the same bytes, on every platform. Memory stays flat:
///   records are built into one buffer that is handed to the caller and reused.
///
/// Every record it writes is one `RecordProcessor` archives (REMOVE) or passes over (INSERT, MODIFY).
public struct FeedGenerator: Sendable {
    /// The seed of every random choice.
    public var seed: UInt64
    /// The first moment of the first day (epoch seconds, UTC midnight).
    public var start: Int64
    /// Over how many days the event times spread.
    public var days: Int

    /// 2024-01-01T00:00:00Z.
    public static let defaultStart: Int64 = 1_704_067_200
    /// The days a feed may span.
    public static let dayRange = 1...36_500

    public init(seed: UInt64 = 1, start: Int64 = FeedGenerator.defaultStart, days: Int = 7) {
        self.seed = seed
        self.start = start
        self.days = max(1, days)
    }

    /// - Parameter startDate: the first day, `YYYY-MM-DD` (UTC).
    /// - Throws: `FeedGeneratorError` when the date is not a date or the span leaves years 1970 to 9999.
    public init(seed: UInt64 = 1, startDate: String, days: Int = 7) throws(FeedGeneratorError) {
        guard let start = Self.parseDate(startDate) else {
            throw FeedGeneratorError("the start date '\(startDate)' is not a date such as 2024-01-15 (YYYY-MM-DD)")
        }
        guard Self.dayRange.contains(days) else {
            throw FeedGeneratorError("the number of days must be \(Self.dayRange.lowerBound) to \(Self.dayRange.upperBound), not \(days)")
        }
        guard start >= 0, start + Int64(days) * 86_400 - 1 <= DeletionTime.latest else {
            throw FeedGeneratorError("the feed must stay within the years 1970 to 9999; \(startDate) plus \(days) days does not")
        }
        self.init(seed: seed, start: start, days: days)
    }

    /// Midnight UTC of a `YYYY-MM-DD` date, in epoch seconds; nil for anything else.
    public static func parseDate(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              year >= 1, (1...12).contains(month), day >= 1
        else { return nil }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        guard day <= monthDays else { return nil }
        return DeletionTime.days(year: year, month: month, day: day) * 86_400
    }

    /// Writes `records` records, one JSON object a line, handing the bytes to `sink` in chunks of about
    /// `chunkSize` bytes. Each chunk ends at the end of a line.
    /// - Returns: what was written.
    @discardableResult
    public func write(records: Int, chunkSize: Int = 1 << 20, to sink: (UnsafeRawBufferPointer) throws -> Void) rethrows -> FeedSummary {
        let writer = FeedWriter(generator: self, total: max(records, 0), chunkSize: chunkSize)
        for index in 0..<max(records, 0) {
            writer.writeRecord(index)
            if writer.out.count >= chunkSize {
                try sink(writer.out.bytes)
                writer.out.removeAll()
            }
        }
        if writer.out.count > 0 { try sink(writer.out.bytes) }
        return writer.summary
    }

    /// The whole feed in memory (for tests; use `write(records:to:)` for large feeds).
    public func generate(records: Int) -> (bytes: [UInt8], summary: FeedSummary) {
        var bytes: [UInt8] = []
        let summary = write(records: records) { bytes.append(contentsOf: $0) }
        return (bytes, summary)
    }
}

/// Why a feed cannot be generated as asked.
public struct FeedGeneratorError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// What a generated feed holds: counts by kind, bytes and sizes, and what archiving it must give.
public struct FeedSummary: Sendable, Codable, Equatable {
    public var seed: UInt64 = 0
    /// The first day, `YYYY-MM-DD`.
    public var start = ""
    public var days = 0
    public var records = 0
    public var insert = 0
    public var modify = 0
    public var remove = 0
    public var removeManual = 0
    public var removeTTL = 0
    /// What a tail of this feed must report (`TailSummary`): every REMOVE archived, every other record passed over.
    public var archived = 0
    public var archivedManual = 0
    public var archivedTTL = 0
    public var passedOver = 0
    public var deadLettered = 0
    /// Bytes written, newlines included.
    public var bytes: Int64 = 0
    /// The longest record, in bytes (without its newline).
    public var largestRecord = 0
    /// How many records of each size (without the newline; 1 KB = 1024 bytes).
    public var sizes = SizeHistogram()
    /// The first and last event times (`2024-01-15T10:30:00Z`).
    public var firstEventTime: String?
    public var lastEventTime: String?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case seed, start, days, records, insert, modify, remove
        case removeManual = "remove_manual"
        case removeTTL = "remove_ttl"
        case archived
        case archivedManual = "archived_manual"
        case archivedTTL = "archived_ttl"
        case passedOver = "passed_over"
        case deadLettered = "dead_lettered"
        case bytes
        case largestRecord = "largest_record"
        case sizes
        case firstEventTime = "first_event_time"
        case lastEventTime = "last_event_time"
    }

    /// Pretty JSON, keys sorted.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// Writes `json()` to a file.
    public func write(toFile path: String) throws {
        do {
            try (json() + Data("\n".utf8)).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw FeedGeneratorError("cannot write the summary to '\(path)': \(error.localizedDescription)")
        }
    }
}

/// Record sizes in bands.
public struct SizeHistogram: Sendable, Codable, Equatable {
    public var under200B = 0
    public var from200BTo2KB = 0
    public var from2KBTo10KB = 0
    public var from10KBTo50KB = 0
    public var from50KBTo100KB = 0
    public var over100KB = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case under200B = "under_200_b"
        case from200BTo2KB = "200_b_to_2_kb"
        case from2KBTo10KB = "2_kb_to_10_kb"
        case from10KBTo50KB = "10_kb_to_50_kb"
        case from50KBTo100KB = "50_kb_to_100_kb"
        case over100KB = "over_100_kb"
    }

    public mutating func count(_ size: Int) {
        switch size {
        case ..<200: under200B += 1
        case ..<2048: from200BTo2KB += 1
        case ..<10_240: from2KBTo10KB += 1
        case ..<51_200: from10KBTo50KB += 1
        case ..<102_400: from50KBTo100KB += 1
        default: over100KB += 1
        }
    }
}
