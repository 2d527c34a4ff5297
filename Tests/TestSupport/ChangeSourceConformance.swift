import ArchiverCore
import Foundation

/// A feed of one kind (a file, a change table, a stream) that the conformance suite writes deletions into, and the
/// sources that read it. Each fixture is fresh: an empty feed, used by one case.
public protocol ChangeSourceFixture: Sendable {
    /// Deletes items `numbers` (``ConformanceItems/item(_:note:)``), in that order, so that the feed holds a REMOVE
    /// record for each (and whatever else the kind of feed records along the way, such as INSERTs).
    func delete(_ numbers: Range<Int>) async throws

    /// A new source over the feed, as a restarted process makes it. It reads in small batches (a few records
    /// each), so a run of 20 deletions spans several batches.
    func source() async throws -> any ChangeSource

    /// A source over another feed of the same kind.
    func otherSource() async throws -> any ChangeSource

    /// Every record's bytes as the feed itself holds them, in order; nil when the feed holds rows, not record
    /// bytes, and the source composes each record (then leave ``ChangeSourceConformance/Case/bytesAreTheFeeds`` out).
    func recordsInFeed() async throws -> [[UInt8]]?
}

/// The behaviour every `ChangeSource` must have (see the protocol's documentation), one case at a time, run
/// against each implementation from its adapter's test target:
///
/// ```swift
/// @Test(arguments: ChangeSourceConformance.Case.allCases)
/// func conformsToTheSourceContract(_ contract: ChangeSourceConformance.Case) async throws {
///     try await ChangeSourceConformance.check(contract, MyFixture())
/// }
/// ```
/// Each check throws ``ConformanceFailure`` naming what broke.
public enum ChangeSourceConformance {
    /// One point of the contract.
    public enum Case: String, CaseIterable, Sendable, CustomStringConvertible {
        case readsEveryRecordOnceInOrder
        case resumesAfterACheckpoint
        case aLaterRunReadsOnlyWhatWasAdded
        case aRecordsItemIsWhatWasWritten
        case bytesAreTheFeeds
        case aReplayIsIdentical
        case positionsIncreaseWithinAPartition
        case anEmptyFeedYieldsNothingAndEnds
        case followingYieldsNewRecordsAndStopsWhenAsked
        case theIDIsStableForAFeed
        case keysComeInTheTablesKeyOrder

        /// The case as a sentence, which names the test case.
        public var description: String {
            switch self {
            case .readsEveryRecordOnceInOrder: "reads every record once, in the order written, then ends"
            case .resumesAfterACheckpoint: "resumes after a checkpoint without repeating or skipping"
            case .aLaterRunReadsOnlyWhatWasAdded: "a later run reads only what was added since"
            case .aRecordsItemIsWhatWasWritten: "a record's keys and item are what was written"
            case .bytesAreTheFeeds: "a record's bytes are what the feed holds"
            case .aReplayIsIdentical: "a replayed record has the same bytes and position"
            case .positionsIncreaseWithinAPartition: "positions are distinct and increase within a partition"
            case .anEmptyFeedYieldsNothingAndEnds: "an empty feed yields nothing and ends"
            case .followingYieldsNewRecordsAndStopsWhenAsked: "following yields records added later and ends when stopped"
            case .theIDIsStableForAFeed: "its id is the same for the same feed and differs for another"
            case .keysComeInTheTablesKeyOrder: "keys come in the table's key order"
            }
        }
    }

    /// Runs one case on a fresh fixture.
    public static func check(_ contract: Case, _ fixture: some ChangeSourceFixture) async throws {
        switch contract {
        case .readsEveryRecordOnceInOrder: try await readsEveryRecordOnceInOrder(fixture)
        case .resumesAfterACheckpoint: try await resumesAfterACheckpoint(fixture)
        case .aLaterRunReadsOnlyWhatWasAdded: try await aLaterRunReadsOnlyWhatWasAdded(fixture)
        case .aRecordsItemIsWhatWasWritten: try await aRecordsItemIsWhatWasWritten(fixture)
        case .bytesAreTheFeeds: try await bytesAreTheFeeds(fixture)
        case .aReplayIsIdentical: try await aReplayIsIdentical(fixture)
        case .positionsIncreaseWithinAPartition: try await positionsIncreaseWithinAPartition(fixture)
        case .anEmptyFeedYieldsNothingAndEnds: try await anEmptyFeedYieldsNothingAndEnds(fixture)
        case .followingYieldsNewRecordsAndStopsWhenAsked: try await followingYieldsNewRecordsAndStopsWhenAsked(fixture)
        case .theIDIsStableForAFeed: try await theIDIsStableForAFeed(fixture)
        case .keysComeInTheTablesKeyOrder: try await keysComeInTheTablesKeyOrder(fixture)
        }
    }

