import ArchiverCore
import GRDB

extension SQLiteChangeSource: SourceBacklogReporting {
    /// The change rows after the checkpoint, counted from sequence numbers (the last `seq` less the checkpoint's):
    /// one indexed look-up however long the table.
    public func backlog(after checkpoints: [String: String]) async -> SourceBacklog? {
        let after = checkpoints[""].flatMap { Int64($0) } ?? 0
        do {
            let last = try await queue.read { db in
                try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM \(ChangeTableSchema.changesTable)")
            }
            return SourceBacklog(records: max(0, (last ?? 0) - after))
        } catch {
            return nil
        }
    }
}
