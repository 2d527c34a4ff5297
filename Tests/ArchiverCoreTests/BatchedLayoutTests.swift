import ArchiverCore
import Foundation
import Testing
import TestSupport

@Suite("Batched layout: names, indexes, members, cut rules, the manifest")
struct BatchedLayoutTests {
    @Test func namesReadBackAndAreNeverPerRecordKeys() throws {
        let name = BatchedObjectName(datePath: "2024/01/15", first: 37_800, last: 38_699, records: 1234, id: "3f2a9c0e5b7d1a46")
        #expect(name.dataKey == "2024/01/15/103000-104459.1234r.3f2a9c0e5b7d1a46.jsonl.gz")
        #expect(name.indexKey == "2024/01/15/_103000-104459.3f2a9c0e5b7d1a46.index.gz")
        #expect(BatchedObjectName(dataKey: name.dataKey) == name)
        var rewritten = name
        rewritten.generation = "0badcafe"
        #expect(BatchedObjectName(dataKey: rewritten.dataKey) == rewritten)
        #expect(rewritten.indexKey == name.indexKey, "a rewritten object keeps its index")
        let index = try #require(BatchedObjectName(indexKey: name.indexKey))
        #expect(index.id == name.id && index.first == name.first && index.last == name.last)
        for key in [name.dataKey, name.indexKey, rewritten.dataKey, LayoutManifest.key] {
            #expect(ArchiveKey(path: key) == nil, "\(key) must not read as a per-record key")
            #expect(validateArchiveKey(key) == nil, "\(key) must be a valid archive key")
        }
        for bad in ["2024/01/15/103000-104459.0r.3f2a9c0e5b7d1a46.jsonl.gz", "2024/01/15/104459-103000.3r.3f2a9c0e5b7d1a46.jsonl.gz",
                    "2024/01/15/103000-104459.3r.3F2A9C0E5B7D1A46.jsonl.gz", "2024/01/15/246000-246000.3r.3f2a9c0e5b7d1a46.jsonl.gz",
                    "2024/01/15/_103000-104459.3f2a9c0e5b7d1a46.jsonl.gz", "2024/01/15/103000-104459.3f2a9c0e5b7d1a46.index.gz",
                    "2024/01/USER#1.103000.1.manual.json.gz"] {
            #expect(!BatchedObjectName.isBatched(bad), "\(bad)")
        }
    }

    @Test func anIndexOfManyRecordsIsSeveralGzipMembersAndReadsBack() throws {
        let entries = (0..<20_000).map { i in
            BatchIndexEntry(key: "2024/01/15/USER#\(i)_caf\u{e9}.103000.\(i).manual.json.gz", item: "USER#\(i)_caf\u{e9}", kind: i % 3 == 0 ? .ttl : .manual,
                            deletedAt: "2024-01-15T10:30:00Z", sequence: "\(i)", offset: Int64(i * 100), length: 90)
        }
        let index = BatchIndex(object: "2024/01/15/103000-103000.20000r.0123456789abcdef.jsonl.gz", objectBytes: 2_000_000, entries: entries)
        let bytes = index.encoded()
        let members = bytes.indices.dropLast(2).filter { bytes[$0] == 0x1F && bytes[$0 + 1] == 0x8B && bytes[$0 + 2] == 0x08 }.count
        #expect(members >= 3, "the text is over 3 MiB: it is compressed a MiB at a time")
        #expect(try BatchIndex.decode(bytes, key: "i") == index)
        let text = String(decoding: try gunzip(bytes), as: UTF8.self)
        #expect(text.split(separator: "\n").count == entries.count + 1)
        #expect(throws: BatchIndexError.self) { try BatchIndex.decode(GzipEncoder().compress(Array("{\"x\":1}\n".utf8)), key: "i") }
    }

    @Test func everyMemberIsThePerRecordObjectAndTheWholeObjectIsJSONLines() async throws {
        let f = try BatchedFixture(records: 2500)
        defer { f.folder.remove() }
        let perRecord = try await f.tail("per-record", state: "s1", layout: .perRecord)
        let batched = try await f.tail("batched", state: "s2")
        #expect(batched.archived == perRecord.archived && batched.archived == f.counts.removes)
        #expect(batched.read == batched.archived + batched.passedOver + batched.deadLettered)
        let store = try LocalArchiveStore(path: f.folder("batched"), access: .readOnly)
        let indexes = try await BatchedFixture.indexes(store)
        #expect(indexes.count == batched.objects, "one index per object written")
        var keys: [String] = []
        for read in indexes {
            let object = try await store.get(read.index.object)
            #expect(Int64(object.count) == read.index.objectBytes)
            var lines: [UInt8] = []
            for entry in read.index.entries {
                let member = Array(object[Int(entry.offset)..<Int(entry.offset + entry.length)])
                let perRecordObject = Array(try Data(contentsOf: URL(fileURLWithPath: f.folder("per-record/" + entry.key))))
                #expect(member == perRecordObject, "the member of \(entry.key) is not the per-record object")
                lines += try gunzip(member) + [0x0A]
                let key = try #require(ArchiveKey(path: entry.key))
                #expect(entry.item == key.itemKey && entry.kind == key.kind && entry.sequence == key.sequence && entry.deletedAt == key.time.description)
            }
            #expect(try gunzip(object) == lines, "gunzip of \(read.index.object) is not its records as JSON lines")
            let name = try #require(BatchedObjectName(dataKey: read.index.object))
            #expect(name.records == read.index.entries.count)
            #expect(name.id == BatchedObjectName.id(ofKeys: read.index.entries.map(\.key)))
            keys += read.index.entries.map(\.key)
        }
        #expect(keys.sorted() == f.folder.files(under: "per-record").sorted(), "every record is listed exactly once")
    }

