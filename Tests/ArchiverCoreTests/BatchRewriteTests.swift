import ArchiverCore
import Foundation
import Testing
import TestSupport

@Suite("Rewriting a batched object without some records (erasure's primitive)")
struct BatchRewriteTests {
    /// Every record an index lists, with its member's bytes, read through the indexes as every command reads.
    static func records(_ store: any ArchiveStore) async throws -> [(key: String, member: [UInt8])] {
        var result: [(String, [UInt8])] = []
        for read in try await BatchedFixture.indexes(store) where !read.index.entries.isEmpty {
            let object = try await store.get(read.index.object)
            for entry in read.index.entries { result.append((entry.key, Array(object[Int(entry.offset)..<Int(entry.offset + entry.length)]))) }
        }
        return result
    }

    static func copy(_ f: BatchedFixture, _ from: String, _ to: String) throws {
        try? FileManager.default.removeItem(atPath: f.folder(to))
        try FileManager.default.copyItem(atPath: f.folder(from), toPath: f.folder(to))
    }

    /// Kills the rewrite before each of its writes and deletions in turn; after each kill every other record is
    /// readable exactly once with its bytes, the dropped ones all or none; running it again finishes it.
    func killAtEveryStep(dropping choose: ([BatchIndexEntry]) -> [String]) async throws {
        let f = try BatchedFixture(records: 1200, label: "rewrite")
        defer { f.folder.remove() }
        try await f.tail("original", state: "s")
        let original = try LocalArchiveStore(path: f.folder("original"), access: .readOnly)
        let before = Dictionary(uniqueKeysWithValues: try await Self.records(original).map { ($0.key, $0.member) })
        let victim = try #require(try await BatchedFixture.indexes(original).first { $0.index.entries.count >= 6 })
        let dropped = Set(choose(victim.index.entries))
        let others = before.filter { !dropped.contains($0.key) }

        // How many writes and deletions a whole rewrite makes.
        try Self.copy(f, "original", "whole")
        let whole = RequestLog(try LocalArchiveStore(path: f.folder("whole"), access: .existing))
        let outcomes = try await BatchRewriter(store: whole).drop(keys: Array(dropped))
        #expect(outcomes.count == 1 && outcomes.first?.dropped == dropped.count)
        let steps = whole.mutationCount
        #expect(steps >= 2)

        for allowed in 0..<steps {
            try Self.copy(f, "original", "killed")
            let store = try LocalArchiveStore(path: f.folder("killed"), access: .existing)
            let killed = RequestLog(store)
            killed.mutationsAllowed = allowed
            await #expect(throws: (any Error).self) { try await BatchRewriter(store: killed).drop(keys: Array(dropped)) }
            let after = try await Self.records(store)
            let keys = after.map(\.key)
            #expect(Set(keys).count == keys.count, "after \(allowed) steps a record is listed twice")
            for (key, member) in others {
                #expect(after.first { $0.key == key }?.member == member, "after \(allowed) steps \(key) is not readable as it was")
            }
            let left = dropped.filter { Set(keys).contains($0) }
            #expect(left.isEmpty || left == dropped, "after \(allowed) steps only some dropped records are gone")
            // Again, to the end.
            _ = try await BatchRewriter(store: store).drop(keys: Array(dropped))
            let finished = try await Self.records(store)
            #expect(Set(finished.map(\.key)) == Set(others.keys) && finished.count == others.count)
            #expect(finished.allSatisfy { others[$0.key] == $0.member })
            let objects = f.folder.files(under: "killed").filter { $0.hasSuffix(".jsonl.gz") }
            let indexed = try await BatchedFixture.indexes(store).map(\.index.object).filter { !$0.isEmpty }
            #expect(Set(objects) == Set(indexed), "after \(allowed) steps and a second run, objects without an index are left: \(Set(objects).subtracting(indexed))")
        }
        #expect(try f.tree("killed") == f.tree("whole"), "a rewrite killed and run again ends as one that was not")
    }

    @Test func droppingSomeRecordsSurvivesAKillAtEveryStep() async throws {
        try await killAtEveryStep { entries in [entries[0].key, entries[3].key, entries[entries.count - 1].key] }
    }

    @Test func droppingEveryRecordOfAnObjectSurvivesAKillAtEveryStep() async throws {
        try await killAtEveryStep { entries in entries.map(\.key) }
    }

    @Test func theRewrittenObjectIsJSONLinesOfTheKeptRecordsUnderANewNameAndItsIndexStaysPut() async throws {
        let f = try BatchedFixture(records: 800, label: "rewrite-name")
        defer { f.folder.remove() }
        try await f.tail("a", state: "s")
        let store = try LocalArchiveStore(path: f.folder("a"), access: .existing)
        let victim = try #require(try await BatchedFixture.indexes(store).first { $0.index.entries.count >= 4 })
        let drop = victim.index.entries[1].key
        let oldObject = try await store.get(victim.index.object)
        let expected: [UInt8] = try victim.index.entries.filter { $0.key != drop }.flatMap { entry -> [UInt8] in
            try gunzip(Array(oldObject[Int(entry.offset)..<Int(entry.offset + entry.length)])) + [0x0A]
        }
        let outcome = try #require(try await BatchRewriter(store: store).rewrite(index: victim.key, without: [drop]))
        let rewritten = try #require(outcome.to)
        let name = try #require(BatchedObjectName(dataKey: rewritten))
        #expect(name.generation != nil && name.id == victim.name.id && name.records == victim.index.entries.count - 1)
        #expect(try await store.head(victim.index.object) == nil, "the old object is gone")
        let index = try BatchIndex.decode(try await store.get(victim.key), key: victim.key)
        #expect(index.object == outcome.to && index.replaces == victim.index.object)
        #expect(try gunzip(try await store.get(name.dataKey)) == expected, "gunzip of the new object is the kept records as JSON lines")
        #expect(try await BatchRewriter(store: store).rewrite(index: victim.key, without: [drop]) == nil, "done once, nothing more to do")
        let restored = CollectingTarget()
        let kept = victim.index.entries[2].key
        #expect(try await ArchiveRestorer(store: store, target: restored).restore(key: kept) == .restored)
        await #expect(throws: RestoreError.self) { try await ArchiveRestorer(store: store, target: restored).restore(key: drop) }
    }
}
