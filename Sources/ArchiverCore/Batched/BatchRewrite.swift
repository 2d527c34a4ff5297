import Crypto
import Foundation
import Logging

/// Rewrites batched objects without some of their records: the primitive erasure needs.
///
/// The index is the switch. For each object holding records to drop:
/// 1. the object its index says it `replaces` (a rewrite cut short after its switch) is deleted;
/// 2. a new object holding the other records (their members and newline members copied byte for byte) is written
///    under a new name, derived from the records it keeps (`<id>.<generation>`), so doing it again writes the same;
/// 3. the index is replaced, in one write, by one that lists the kept records in the new object and names the old
///    one as replaced: from this moment readers see the new object and only it;
/// 4. the old object is deleted.
/// An object left with no record has its index deleted first, then the object.
///
/// A process killed at any step leaves every record it was not asked to drop readable exactly once (through the
/// one index, in the old or the new object), and running the same rewrite again finishes it.
public struct BatchRewriter: Sendable {
    public let store: any ArchiveStore
    public var logger = Logger(label: "archiver.rewrite")

    public init(store: any ArchiveStore) {
        self.store = store
    }

    /// What a rewrite did to one object.
    public struct Outcome: Sendable, Equatable {
        /// The object's index.
        public var index: String
        /// The object the records were in, and the one holding the rest now (nil when none is left).
        public var from: String
        public var to: String?
        /// Records dropped, records kept.
        public var dropped: Int
        public var kept: Int
    }

    /// Drops the records with these keys (as `ls` prints them) from the objects holding them. Every index that
    /// could list a key is looked at, so a rewrite that was cut short is finished even when its records are gone.
    /// - Returns: one outcome per object changed.
    public func drop(keys: [String]) async throws -> [Outcome] {
        let archive = BatchedArchive(store: store)
        var byIndex: [String: Set<String>] = [:]
        for key in Set(keys) {
            for index in try await archive.candidates(key) { byIndex[index, default: []].insert(key) }
        }
        var outcomes: [Outcome] = []
        for (index, keys) in byIndex.sorted(by: { $0.key < $1.key }) {
            if let outcome = try await rewrite(index: index, without: keys) { outcomes.append(outcome) }
        }
        return outcomes
    }

    /// Rewrites the object of one index without the records `keys`; nil when it holds none of them (after
    /// finishing the deletion of an object an earlier rewrite replaced).
    public func rewrite(index indexKey: String, without keys: Set<String>) async throws -> Outcome? {
        guard let name = BatchedObjectName(indexKey: indexKey) else { throw BatchIndexError("\(indexKey) is not the key of a batched index") }
        let index = try BatchIndex.decode(try await store.get(indexKey), key: indexKey)
        if let replaced = index.replaces, replaced != index.object { try await store.delete([replaced]) }
        if index.entries.isEmpty {
            // An object emptied by an earlier rewrite, cut short before its index went.
            try await store.delete([indexKey])
            return nil
        }
        let kept = index.entries.filter { !keys.contains($0.key) }
        guard kept.count < index.entries.count else { return nil }
        if kept.isEmpty {
            // The switch is an index listing nothing; then the object goes, then the index.
            try await put(ArchiveObject(key: indexKey, body: BatchIndex(object: "", objectBytes: 0, entries: [], replaces: index.object).encoded()))
            try await store.delete([index.object])
            try await store.delete([indexKey])
            logger.info("deleted a batched object and its index: none of its records is kept", metadata: ["s3.key": "\(index.object)"])
            return Outcome(index: indexKey, from: index.object, to: nil, dropped: index.entries.count, kept: 0)
        }
        let old = try await store.get(index.object)
        guard Int64(old.count) == index.objectBytes else {
            throw BatchIndexError("the object \(index.object) is \(old.count) bytes, its index \(indexKey) says \(index.objectBytes); it is not rewritten")
        }

        // Each kept record's member and the newline member after it, as they are.
        var body: [UInt8] = []
        var entries: [BatchIndexEntry] = []
        let ends = index.entries.dropFirst().map(\.offset) + [index.objectBytes]
        for (entry, end) in zip(index.entries, ends) where !keys.contains(entry.key) {
            var moved = entry
            moved.offset = Int64(body.count)
            body += old[Int(entry.offset)..<Int(end)]
            entries.append(moved)
        }
        var newName = name
        newName.records = entries.count
        newName.first = entries.map { RecordKeyParts($0.key)?.secondsOfDay ?? name.first }.min() ?? name.first
        newName.last = entries.map { RecordKeyParts($0.key)?.secondsOfDay ?? name.last }.max() ?? name.last
        newName.generation = String(BatchedObjectName.id(ofKeys: entries.map(\.key)).prefix(8))
        let rewritten = BatchIndex(object: newName.dataKey, objectBytes: Int64(body.count), entries: entries, replaces: index.object)

        try await put(ArchiveObject(key: newName.dataKey, body: body, metadata: ["archiver-layout": "batched", "archiver-records": "\(entries.count)"]))
        try await put(ArchiveObject(key: indexKey, body: rewritten.encoded(), metadata: ["archiver-layout": "batched-index"]))
        if index.object != newName.dataKey { try await store.delete([index.object]) }
        logger.info("rewrote a batched object without some of its records",
                    metadata: ["s3.key": "\(index.object)", "rewritten": "\(newName.dataKey)", "dropped": "\(index.entries.count - entries.count)"])
        return Outcome(index: indexKey, from: index.object, to: newName.dataKey, dropped: index.entries.count - entries.count, kept: entries.count)
    }

    private func put(_ object: ArchiveObject) async throws {
        if let failure = await store.put([object]).values.first { throw failure }
    }
}
