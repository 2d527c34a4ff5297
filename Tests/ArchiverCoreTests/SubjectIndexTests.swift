import ArchiverCore
import Foundation
import GRDB
import Testing
import TestSupport

/// The subject index's packed layout: a log row per commit, merged into per-subject groups; lookups read both,
/// replays are read once, and an erasure's removal leaves no entry of the erased records in either table.
@Suite("Subject index: packed log and groups, lookups, replays, removal")
struct SubjectIndexTests {
    static func hmac(_ n: Int) -> String { String(repeating: String(format: "%02x", n), count: 32) }

    @Test func entriesAreFoundInTheLogAndInGroupsOnceEachAndRemovedFromBoth() throws {
        let folder = TemporaryFolder("subject-index")
        defer { folder.remove() }
        let checkpoints = try CheckpointStore(stateFolder: folder("state"))
        let erasures = ErasureStore(checkpoints: checkpoints)
        func marks(_ subject: Int, _ keys: Range<Int>, batched: Bool = false) -> [SubjectMark] {
            keys.map { SubjectMark(hmac: Self.hmac(subject), archiveKey: "2024/01/k\($0).json.gz", objectKey: batched ? "idx/\($0 / 10)" : nil) }
        }
        // Three commits, the second replayed (indexed twice).
        try erasures.index(marks(1, 0..<5) + marks(2, 100..<103))
        try erasures.index(marks(1, 5..<8, batched: true) + marks(2, 103..<104))
        try erasures.index(marks(1, 5..<8, batched: true))
        let found = try erasures.indexed(subjectHMAC: Self.hmac(1))
        #expect(found.map(\.archiveKey) == (0..<8).map { "2024/01/k\($0).json.gz" }.sorted())
        #expect(found.filter { $0.objectKey != nil }.map(\.objectKey) == ["idx/0", "idx/0", "idx/0"])
        #expect(try erasures.indexed(subjectHMAC: Self.hmac(2)).count == 4)
        #expect(try erasures.indexed(subjectHMAC: Self.hmac(3)).isEmpty)
        #expect(try erasures.indexCounts() == (records: 15, subjects: 2))

        // Erasing some records: the log is merged, and the subject's groups are rewritten without them.
        let erased = ["2024/01/k1.json.gz", "2024/01/k6.json.gz"]
        try erasures.record("er-none", events: [], erasedKeys: erased, subjectHMAC: Self.hmac(1))
        let left = try erasures.indexed(subjectHMAC: Self.hmac(1)).map(\.archiveKey)
        #expect(Set(left) == Set((0..<8).map { "2024/01/k\($0).json.gz" }).subtracting(erased))
        #expect(try erasures.indexed(subjectHMAC: Self.hmac(2)).count == 4, "another subject's entries stay")
        let (log, bodies) = try DatabaseQueue(path: checkpoints.path).read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM subject_log") ?? -1, try Data.fetchAll(db, sql: "SELECT body FROM subject_groups"))
        }
        #expect(log == 0)
        #expect(bodies.allSatisfy { body in erased.allSatisfy { body.range(of: Data($0.utf8)) == nil } }, "no entry names an erased record")

        // Every record of the subject erased: its groups are gone; later entries go to the log again.
        try erasures.record("er-none", events: [], erasedKeys: left, subjectHMAC: Self.hmac(1))
        #expect(try erasures.indexed(subjectHMAC: Self.hmac(1)).isEmpty)
        try erasures.index(marks(1, 50..<51))
        #expect(try erasures.indexed(subjectHMAC: Self.hmac(1)).map(\.archiveKey) == ["2024/01/k50.json.gz"])
        #expect(try erasures.indexCounts() == (records: 5, subjects: 2))
    }

    @Test func aStateDatabaseOfTheFirstLayoutIsCarriedOverWhenOpened() throws {
        let folder = TemporaryFolder("subject-index-migration")
        defer { folder.remove() }
        let path = try CheckpointStore(stateFolder: folder("state")).path
        // The state database as the first layout left it: one row per record in subject_index.
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: """
                DROP TABLE subject_log; DROP TABLE subject_groups;
                DELETE FROM grdb_migrations WHERE identifier = 'subject-index-packed';
                CREATE TABLE subject_index (subject_hmac TEXT NOT NULL, archive_key TEXT NOT NULL, object_key TEXT,
                    archived_at REAL NOT NULL, PRIMARY KEY (subject_hmac, archive_key)) WITHOUT ROWID;
                """)
            for (subject, key, object) in [(1, "a", nil), (1, "b", "idx/1"), (2, "c", nil)] as [(Int, String, String?)] {
                try db.execute(sql: "INSERT INTO subject_index VALUES (?, ?, ?, ?)", arguments: [Self.hmac(subject), key, object, 1_706_000_000.5])
            }
        }
        let erasures = ErasureStore(checkpoints: try CheckpointStore(stateFolder: folder("state")))
        let found = try erasures.indexed(subjectHMAC: Self.hmac(1))
        #expect(found.map(\.archiveKey) == ["a", "b"] && found.map(\.objectKey) == [nil, "idx/1"])
        #expect(found.allSatisfy { $0.archivedAt == Date(timeIntervalSince1970: 1_706_000_000.5) })
        #expect(try erasures.indexCounts() == (records: 3, subjects: 2))
        let old = try DatabaseQueue(path: path).read { db in try db.tableExists("subject_index") }
        #expect(!old)
    }
}