    // MARK: The cases

    static func readsEveryRecordOnceInOrder(_ fixture: some ChangeSourceFixture) async throws {
        try await fixture.delete(0..<20)
        let read = try await Read.all(try await fixture.source())
        try check(read.batches.count >= 3, "20 deletions came in \(read.batches.count) batches; the fixture must read in small batches")
        try check(read.removedItems == Array(0..<20), "the REMOVE records name items \(read.removedItems), not 0 to 19 in order")
        for batch in read.batches {
            var end = 0
            for range in batch.records {
                try check(range.lowerBound >= end && range.upperBound <= batch.buffer.count && !range.isEmpty,
                          "a record's range \(range) is empty, overlaps the one before or leaves the buffer (\(batch.buffer.count) bytes)")
                end = range.upperBound
            }
        }
    }

    static func resumesAfterACheckpoint(_ fixture: some ChangeSourceFixture) async throws {
        try await fixture.delete(0..<20)
        let full = try await Read.all(try await fixture.source())
        try check(full.batches.count >= 3, "20 deletions came in \(full.batches.count) batches; the fixture must read in small batches")
        // After each batch in turn: the records after it, exactly.
        var checkpoints: [String: String] = [:]
        for (index, batch) in full.batches.enumerated() {
            checkpoints[batch.partition] = batch.checkpoint
            let resumed = try await Read.all(try await fixture.source(), after: checkpoints)
            let expected = try full.batches[(index + 1)...].flatMap { try Read.records(of: $0) }
            try check(resumed.records.map(\.bytes) == expected.map(\.bytes),
                      "resuming after batch \(index + 1) of \(full.batches.count) (checkpoints \(checkpoints)) read \(resumed.records.count) records, not the \(expected.count) after it (items \(resumed.removedItems))")
        }
    }

    static func aLaterRunReadsOnlyWhatWasAdded(_ fixture: some ChangeSourceFixture) async throws {
        try await fixture.delete(0..<10)
        let first = try await Read.all(try await fixture.source())
        try check(first.removedItems == Array(0..<10), "the first run read items \(first.removedItems)")
        try await fixture.delete(10..<20)
        let second = try await Read.all(try await fixture.source(), after: first.checkpoints)
        try check(second.removedItems == Array(10..<20), "after the first run's checkpoints, the second run read items \(second.removedItems), not 10 to 19")
        let third = try await Read.all(try await fixture.source(), after: first.checkpoints.merging(second.checkpoints) { $1 })
        try check(third.records.isEmpty, "a third run with nothing new read \(third.records.count) records")
    }

    static func aRecordsItemIsWhatWasWritten(_ fixture: some ChangeSourceFixture) async throws {
        try await fixture.delete(0..<6)
        let read = try await Read.all(try await fixture.source())
        let removes = read.records.filter { $0.scanned.eventName == .remove }
        try check(removes.count == 6, "\(removes.count) REMOVE records for 6 deletions")
        for (n, record) in removes.enumerated() {
            try check(record.scanned.deletionKind == .manual, "item \(n): a delete reads as \(record.scanned.deletionKind)")
            try check(record.scanned.eventTime != nil, "item \(n): the record has no ApproximateCreationDateTime")
            try check(Set(record.scanned.keys) == Set(ConformanceItems.keys(n)), "item \(n): the record's keys are \(record.scanned.keys)")
            // The item restore would put back: the record's OldImage, read as restore reads it.
            let restored = try ArchiveRestorer.item(fromArchived: GzipEncoder().compress(record.bytes), key: "item \(n)")
            try check(restored.item == ConformanceItems.item(n),
                      "item \(n): the record's OldImage is \(ConformanceItems.dynamoJSON(restored.item)), not \(ConformanceItems.dynamoJSON(ConformanceItems.item(n)))")
        }
    }

    static func bytesAreTheFeeds(_ fixture: some ChangeSourceFixture) async throws {
        try await fixture.delete(0..<8)
        let read = try await Read.all(try await fixture.source())
        guard let feed = try await fixture.recordsInFeed() else {
            throw ConformanceFailure("\(type(of: fixture)) holds no record bytes of its own; leave this case out for it")
        }
        try check(read.records.count == feed.count, "read \(read.records.count) records; the feed holds \(feed.count)")
        for (index, (record, expected)) in zip(read.records, feed).enumerated() {
            try check(record.bytes == expected,
                      "record \(index + 1) differs from the feed's: \(String(decoding: record.bytes, as: UTF8.self)) instead of \(String(decoding: expected, as: UTF8.self))")
        }
    }

