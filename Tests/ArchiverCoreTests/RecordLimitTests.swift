import ArchiverCore
import Crypto
import Foundation
import Testing
import TestSupport

/// Records past `--max-record-bytes`: a JSON-lines source passes over them in bounded memory, the pipeline
/// dead-letters them as `too-large` with what identifies them, and gzip reading stops at the limit.
@Suite struct RecordLimitTests {
    struct Read {
        var records: [String] = []
        var oversized: [(position: String, record: OversizedRecord, prefix: [UInt8])] = []
        var checkpoints: [String] = []
        var files: [SourceFile?] = []
    }

    func read(_ source: JSONLinesSource, follow: Bool = false, stop: StopSignal = StopSignal(), until count: Int = .max) async throws -> Read {
        var collected = Read()
        for try await batch in source.batches(after: [:], follow: follow, stop: stop) {
            for (index, range) in batch.records.enumerated() {
                if let oversized = batch.oversized[index] {
                    collected.oversized.append((batch.position(of: index), oversized, Array(batch.buffer[range])))
                } else {
                    collected.records.append(String(decoding: batch.buffer[range], as: UTF8.self))
                }
            }
            collected.checkpoints.append(batch.checkpoint)
            collected.files.append(batch.file)
            if collected.records.count + collected.oversized.count >= count { stop.stop() }
        }
        return collected
    }

