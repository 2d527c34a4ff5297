import ArchiverCore
import Foundation
import GRDB
import Testing
import TestSupport

/// A tail's batch logs its coordinations in one row; the next coordination transaction spreads them into rows.
@Suite("Coordination log: one row per batch, spread into coordinations by the next coordination transaction")
struct CoordinationLogTests {
    typealias Setup = CoordinationTests.Setup

    static func count(_ setup: Setup, _ sql: String) throws -> Int {
        try DatabaseQueue(path: setup.checkpoints.path).read { db in try Int.fetchOne(db, sql: sql) ?? -1 }
    }

    @Test func aBatchWritesOneLogRowAndNoCoordinationRowsUntilTheStoreIsUsed() async throws {
        let setup = try Setup(records: (1...40).map { CoordinationTests.record($0) })
        let summary = try await setup.tail()
        #expect(summary.archived == 40)
        // The commit wrote the held actions and one log row holding the 40 coordinations; no coordination row yet.
        #expect(try Self.count(setup, "SELECT COUNT(*) FROM coordination_log") == 1)
        #expect(try Self.count(setup, "SELECT SUM(entries) FROM coordination_log") == 40)
        #expect(try Self.count(setup, "SELECT COUNT(*) FROM coordinations") == 0)
        #expect(try Self.count(setup, "SELECT COUNT(*) FROM queue_entries WHERE state = 'held'") == 80)
        // Any use of the store spreads the log first: a listing sees all 40, each with its consumers and its event.
        let listed = try setup.store.list(limit: 1000)
        #expect(listed.count == 40 && listed.allSatisfy { $0.state == .waiting && $0.consumers.count == 2 })
        #expect(try Self.count(setup, "SELECT COUNT(*) FROM coordination_log") == 0)
        #expect(try setup.events().filter { $0.type == "deletion.requested" }.count == 40)
    }

    @Test func aLogRowOfAnotherFormatIsRefusedWithWhatToDoAndNothingChanges() async throws {
        let setup = try Setup(records: [CoordinationTests.record(1)])
        _ = try await setup.tail()
        // The row as a later archiver might write it: format 2 first (LEB128: one byte).
        try await DatabaseQueue(path: setup.checkpoints.path).write { db in
            try db.execute(sql: "UPDATE coordination_log SET packed = X'02' || substr(packed, 2)")
        }
        do {
            _ = try setup.store.list()
            Issue.record("a row of format 2 was read")
        } catch {
            #expect("\(error)".contains("format 2") && "\(error)".contains("reads format 1"), "\(error)")
        }
        #expect(try Self.count(setup, "SELECT COUNT(*) FROM coordination_log") == 1)
        #expect(try Self.count(setup, "SELECT COUNT(*) FROM coordinations") == 0)
    }

    @Test func deadlinesCountFromTheCommitNotFromTheSpread() async throws {
        let setup = try Setup(records: [CoordinationTests.record(1)])
        _ = try await setup.tail()
        // Ten minutes pass before anything reads the log: analytics (5 min) is already late when the rows appear.
        setup.advance(600)
        let tick = try setup.store.tick(now: setup.clock.now())
        #expect(tick.timedOutConsumers == 1)
        let view = try #require(try setup.store.list().first)
        #expect(view.createdAt == CoordinationTests.start)
        #expect(view.consumers.first { $0.name == "analytics" }?.deadline == CoordinationTests.start.addingTimeInterval(300))
        #expect(view.consumers.first { $0.name == "analytics" }?.status == .timedOut)
    }

    @Test func aReplayedBatchLogsAgainAndSpreadsNothingTwice() async throws {
        let setup = try Setup(records: (1...5).map { CoordinationTests.record($0) })
        _ = try await setup.tail()
        _ = try setup.store.list()
        let acked = try #require(try setup.store.list().first)
        _ = try setup.store.ack(acked.id, consumer: "analytics", now: setup.clock.now())
        // The same batch again, as after a kill before its checkpoint was saved (a fresh checkpoint: the source replays).
        try await DatabaseQueue(path: setup.checkpoints.path).write { db in try db.execute(sql: "DELETE FROM checkpoints") }
        _ = try await setup.tail()
        #expect(try Self.count(setup, "SELECT COUNT(*) FROM coordination_log") == 1)
        let again = try setup.store.list()
        #expect(again.count == 5)
        #expect(try Self.count(setup, "SELECT COUNT(*) FROM coordination_log") == 0)
        #expect(try Self.count(setup, "SELECT COUNT(*) FROM coordination_consumers") == 10)
        #expect(try setup.events().filter { $0.type == "deletion.requested" }.count == 5)
        // The ack made before the replay stands.
        #expect(again.first { $0.id == acked.id }?.consumers.first { $0.name == "analytics" }?.status == .completed)
    }
}
