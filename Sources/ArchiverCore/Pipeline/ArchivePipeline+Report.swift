import Foundation

extension ArchivePipeline {
    /// After a batch's checkpoint is saved: its metrics and the pipeline's status (one call each per batch).
    func report(_ summary: TailSummary, batch: SourceBatch, objects: [ArchiveObject], refused: [Int: ArchiveStoreError], modifies: Int,
                letters: [DeadLetter], started: Date, at now: Date) {
        var archived: [PipelineStatus.RecentDeletion] = []
        let tail = objects.indices.suffix(PipelineStatus.recentLimit + refused.count).filter { refused[$0] == nil }.suffix(PipelineStatus.recentLimit)
        for index in tail {
            let object = objects[index]
            archived.append(PipelineStatus.RecentDeletion(
                key: object.key, kind: DeletionKind(rawValue: object.metadata["archiver-kind"] ?? "") ?? .manual,
                deletedAt: object.metadata["archiver-deleted-at"] ?? ""))
        }
        // The lag of the batch's last deletion archived: from its event time (whole seconds) to now.
        let lag = archived.last.flatMap { Self.epochSeconds($0.deletedAt) }.map { max(0, now.timeIntervalSince1970 - Double($0)) }
        status.committed(partition: batch.partition, checkpoint: batch.checkpoint, summary: summary, archived: archived, lagSeconds: lag, at: now)
        metrics.committed(summary, modifies: modifies, deadLetterCodes: letters.map(\.code), seconds: Date().timeIntervalSince(started), lagSeconds: lag)
    }

    /// `2024-01-15T10:30:00Z` (a ``DeletionTime``'s description) as seconds since 1970.
    static func epochSeconds(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count == 20, bytes[4] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"), bytes[19] == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int? { Int(String(decoding: bytes[range], as: UTF8.self)) }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), let hour = number(11..<13),
            let minute = number(14..<16), let second = number(17..<19)
        else { return nil }
        return DeletionTime.days(year: year, month: month, day: day) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }
}
