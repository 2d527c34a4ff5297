import FeedGenerator
import TestSupport
import ArchiverCore
import Foundation
import Testing
import JSONToolkit

@Suite("Feed generator")
struct FeedGeneratorTests {
    static let start = FeedGenerator.parseDate("2024-01-29")!
    static let generator = FeedGenerator(seed: 42, start: start, days: 6)
    /// 20,000 records, shared by the tests that only read them.
    static let sample = generator.generate(records: 20_000)
    static let lines = lineRanges(sample.bytes)

    @Test("the same seed gives the same bytes; another seed other bytes")
    func deterministic() {
        let first = Self.generator.generate(records: 5_000)
        let again = Self.generator.generate(records: 5_000)
        #expect(again.bytes == first.bytes)
        #expect(again.summary == first.summary)
        let other = FeedGenerator(seed: 43, start: Self.start, days: 6).generate(records: 5_000)
        #expect(other.bytes != first.bytes)
    }

    @Test("chunks end at line ends and add up to the whole feed")
    func chunks() {
        var joined: [UInt8] = []
        var chunks = 0
        let summary = Self.generator.write(records: 20_000, chunkSize: 256 * 1024) { chunk in
            chunks += 1
            #expect(chunk.last == UInt8(ascii: "\n"))
            #expect(chunk.count < 256 * 1024 + 700 * 1024, "a chunk of \(chunk.count) bytes")
            joined.append(contentsOf: chunk)
        }
        #expect(chunks > 50)
        #expect(joined == Self.sample.bytes)
        #expect(summary == Self.sample.summary)
    }

    @Test("INSERT/MODIFY/REMOVE about 35/25/40, a third of the REMOVEs TTL")
    func mix() {
        let s = Self.sample.summary
        #expect(s.records == 20_000 && Self.lines.count == 20_000)
        #expect(s.insert + s.modify + s.remove == s.records)
        #expect(s.removeManual + s.removeTTL == s.remove)
        let total = Double(s.records)
        #expect(abs(Double(s.insert) / total - 0.35) < 0.02, "INSERT \(s.insert)")
        #expect(abs(Double(s.modify) / total - 0.25) < 0.02, "MODIFY \(s.modify)")
        #expect(abs(Double(s.remove) / total - 0.40) < 0.02, "REMOVE \(s.remove)")
        #expect(abs(Double(s.removeTTL) / Double(s.remove) - 1.0 / 3.0) < 0.03, "TTL \(s.removeTTL) of \(s.remove)")
        #expect(s.archived == s.remove && s.passedOver == s.insert + s.modify && s.deadLettered == 0)
        #expect(s.bytes == Int64(Self.sample.bytes.count))
    }

    @Test("every record is archived or passed over, never dead-lettered, as the summary says")
    func everyRecordIsGood() {
        let processor = RecordProcessor(gzipLevel: 1)
        var manual = 0
        var ttl = 0
        var passed = 0
        var keys = Set<String>()
        Self.sample.bytes.withUnsafeBytes { all in
            for range in Self.lines {
                switch processor.process(UnsafeRawBufferPointer(rebasing: all[range])) {
                case .archive(let object, let kind):
                    if kind == .ttl { ttl += 1 } else { manual += 1 }
                    #expect(validateArchiveKey(object.key) == nil, "\(object.key)")
                    keys.insert(object.key)
                case .passOver:
                    passed += 1
                case .deadLetter(let error):
                    Issue.record("line at byte \(range.lowerBound) dead-lettered: \(error)")
                }
            }
        }
        let s = Self.sample.summary
        #expect(manual == s.archivedManual && ttl == s.archivedTTL && passed == s.passedOver)
        #expect(keys.count == manual + ttl, "two deletions share a name")
    }

    @Test("sizes have a long tail: most 200 B to 2 KB, some 10 to 50 KB, a few over 100 KB")
    func sizes() {
        var histogram = SizeHistogram()
        var largest = 0
        for range in Self.lines {
            histogram.count(range.count)
            largest = max(largest, range.count)
        }
        let s = Self.sample.summary
        #expect(histogram == s.sizes)
        #expect(largest == s.largestRecord)
        #expect(Double(histogram.from200BTo2KB) / Double(s.records) > 0.85, "\(histogram)")
        #expect(histogram.from10KBTo50KB >= 50, "\(histogram)")
        #expect(histogram.over100KB >= 3, "\(histogram)")
        #expect(histogram.under200B == 0)
    }