    static func aReplayIsIdentical(_ fixture: some ChangeSourceFixture) async throws {
        try await fixture.delete(0..<12)
        let first = try await Read.all(try await fixture.source())
        let again = try await Read.all(try await fixture.source())
        try check(again.records.count == first.records.count, "a second read from the start gave \(again.records.count) records, the first \(first.records.count)")
        for (index, (a, b)) in zip(first.records, again.records).enumerated() {
            try check(a.bytes == b.bytes && a.position == b.position && a.partition == b.partition,
                      "record \(index + 1) read again differs: \(b.partition) \(b.position) vs \(a.partition) \(a.position)")
        }
        // Replayed from a checkpoint part-way, the later records are the same too.
        let after = first.batches[0]
        let resumed = try await Read.all(try await fixture.source(), after: [after.partition: after.checkpoint])
        let expected = try first.batches.dropFirst().flatMap { try Read.records(of: $0) }
        try check(resumed.records.map(\.position) == expected.map(\.position), "positions after a checkpoint differ from the first read's")
    }

    static func positionsIncreaseWithinAPartition(_ fixture: some ChangeSourceFixture) async throws {
        try await fixture.delete(0..<20)
        let read = try await Read.all(try await fixture.source())
        var last: [String: [UInt64]] = [:]
        var seen: Set<String> = []
        for batch in read.batches {
            for index in batch.records.indices {
                let position = batch.position(of: index)
                try check(!position.isEmpty, "a record of partition '\(batch.partition)' has no position")
                try check(seen.insert(batch.partition + "\n" + position).inserted, "two records of partition '\(batch.partition)' are at \(position)")
                let order = try Self.order(of: batch, index)
                if let previous = last[batch.partition] {
                    try check(order.lexicographicallyPrecedes(previous) == false && order != previous,
                              "in partition '\(batch.partition)', \(position) comes after a record further on (\(previous) then \(order))")
                }
                last[batch.partition] = order
            }
        }
    }

    static func anEmptyFeedYieldsNothingAndEnds(_ fixture: some ChangeSourceFixture) async throws {
        let read = try await Read.all(try await fixture.source())
        try check(read.records.isEmpty, "an empty feed yielded \(read.records.count) records")
    }

    static func followingYieldsNewRecordsAndStopsWhenAsked(_ fixture: some ChangeSourceFixture) async throws {
        try await fixture.delete(0..<3)
        let source = try await fixture.source()
        let stop = StopSignal()
        let seen = Seen()
        let reader = Task {
            for try await batch in source.batches(after: [:], follow: true, stop: stop) { seen.add(batch) }
        }
        defer { reader.cancel() }
        try await seen.wait(forItems: 3, stop: stop)
        try await fixture.delete(3..<6)
        try await seen.wait(forItems: 6, stop: stop)
        // It must end because it was stopped; the watchdog only keeps a source that never ends from hanging the run
        // (a loaded machine can be slow to get there, so no tighter time is asserted).
        stop.stop()
        let gaveUp = Flag()
        let watchdog = Task {
            try await Task.sleep(for: .seconds(120))
            gaveUp.set()
            reader.cancel()
        }
        defer { watchdog.cancel() }
        _ = try? await reader.value
        try check(!gaveUp.isSet, "the stream had not ended 120 s after it was stopped")
        try check(seen.items == Array(0..<6), "following read items \(seen.items), not 0 to 5 once each")
    }

    static func theIDIsStableForAFeed(_ fixture: some ChangeSourceFixture) async throws {
        let a = try await fixture.source()
        let b = try await fixture.source()
        let other = try await fixture.otherSource()
        try check(!a.id.isEmpty, "the id is empty")
        try check(a.id == b.id, "two sources over the same feed have the ids \(a.id) and \(b.id)")
        try check(a.id != other.id, "sources over two feeds share the id \(a.id)")
    }

    static func keysComeInTheTablesKeyOrder(_ fixture: some ChangeSourceFixture) async throws {
        try await fixture.delete(0..<3)
        let source = try await fixture.source()
        let read = try await Read.all(source)
        let removes = read.records.filter { $0.scanned.eventName == .remove }
        try check(removes.count == 3, "\(removes.count) REMOVE records for 3 deletions")
        for record in removes {
            // What names the archive object: the source's key order, or else the order the record lists its keys.
            let order = source.keyOrder ?? record.scanned.keys.map(\.name)
            try check(order == ["PK", "SK"], "the key order is \(order), not the table's PK then SK")
            try check(Set(record.scanned.keys.map(\.name)) == Set(order), "the record's keys \(record.scanned.keys.map(\.name)) are not those of the key order \(order)")
        }
    }