    static func line(_ length: Int, _ fill: UInt8 = UInt8(ascii: "x")) -> [UInt8] {
        let head = Array(#"{"eventName":"INSERT","pad":""#.utf8)
        return head + [UInt8](repeating: fill, count: length - head.count - 2) + Array(#""}"#.utf8)
    }

    @Test func aLineOverTheLimitIsHandedOutAsItsFirstBytesLengthAndHash() async throws {
        let folder = TemporaryFolder("limit")
        defer { folder.remove() }
        let limit = 2048
        let atLimit = Self.line(limit)
        let over = Self.line(10_000, UInt8(ascii: "y"))
        let small = Array(#"{"eventName":"INSERT"}"#.utf8)
        let text = small + [0x0A] + atLimit + [0x0A] + over + [0x0A] + small + [0x0A]
        try Data(text).write(to: URL(fileURLWithPath: folder("f.jsonl")))
        // Chunks smaller than the limit: the long line is read in many pieces.
        let source = JSONLinesSource(path: folder("f.jsonl"), chunkSize: 700, maxRecordBytes: limit)
        let result = try await read(source)
        #expect(result.records == [String(decoding: small, as: UTF8.self), String(decoding: atLimit, as: UTF8.self), String(decoding: small, as: UTF8.self)])
        try #require(result.oversized.count == 1)
        let oversized = result.oversized[0]
        #expect(oversized.position == "line 3 (byte \(small.count + 1 + atLimit.count + 1))")
        #expect(oversized.record.length == Int64(over.count))
        #expect(oversized.record.sha256 == hex(SHA256.hash(data: over)))
        #expect(oversized.prefix == Array(over.prefix(JSONLinesSource.oversizedPrefixBytes)))
        // The checkpoint goes past it, and every batch names its file.
        let end = try FileManager.default.attributesOfItem(atPath: folder("f.jsonl"))[.size] as! Int
        #expect(result.checkpoints.last?.split(separator: ":").dropFirst(2).first == "\(end)"[...])
        #expect(result.files.allSatisfy { $0?.path == folder("f.jsonl") })
    }

    @Test func aFollowedLineOverTheLimitIsPassedOverAsItArrives() async throws {
        let folder = TemporaryFolder("limit-follow")
        defer { folder.remove() }
        let small = Array(#"{"eventName":"INSERT"}"#.utf8)
        try Data(small + [0x0A]).write(to: URL(fileURLWithPath: folder("f.jsonl")))
        let source = JSONLinesSource(path: folder("f.jsonl"), chunkSize: 512, pollInterval: 0.01, maxRecordBytes: 1024)
        let stop = StopSignal()
        let reading = Task { try await read(source, follow: true, stop: stop, until: 3) }
        let over = Self.line(6000)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: folder("f.jsonl")))
        try handle.seekToEnd()
        // The long line arrives in pieces, its newline last.
        for piece in stride(from: 0, to: over.count, by: 1500) {
            try handle.write(contentsOf: Data(over[piece..<min(over.count, piece + 1500)]))
            try await Task.sleep(nanoseconds: 30_000_000)
        }
        try handle.write(contentsOf: Data([0x0A] + small + [0x0A]))
        try handle.close()
        let watchdog = Task {
            try await Task.sleep(for: .seconds(120))
            stop.stop()
        }
        defer { watchdog.cancel() }
        let result = try await reading.value
        #expect(result.records.count == 2)
        try #require(result.oversized.count == 1)
        #expect(result.oversized[0].record.length == Int64(over.count))
        #expect(result.oversized[0].record.sha256 == hex(SHA256.hash(data: over)))
    }

    @Test func thePipelineDeadLettersTooLargeRecordsWithTheirHash() async throws {
        let folder = TemporaryFolder("limit-pipeline")
        defer { folder.remove() }
        let over = Self.line(5000)
        let remove = Array(#"{"eventName":"REMOVE","dynamodb":{"ApproximateCreationDateTime":1705315800,"Keys":{"PK":{"S":"A"}},"OldImage":{"PK":{"S":"A"}},"SequenceNumber":"1"}}"#.utf8)
        try Data(remove + [0x0A] + over + [0x0A]).write(to: URL(fileURLWithPath: folder("f.jsonl")))
        let deadLetters = try DeadLetterFolder(stateFolder: folder("state"))
        let pipeline = ArchivePipeline(
            source: JSONLinesSource(path: folder("f.jsonl"), maxRecordBytes: 1024), store: try LocalArchiveStore(path: folder("archive")),
            checkpoints: try CheckpointStore(stateFolder: folder("state")), deadLetters: deadLetters,
            options: TailOptions(maxRecordBytes: 1024))
        let summary = try await pipeline.run(stop: StopSignal())
        #expect(summary.archived == 1 && summary.deadLettered == 1)
        #expect(summary.bytes == Int64(remove.count + over.count))
        let entry = try #require(try await deadLetters.entries().first)
        #expect(entry.code == "too-large")
        #expect(entry.recordBytes == Int64(over.count) && entry.recordSHA256 == hex(SHA256.hash(data: over)))
        #expect(entry.raw == Array(over.prefix(1024)) && entry.isCut)
        #expect(entry.file?.path == folder("f.jsonl"))
    }

    @Test func gunzipStopsAtTheLimit() throws {
        let data = [UInt8](repeating: 7, count: 300_000)
        let member = GzipEncoder().compress(data)
        #expect(try gunzip(member, maximumBytes: 300_000) == data)
        #expect(throws: GzipError.self) { try gunzip(member, maximumBytes: 299_999) }
        // Many members, each small: the total counts.
        let members = (0..<10).flatMap { _ in member }
        #expect(throws: GzipError.self) { try gunzip(members, maximumBytes: 1_000_000) }
        #expect(try gunzip(members, maximumBytes: 3_000_000).count == 3_000_000)
    }

    @Test func entriesWrittenBeforeKeepReadingAndKeepTheirIds() throws {
        let old = #"{"attempts":1,"code":"malformed-json","first_failed_at":"2024-01-01T00:00:00Z","id":"x","last_failed_at":"2024-01-01T00:00:00Z","partition":"","position":"line 3 (byte 40)","raw_base64":"e30=","reason":"r","source":"jsonl:/f"}"#
        let entry = try JSONDecoder().decode(DeadLetter.self, from: Data(old.utf8))
        #expect(entry.file == nil && entry.recordBytes == nil && !entry.isCut && entry.raw == Array("{}".utf8))
        // Sources without files keep the ids they had.
        let letter = DeadLetter(source: "sqlite:/db", partition: "", position: "archiver_changes seq 1", reason: "r", code: "c", raw: [], at: Date())
        #expect(letter.id == DeadLetter.id(source: "sqlite:/db", partition: "", position: "archiver_changes seq 1"))
        // A file's identity tells apart the same line of two files.
        let a = DeadLetter.id(source: "jsonl:/f", partition: "", position: "line 3 (byte 40)", file: SourceFile(path: "/f", device: 1, inode: 2))
        let b = DeadLetter.id(source: "jsonl:/f", partition: "", position: "line 3 (byte 40)", file: SourceFile(path: "/f", device: 1, inode: 3))
        let renamed = DeadLetter.id(source: "jsonl:/f", partition: "", position: "line 3 (byte 40)", file: SourceFile(path: "/f.1", device: 1, inode: 2))
        #expect(a != b && a == renamed)
    }
}