    @Test("items hold every DynamoDB type, unicode and awkward key values")
    func variety() {
        let text = String(decoding: Self.sample.bytes, as: UTF8.self)
        for tag in ["S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"] {
            let found = text.contains("{\"\(tag)\":")
            #expect(found, "no \(tag) value")
        }
        for needle in ["東京", "Zoë", "🚀", "مرحبا", #""12345678901234567890123456789012345678""#, #""id":{"N":"-"#,
                       #""digest":{"B":""#, #""PK":{"S":"USER#../../etc/passwd"}"#, #""userIdentity":{"type":"Service""#,
                       #""ApproximateCreationDateTime":""#] {
            let found = text.contains(needle)
            #expect(found, "no \(needle)")
        }
        let fractional = text.range(of: #""ApproximateCreationDateTime":\d+\.\d+,"#, options: .regularExpression) != nil
        #expect(fractional, "no fractional time")
    }

    @Test("sequence numbers increase; event times stay within the days given and do not go back")
    func sequenceAndTime() throws {
        let scanner = RecordScanner()
        var previous = ""
        var previousTime = Self.start
        let end = Self.start + 6 * 86_400
        try Self.sample.bytes.withUnsafeBytes { all in
            for range in Self.lines {
                let record = try scanner.scan(UnsafeRawBufferPointer(rebasing: all[range]))
                let sequence = try #require(record.sequenceNumber)
                #expect(sequence.count >= 21 && sequence.allSatisfy(\.isNumber))
                #expect((sequence.count, sequence) > (previous.count, previous), "\(sequence) after \(previous)")
                previous = sequence
                let time = try DeletionTime(try #require(record.eventTime)).epochSeconds
                #expect(time >= Self.start && time < end)
                #expect(time >= previousTime - 120, "time goes back from \(previousTime) to \(time)")
                previousTime = time
            }
        }
    }

    @Test("images are valid DynamoDB JSON (restore can read them)")
    func imagesParse() throws {
        for (index, range) in Self.lines.enumerated() where index % 25 == 0 {
            let record = try JSONValue.parse(Array(Self.sample.bytes[range]))
            let dynamodb = try #require(record["dynamodb"])
            for image in ["NewImage", "OldImage"] {
                guard let value = dynamodb[image] else { continue }
                #expect(throws: Never.self, "line \(index + 1) \(image)") { _ = try Item(dynamoJSON: value) }
            }
        }
    }

    @Test("the start date and the days are checked")
    func options() throws {
        #expect(FeedGenerator.parseDate("2024-02-29") == 1_709_164_800)
        #expect(FeedGenerator.parseDate("1970-01-01") == 0)
        for bad in ["2023-02-29", "2024-13-01", "2024-1-01", "2024-01-01T00:00:00Z", "yesterday", "", "0000-01-01"] {
            #expect(FeedGenerator.parseDate(bad) == nil, "\(bad)")
        }
        #expect(throws: FeedGeneratorError.self) { try FeedGenerator(startDate: "2024-02-30") }
        #expect(throws: FeedGeneratorError.self) { try FeedGenerator(startDate: "2024-01-01", days: 0) }
        #expect(throws: FeedGeneratorError.self) { try FeedGenerator(startDate: "9999-12-30", days: 7) }
        #expect(throws: FeedGeneratorError.self) { try FeedGenerator(startDate: "1969-12-31", days: 1) }
        let one = try FeedGenerator(seed: 9, startDate: "2024-03-10", days: 1).generate(records: 1)
        #expect(one.summary.records == 1 && one.bytes.last == UInt8(ascii: "\n"))
        let none = FeedGenerator().generate(records: 0)
        #expect(none.bytes.isEmpty && none.summary.records == 0)
    }

    @Test("the summary is JSON with the tail summary's names")
    func summaryJSON() throws {
        let json = try JSONSerialization.jsonObject(with: try Self.sample.summary.json()) as? [String: Any]
        for name in ["records", "insert", "modify", "remove", "remove_manual", "remove_ttl", "archived", "archived_manual",
                     "archived_ttl", "passed_over", "dead_lettered", "bytes", "sizes", "seed", "start", "days"] {
            #expect(json?[name] != nil, "no \(name)")
        }
        #expect(json?["start"] as? String == "2024-01-29")
    }

    // MARK: The static fixture

    /// `fixtures/feed.jsonl` archives as `fixtures/expected-feed-summary.json` (written by
    /// scripts/make-fixtures.py, independently of this code) says: counts, dead letters by line, every key.
    @Test("fixtures/feed.jsonl gives what expected-feed-summary.json says")
    func staticFeed() throws {
        let folder = URL(fileURLWithPath: PackagePaths.root).appendingPathComponent("fixtures")
        let feed = try #require(FileManager.default.contents(atPath: folder.appendingPathComponent("feed.jsonl").path))
        let expectedData = try #require(FileManager.default.contents(atPath: folder.appendingPathComponent("expected-feed-summary.json").path))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let expected = try decoder.decode(ExpectedFeed.self, from: expectedData)

        let bytes = Array(feed)
        let processor = RecordProcessor()
        let scanner = RecordScanner()
        var observed = ExpectedFeed()
        for (index, range) in lineRanges(bytes).enumerated() {
            let line = index + 1
            let record = recordBytes(ofLine: Array(bytes[range]))
            observed.read += 1
            if let scanned = try? scanner.scan(record) {
                switch scanned.eventName {
                case .insert: observed.insert += 1
                case .modify: observed.modify += 1
                case .remove: observed.remove += 1
                }
            }
            switch record.withUnsafeBytes({ processor.process($0) }) {
            case .archive(let object, let kind):
                observed.archived += 1
                if kind == .ttl { observed.archivedTtl += 1 } else { observed.archivedManual += 1 }
                observed.archivedKeys.append(.init(line: line, key: object.key))
                observed.archivedByDay[String(object.key.prefix(10)), default: 0] += 1
                #expect(validateArchiveKey(object.key) == nil, "line \(line): \(object.key)")
                #expect(ArchiveKey(path: object.key)?.path == object.key, "line \(line): \(object.key) does not read back")
                #expect(try gunzip(object.body) == record, "line \(line)")
            case .passOver:
                observed.passedOver += 1
            case .deadLetter(let error):
                observed.deadLettered += 1
                observed.deadLetters.append(.init(line: line, code: error.code))
            }
        }
        #expect(observed.read == expected.read)
        #expect(observed.insert == expected.insert)
        #expect(observed.modify == expected.modify)
        #expect(observed.remove == expected.remove)
        #expect(observed.archived == expected.archived)
        #expect(observed.archivedManual == expected.archivedManual)
        #expect(observed.archivedTtl == expected.archivedTtl)
        #expect(observed.passedOver == expected.passedOver)
        #expect(observed.deadLettered == expected.deadLettered)
        #expect(observed.deadLetters == expected.deadLetters)
        #expect(observed.archivedByDay == expected.archivedByDay)
        #expect(observed.archivedKeys.count == expected.archivedKeys.count)
        for (seen, wanted) in zip(observed.archivedKeys, expected.archivedKeys) {
            #expect(seen == wanted)
        }
        // The fixture covers what its README promises.
        #expect(expected.archivedTtl > 0 && expected.archivedManual > 0 && expected.insert > 0 && expected.modify > 0)
        #expect(Set(expected.archivedByDay.keys.map { $0.prefix(7) }).count >= 2, "the feed should span two months")
        #expect(expected.deadLetters.contains { $0.code == "no-old-image" })
    }
}

/// `fixtures/expected-feed-summary.json`.
struct ExpectedFeed: Decodable, Equatable {
    struct DeadLetter: Decodable, Equatable {
        var line: Int
        var code: String
    }

    struct Key: Decodable, Equatable {
        var line: Int
        var key: String
    }

    var read = 0
    var insert = 0
    var modify = 0
    var remove = 0
    var archived = 0
    var archivedManual = 0
    var archivedTtl = 0
    var passedOver = 0
    var deadLettered = 0
    var deadLetters: [DeadLetter] = []
    var archivedByDay: [String: Int] = [:]
    var archivedKeys: [Key] = []
}

/// The byte ranges of the lines of `bytes` (without their newlines).
func lineRanges(_ bytes: [UInt8]) -> [Range<Int>] {
    var ranges: [Range<Int>] = []
    var start = 0
    for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
        ranges.append(start..<index)
        start = index + 1
    }
    if start < bytes.count { ranges.append(start..<bytes.count) }
    return ranges
}
