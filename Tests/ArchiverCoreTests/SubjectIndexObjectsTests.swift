@testable import ArchiverCore
import Foundation
import JSONToolkit
import Testing

/// The archive's subject index objects: deterministic bytes and names, one per day, read back as written, a wrong
/// key refused, the erasure's search by day and time, and their age under a lifecycle expiry.
@Suite("Subject index objects: names, bytes, reading back, lifecycle")
struct SubjectIndexObjectsTests {
    static func hmac(_ n: Int) -> String { String(repeating: String(format: "%02x", n), count: 32) }

    /// Record `i` of subject `i % 3`, deleted `i` minutes after 2024-01-15 23:30 UTC (the first 30 on the 15th).
    static func marks(_ range: Range<Int>) -> [SubjectMark] {
        range.map { i in
            let time = DeletionTime(epochSeconds: 1_705_361_400 + Int64(i) * 60)!
            return SubjectMark(hmac: hmac(i % 3), archiveKey: "\(time.datePath)/ITEM#\(i).\(time.compactTime).\(900_000 + i).manual.json.gz")
        }
    }

    @Test func aBatchGivesOneObjectPerDayWhoseBytesAndNameDependOnItsRecordsOnly() throws {
        let marks = Self.marks(0..<60)
        let objects = SubjectIndexObjects.objects(for: marks, keyID: "0123456789abcdef")
        try #require(objects.count == 2)
        let ids = objects.map { String($0.key.split(separator: ".")[2]) }
        let expected: [String] = ["_subjects/2024/01/15/233000-235900.30s.\(ids[0]).jsonl.gz", "_subjects/2024/01/16/000000-002900.30s.\(ids[1]).jsonl.gz"]
        #expect(objects.map(\.key) == expected)
        #expect(ids.allSatisfy { $0.count == 16 })
        let shuffled = SubjectIndexObjects.objects(for: marks.shuffled() + marks.prefix(5), keyID: "0123456789abcdef")
        #expect(shuffled.map(\.key) == objects.map(\.key) && shuffled.map(\.body) == objects.map(\.body), "same records, same bytes and names")
        let other = SubjectIndexObjects.objects(for: Array(marks.dropFirst()), keyID: "0123456789abcdef")
        #expect(other[0].key != objects[0].key && other[1].key == objects[1].key)

        // Each line's deletion time is the one its archive key names.
        for line in String(decoding: try gunzip(objects[1].body), as: UTF8.self).split(separator: "\n").dropFirst() {
            let value = try JSONValue.parse(String(line))
            let key = try #require(value["key"]?.stringValue.flatMap(ArchiveKey.init(path:)))
            #expect(value["deleted_at"]?.stringValue == key.time.description, "\(line)")
        }
        let read = try SubjectIndexObjects.read(objects[0].body, key: objects[0].key)
        #expect(read.keyID == "0123456789abcdef")
        #expect(read.lines.map { SubjectMark(hmac: $0.subject, archiveKey: $0.archiveKey) }.sorted { $0.archiveKey < $1.archiveKey }
                == marks.prefix(30).sorted { $0.archiveKey < $1.archiveKey })
        let name = try #require(SubjectIndexObjects.Name(key: objects[0].key))
        #expect(name.datePath == "2024/01/15" && name.first == 23 * 3600 + 30 * 60 && name.last == 23 * 3600 + 59 * 60)
        #expect(ArchiveKey(path: objects[0].key) == nil && BatchedObjectName(dataKey: objects[0].key) == nil && BatchedObjectName(indexKey: objects[0].key) == nil,
                "no reader of records takes it")
        #expect(SubjectIndexObjects.Name(key: "2024/01/15/233000-235900.30s.0011223344556677.jsonl.gz") == nil)
        #expect(throws: SubjectIndexObjectError.self) { try SubjectIndexObjects.read(Array("not gzip".utf8), key: "x") }
    }

    @Test func anErasureFindsTheObjectsNamingItsSubjectByDayAndTimeAndRewritesThemWithoutIt() async throws {
        let folder = NSTemporaryDirectory() + "archiver-subject-objects-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try LocalArchiveStore(path: folder)
        let first = SubjectIndexObjects.objects(for: Self.marks(0..<60), keyID: "k")
        let second = SubjectIndexObjects.objects(for: Self.marks(60..<90), keyID: "k")
        #expect(await store.put(first + second).isEmpty)
        let reader = SubjectIndexObjectReader(store: store)
        // Subject 0's record 3 (15th, 23:33) is in the first object only; record 93 is not indexed anywhere.
        let found = try await reader.naming(Self.hmac(0), records: [Self.marks(0..<4)[3].archiveKey, Self.marks(93..<94)[0].archiveKey])
        #expect(found.map(\.key) == [first[0].key])

        var rows: [SubjectMark] = []
        let all = try await reader.run(keyID: "k") { rows += $0 }
        #expect(all.objects == 3 && all.rows == 90 && all.covered.count == 90 && rows.count == 90)
        await #expect(throws: SubjectIndexObjectError.self) { try await reader.run(keyID: "another") { _ in } }
    }

    /// An erasure reads an object for one subject's lines without decoding the others, and its rewrite keeps every
    /// other line as written: for an object this archiver wrote, the same bytes as one written without the subject.
    @Test func aScanFindsOneSubjectsLinesAndTheRewriteKeepsEveryOtherLineAsWritten() throws {
        let marks = Self.marks(0..<30)
        let object = try #require(SubjectIndexObjects.objects(for: marks, keyID: "k").first)
        let scan = try SubjectIndexObjects.scan(object.body, key: object.key, subject: Self.hmac(0))
        #expect(scan.keyID == "k" && scan.count == 30 && scan.named.count == 10)
        let rewritten = try #require(SubjectIndexObjects.rewritten(scan, key: object.key))
        let without = try #require(SubjectIndexObjects.objects(for: marks.filter { $0.hmac != Self.hmac(0) }, keyID: "k").first)
        #expect(rewritten.key == object.key, "replaced under its name")
        #expect(try gunzip(rewritten.body) == gunzip(without.body), "the same text as an object written without the subject")
        #expect(try SubjectIndexObjects.scan(object.body, key: object.key, subject: Self.hmac(7)).named.isEmpty)

        // Lines in other shapes (written by hand, spaces, upper-case digits, another member order) are decoded; the
        // kept ones stay byte for byte.
        let key = "2024/01/15/ITEM#1.233000.900001.manual.json.gz"
        let kept = [
            #"{"subject":"\#(Self.hmac(1))","key":"\#(key)","deleted_at":"2024-01-15T23:30:00Z"}"#,
            #"{"key":"\#(key)", "subject":"\#(Self.hmac(2))"}"#,
        ]
        let dropped = [
            #"{ "subject" : "\#(Self.hmac(0).uppercased())", "key": "\#(key)" }"#,
            #"{"subject":"\#(Self.hmac(0).uppercased())","key":"\#(key)","deleted_at":"2024-01-15T23:30:00Z"}"#,
        ]
        let header = #"{"archiver_subject_index":1,"key_id":"k","records":4}"#
        let text = ([header, kept[0], dropped[0], kept[1], dropped[1]].joined(separator: "\n") + "\n")
        let hand = try SubjectIndexObjects.scan(GzipEncoder().compress(Array(text.utf8)), key: "hand", subject: Self.hmac(0))
        #expect(hand.named == [1, 3])
        let out = try #require(SubjectIndexObjects.rewritten(hand, key: "hand"))
        #expect(String(decoding: try gunzip(out.body), as: UTF8.self) == #"{"archiver_subject_index":1,"key_id":"k","records":2}"# + "\n" + kept.joined(separator: "\n") + "\n")

        // Every line the subject's: nothing left to write. A line that is not an entry: an error, as for a rebuild.
        let only = [header, dropped[1]].joined(separator: "\n")
        #expect(SubjectIndexObjects.rewritten(try SubjectIndexObjects.scan(GzipEncoder().compress(Array(only.utf8)), key: "o", subject: Self.hmac(0)), key: "o")?.key == nil)
        let broken = [header, kept[0], #"{"subject": 12}"#].joined(separator: "\n")
        #expect(throws: SubjectIndexObjectError.self) { try SubjectIndexObjects.scan(GzipEncoder().compress(Array(broken.utf8)), key: "b", subject: Self.hmac(0)) }
    }

    @Test func aLifecycleExpiryDeletesAnIndexObjectWithTheLastRecordItNames() async throws {
        let archive = try LifecycleTestArchive()
        let old = DeletionTime(epochSeconds: lifecycleToday.startSeconds - 3000 * 86_400 - 3600)!
        let recent = DeletionTime(epochSeconds: lifecycleToday.startSeconds - 10 * 86_400 - 3600)!
        func mark(_ time: DeletionTime, _ i: Int) -> SubjectMark {
            SubjectMark(hmac: Self.hmac(1), archiveKey: "\(time.datePath)/ITEM#\(i).\(time.compactTime).\(900_000 + i).manual.json.gz")
        }
        let objects = SubjectIndexObjects.objects(for: [mark(old, 1)], keyID: "k") + SubjectIndexObjects.objects(for: [mark(recent, 2)], keyID: "k")
        #expect(await archive.store.put(objects).isEmpty)
        let result = try await LifecyclePlanner(store: archive.store, policy: .default, now: lifecycleNow).enforce(dryRun: false)
        #expect(result.deleted.objects == 1)
        #expect(try await archive.keys() == [objects[1].key], "the index object of a 3,000-day-old record expires with it; the other stays")
    }
}