    @Test func objectsAreCutByDayCountSizeAndWindow() async throws {
        let f = try BatchedFixture(records: 4000)
        defer { f.folder.remove() }
        let limits = BatchLimits(maxBytes: 10 * 1024, maxRecords: 25, minBytes: 3 * 1024, window: 3600)
        try await f.tail("a", state: "s", limits: limits)
        let store = try LocalArchiveStore(path: f.folder("a"), access: .readOnly)
        var cutBySize = 0
        var cutByCount = 0
        var spanningWindows = 0
        for read in try await BatchedFixture.indexes(store) {
            let name = try #require(BatchedObjectName(dataKey: read.index.object))
            let entries = read.index.entries
            #expect(entries.allSatisfy { $0.key.hasPrefix(name.datePath + "/") }, "an object holds one day")
            #expect(entries.count <= limits.maxRecords)
            #expect(read.index.objectBytes <= Int64(limits.maxBytes) || entries.count == 1)
            // A window changes inside an object only while the object is still under the minimum.
            for (a, b) in zip(entries, entries.dropFirst())
            where RecordTime.seconds(a.deletedAt) / limits.window != RecordTime.seconds(b.deletedAt) / limits.window {
                spanningWindows += 1
                #expect(b.offset < Int64(limits.minBytes), "\(read.index.object) went on into the next window at \(b.offset) bytes")
            }
            if entries.count == limits.maxRecords { cutByCount += 1 }
            if read.index.objectBytes > Int64(limits.maxBytes) - 2048 { cutBySize += 1 }
        }
        #expect(cutByCount > 0 && cutBySize > 0, "the feed meets the count and size limits (\(cutByCount), \(cutBySize))")
        // The sample feed spaces records 37 s apart: at 25 records an object spans about 15 minutes, within an hour.
        #expect(spanningWindows > 0, "objects under the minimum went on into the next window")
    }

    @Test func aBatchedArchiveIsDeclaredOnceAndASecondLayoutIsRefused() async throws {
        let folder = TemporaryFolder("manifest")
        defer { folder.remove() }
        let batched = try LocalArchiveStore(path: folder("batched"))
        #expect(try await LayoutManifest.prepare(batched, requested: .batched) == .batched)
        #expect(try await batched.get(LayoutManifest.key) == LayoutManifest.body(.batched))
        #expect(try await LayoutManifest.prepare(batched, requested: nil) == .batched, "no layout asked for: the archive's")
        let refused = await #expect(throws: LayoutError.self) { try await LayoutManifest.prepare(batched, requested: .perRecord) }
        #expect(refused?.kind == .mismatch)
        #expect(refused?.description.contains("--layout batched") == true, "\(String(describing: refused))")

        let perRecord = try LocalArchiveStore(path: folder("per-record"))
        #expect(try await LayoutManifest.prepare(perRecord, requested: nil) == .perRecord)
        #expect(try await LayoutManifest.prepare(perRecord, requested: .perRecord) == .perRecord)
        #expect(try await perRecord.head(LayoutManifest.key) == nil, "a per-record archive is written as before: no manifest")
        _ = await perRecord.put([ArchiveObject(key: "2024/01/15/USER#1.103000.1.manual.json.gz", body: GzipEncoder().compress([0x7B, 0x7D]))])
        let mixed = await #expect(throws: LayoutError.self) { try await LayoutManifest.prepare(perRecord, requested: .batched) }
        #expect(mixed?.description.contains("USER#1.103000.1.manual.json.gz") == true, "\(String(describing: mixed))")
        #expect(try await perRecord.head(LayoutManifest.key) == nil)

        _ = await perRecord.put([ArchiveObject(key: LayoutManifest.key, body: Array(#"{"archiver_archive":1,"layout":"columnar"}"#.utf8))])
        let unknown = await #expect(throws: LayoutError.self) { try await LayoutManifest.layout(of: perRecord) }
        #expect(unknown?.kind == .unreadable)
        #expect(unknown?.description.contains("columnar") == true)
    }
}

/// Seconds after midnight of `2024-01-15T10:30:00Z`.
enum RecordTime {
    static func seconds(_ text: String) -> Int {
        let time = text.split(separator: "T")[1].dropLast().split(separator: ":").compactMap { Int($0) }
        return time[0] * 3600 + time[1] * 60 + time[2]
    }
}
