import ArchiverCore

extension SQLiteChangeSource {
    /// `after archiver_changes seq 1234 of /srv/app.db`: the checkpoint is the last change row taken, named as
    /// dead letters name a row.
    public func describe(checkpoints: [String: String]) -> String {
        guard let text = checkpoints[""] else { return "no checkpoint" }
        guard let seq = Int64(text) else { return "an unreadable checkpoint \"\(text.prefix(64))\"" }
        return "after \(ChangeTableSchema.changesTable) seq \(seq) of \(databasePath)"
    }
}