    // MARK: Reading

    /// What a read gave: the batches, each record with what the scanner makes of it, the last checkpoint per partition.
    struct Read {
        struct Record {
            var partition: String
            var position: String
            var bytes: [UInt8]
            var scanned: ScannedRecord
        }

        var batches: [SourceBatch] = []
        var records: [Record] = []
        var checkpoints: [String: String] = [:]

        /// The item numbers of the REMOVE records, in order.
        var removedItems: [Int] {
            records.filter { $0.scanned.eventName == .remove }.map { record in
                record.scanned.keys.first { $0.name == "PK" }.flatMap { ConformanceItems.number(ofKey: $0.value) } ?? -1
            }
        }

        /// Each record of a batch; fails when one is not a whole stream record.
        static func records(of batch: SourceBatch) throws -> [Record] {
            try batch.records.indices.map { index in
                let bytes = Array(batch.buffer[batch.records[index]])
                let position = batch.position(of: index)
                guard let scanned = try? RecordScanner().scan(bytes) else {
                    throw ConformanceFailure("the record at \(position) is not one whole stream record: \(String(decoding: bytes.prefix(200), as: UTF8.self))")
                }
                return Record(partition: batch.partition, position: position, bytes: bytes, scanned: scanned)
            }
        }

        /// Reads to the end (not following). A read that has not ended after 120 s (a very slow machine) is stopped and fails.
        static func all(_ source: any ChangeSource, after checkpoints: [String: String] = [:]) async throws -> Read {
            let stop = StopSignal()
            let watchdog = Task {
                try await Task.sleep(for: .seconds(120))
                stop.stop()
            }
            defer { watchdog.cancel() }
            var read = Read()
            for try await batch in source.batches(after: checkpoints, follow: false, stop: stop) {
                read.batches.append(batch)
                read.checkpoints[batch.partition] = batch.checkpoint
                read.records += try records(of: batch)
            }
            try check(!stop.isStopped, "reading \(source.id) to its end did not end within 120 s")
            return read
        }
    }

    /// Items seen by a following read, shared with the case that feeds it.
    final class Seen: @unchecked Sendable {
        private let lock = NSLock()
        private var numbers: [Int] = []

        func add(_ batch: SourceBatch) {
            let new = Read(records: (try? Read.records(of: batch)) ?? []).removedItems
            lock.withLock { numbers += new }
        }

        var items: [Int] { lock.withLock { numbers } }

        /// Waits until `count` items were seen; fails after 60 s (a very slow machine).
        func wait(forItems count: Int, stop: StopSignal) async throws {
            let deadline = Date().addingTimeInterval(60)
            while items.count < count {
                guard Date() < deadline else {
                    stop.stop()
                    throw ConformanceFailure("following saw items \(items) after 60 s, waiting for \(count)")
                }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    /// Set once, read from another task.
    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        func set() { lock.withLock { value = true } }
        var isSet: Bool { lock.withLock { value } }
    }

    /// Where a record stands, as numbers that grow along a partition: a file's line and byte, or the number a
    /// label ends with (a row's sequence, a stream's sequence number).
    static func order(of batch: SourceBatch, _ index: Int) throws -> [UInt64] {
        switch batch.positions {
        case .lines(let firstLine, let baseOffset, let lineNumbers):
            let line = lineNumbers.isEmpty ? firstLine + index : lineNumbers[index]
            return [UInt64(line), UInt64(baseOffset) + UInt64(batch.records[index].lowerBound)]
        case .labels(let labels):
            let digits = labels[index].reversed().prefix { $0.isNumber }.reversed().drop { $0 == "0" }
            // Stream sequence numbers run to 40 digits: compare by length, then in 18-digit pieces.
            var pieces: [UInt64] = [UInt64(digits.count)]
            var rest = Substring(String(digits))
            while !rest.isEmpty {
                pieces.append(UInt64(rest.prefix(18))!)
                rest = rest.dropFirst(18)
            }
            try check(digits.count > 0 || labels[index].last == "0", "the position '\(labels[index])' does not end with a number")
            return pieces
        }
    }

    static func check(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw ConformanceFailure(message()) }
    }
}

/// What broke, in a conformance suite.
public struct ConformanceFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
