import ArchiverCore
import Foundation
import Testing
import TestSupport

/// A source double for testing the pipeline above the source: hands out the given JSON lines as one batch per
/// line, and reports a gap before the batch at each index in `gapsBefore`. It implements only the gap-aware read,
/// so it is seen by the pipeline through the `ChangeSource` protocol alone.
struct GappySource: ChangeSource {
    let lines: [String]
    let gapsBefore: [Int: SourceGap]
    var id: String { "gappy:test" }

    func batches(after checkpoints: [String: String], follow: Bool, stop: StopSignal) -> AsyncThrowingStream<SourceBatch, any Error> {
        batches(after: checkpoints, follow: follow, stop: stop, onGap: { _ in Issue.record("the pipeline read without a gap handler") })
    }

    func batches(
        after checkpoints: [String: String], follow: Bool, stop: StopSignal, onGap: @escaping @Sendable (SourceGap) -> Void
    ) -> AsyncThrowingStream<SourceBatch, any Error> {
        let start = checkpoints["p"].flatMap { Int($0) } ?? 0
        let lines = lines
        let gapsBefore = gapsBefore
        return AsyncThrowingStream { continuation in
            for index in start..<lines.count {
                if let gap = gapsBefore[index] { onGap(gap) }
                let bytes = Array(lines[index].utf8)
                continuation.yield(SourceBatch(
                    partition: "p", buffer: bytes, records: [0..<bytes.count], positions: .labels(["row \(index)"]),
                    checkpoint: String(index + 1)))
            }
            continuation.finish()
        }
    }
}

@Suite struct PipelineGapTests {
    @Test func gapsTheSourceReportsAreRecordedInTheStateFolderAndCounted() async throws {
        let folder = TemporaryFolder("gaps")
        defer { folder.remove() }
        let lines = (0..<6).map(JSONLinesFixture.record)
        let source = GappySource(lines: lines, gapsBefore: [
            0: SourceGap(partition: "p", detail: "records before the first were trimmed"),
            4: SourceGap(partition: "p", detail: "records after row 3 were trimmed"),
        ])
        let checkpoints = try CheckpointStore(stateFolder: folder("state"))
        let clock = FixedClock(Date(timeIntervalSince1970: 1_705_315_800))
        let pipeline = ArchivePipeline(
            source: source, store: try LocalArchiveStore(path: folder("archive")), checkpoints: checkpoints,
            deadLetters: try DeadLetterFolder(stateFolder: folder("state")), options: TailOptions(follow: false), clock: clock)
        let summary = try await pipeline.run(stop: StopSignal())
        #expect(summary.read == lines.count)
        #expect(summary.archived == lines.count)
        #expect(summary.gaps == 2)
        #expect(summary.text.contains("gaps"))
        let recorded = try checkpoints.gaps()
        #expect(recorded.map(\.source) == ["gappy:test", "gappy:test"])
        #expect(recorded.map(\.partition) == ["p", "p"])
        #expect(recorded.map(\.detail) == ["records before the first were trimmed", "records after row 3 were trimmed"])
        // Stamped by the pipeline's clock.
        #expect(recorded.allSatisfy { $0.noticedAt == "2024-01-15T10:50:00Z" })
        #expect(try checkpoints.checkpoints(source: source.id) == ["p": "6"])
    }

    @Test func aRunWithoutGapsCountsNone() async throws {
        let folder = TemporaryFolder("gaps")
        defer { folder.remove() }
        let source = GappySource(lines: (0..<3).map(JSONLinesFixture.record), gapsBefore: [:])
        let checkpoints = try CheckpointStore(stateFolder: folder("state"))
        let pipeline = ArchivePipeline(
            source: source, store: try LocalArchiveStore(path: folder("archive")), checkpoints: checkpoints,
            deadLetters: try DeadLetterFolder(stateFolder: folder("state")), options: TailOptions(follow: false))
        let summary = try await pipeline.run(stop: StopSignal())
        #expect(summary.gaps == 0)
        #expect(!summary.text.contains("gaps"))
        #expect(try checkpoints.gaps().isEmpty)
    }
}
