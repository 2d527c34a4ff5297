import ArchiverCore
import Foundation
import Testing
import TestSupport

@Suite struct JSONLinesSourceTests {
    /// Reads every record the source hands out (until it ends or `limit` records), with the last checkpoint.
    func collect(_ source: JSONLinesSource, after checkpoint: String? = nil, follow: Bool = false, stop: StopSignal = StopSignal(), limit: Int = .max) async throws -> ([String], String?) {
        var lines: [String] = []
        var last: String?
        for try await batch in source.batches(after: checkpoint.map { ["": $0] } ?? [:], follow: follow, stop: stop) {
            lines += batch.records.map { String(decoding: batch.buffer[$0], as: UTF8.self) }
            last = batch.checkpoint
            if lines.count >= limit { stop.stop() }
        }
        return (lines, last)
    }

    func append(_ path: String, _ text: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        handle.write(Data(text.utf8))
        try handle.close()
    }

    @Test func leavesAnIncompleteLastLineForLater() async throws {
        let folder = TemporaryFolder("jsonl")
        defer { folder.remove() }
        try Data("{\"a\":1}\n\n  {\"b\":2}\r\n{\"c\":".utf8).write(to: URL(fileURLWithPath: folder("f.jsonl")))
        let source = JSONLinesSource(path: folder("f.jsonl"), chunkSize: 4)
        let (lines, checkpoint) = try await collect(source)
        #expect(lines == ["{\"a\":1}", "{\"b\":2}"])
        try append(folder("f.jsonl"), "3}\n{\"d\":4}")
        // Resuming takes the now-complete line, and a final line without a newline that is complete JSON.
        let (more, _) = try await collect(source, after: checkpoint)
        #expect(more == ["{\"c\":3}", "{\"d\":4}"])
    }

    @Test func positionsNameTheLine() async throws {
        let folder = TemporaryFolder("jsonl")
        defer { folder.remove() }
        try Data("{}\n\n{\"x\":1}\n".utf8).write(to: URL(fileURLWithPath: folder("f.jsonl")))
        var positions: [String] = []
        for try await batch in JSONLinesSource(path: folder("f.jsonl")).batches(after: [:], follow: false, stop: StopSignal()) {
            positions += batch.records.indices.map { batch.position(of: $0) }
        }
        #expect(positions == ["line 1 (byte 0)", "line 3 (byte 4)"])
    }

    /// Lines read so far by a following source, shared with the test that feeds it.
    final class Seen: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func add(_ new: [String]) { lock.withLock { lines += new } }
        var all: [String] { lock.withLock { lines } }

        /// Waits until `count` lines were read; after 60 s (a very slow machine) records that it timed out.
        func wait(for count: Int) async throws {
            let deadline = Date().addingTimeInterval(60)
            while all.count < count && Date() < deadline { try await Task.sleep(nanoseconds: 20_000_000) }
            if all.count < count { Issue.record("timed out waiting for line \(count); read so far: \(all)") }
        }
    }

    @Test func followsAppendsRotationAndTruncation() async throws {
        let folder = TemporaryFolder("jsonl")
        defer { folder.remove() }
        let path = folder("f.jsonl")
        try Data("{\"n\":1}\n".utf8).write(to: URL(fileURLWithPath: path))
        let source = JSONLinesSource(path: path, pollInterval: 0.02, rotationGrace: 0.2)
        let stop = StopSignal()
        let seen = Seen()
        let task = Task {
            for try await batch in source.batches(after: [:], follow: true, stop: stop) {
                seen.add(batch.records.map { String(decoding: batch.buffer[$0], as: UTF8.self) })
            }
        }
        try await seen.wait(for: 1)
        // A line written in two pieces is taken only once whole.
        try append(path, "{\"n\":2}\n{\"n\":")
        try await seen.wait(for: 2)
        try await Task.sleep(nanoseconds: 100_000_000)
        #expect(seen.all.count == 2)
        try append(path, "3}\n")
        try await seen.wait(for: 3)
        // logrotate: the writer finishes a last line (no newline) in the old file; rename; a new file.
        try append(path, "{\"n\":4}")
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        try Data("{\"n\":5}\n".utf8).write(to: URL(fileURLWithPath: path))
        try await seen.wait(for: 5)
        // copytruncate: the file is emptied in place, then written again from its start.
        try Data().write(to: URL(fileURLWithPath: path), options: [])
        try await Task.sleep(nanoseconds: 300_000_000)
        try append(path, "{\"n\":6}\n")
        try await seen.wait(for: 6)
        stop.stop()
        try await task.value
        #expect(seen.all == ["{\"n\":1}", "{\"n\":2}", "{\"n\":3}", "{\"n\":4}", "{\"n\":5}", "{\"n\":6}"])
    }

    @Test func resumesInTheRotatedFileAfterARestart() async throws {
        let folder = TemporaryFolder("jsonl")
        defer { folder.remove() }
        let path = folder("f.jsonl")
        try Data("{\"n\":1}\n{\"n\":2}\n".utf8).write(to: URL(fileURLWithPath: path))
        let source = JSONLinesSource(path: path, chunkSize: 8)
        var checkpoint: String?
        for try await batch in source.batches(after: [:], follow: false, stop: StopSignal()) {
            checkpoint = batch.checkpoint
            break  // stopped after the first line
        }
        // While stopped: one more line, then rotation and a new file.
        try append(path, "{\"n\":3}\n")
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        try Data("{\"n\":4}\n".utf8).write(to: URL(fileURLWithPath: path))
        let (lines, _) = try await collect(source, after: checkpoint)
        #expect(lines == ["{\"n\":2}", "{\"n\":3}", "{\"n\":4}"])
    }

    @Test func aMissingFileIsAClearError() async {
        let source = JSONLinesSource(path: "/nonexistent/feed.jsonl")
        await #expect(throws: SourceError.self) { _ = try await collect(source) }
        do {
            _ = try await collect(source)
        } catch {
            #expect("\(error)".contains("/nonexistent/feed.jsonl"))
        }
    }
}
