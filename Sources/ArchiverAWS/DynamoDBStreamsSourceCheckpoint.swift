import ArchiverCore

extension DynamoDBStreamsSource {
    /// One phrase per shard, as dead letters name a record (`shard <id> sequence <n>`): `shard <id> after
    /// sequence <n>` for a shard being read, `shard <id> finished` for one read to its end. Finished shards
    /// are only counted when there are many (a stream keeps a day of them).
    public func describe(checkpoints: [String: String]) -> String {
        var reading: [String] = []
        var finished: [String] = []
        for (shard, saved) in checkpoints.sorted(by: { $0.key < $1.key }) {
            if saved == "closed" {
                finished.append("shard \(shard) finished (it held no records)")
            } else if saved.hasPrefix("closed:") {
                finished.append("shard \(shard) finished (last sequence \(saved.dropFirst("closed:".count)))")
            } else if saved.isEmpty {
                reading.append("shard \(shard) from its start")
            } else {
                reading.append("shard \(shard) after sequence \(saved)")
            }
        }
        var phrases = reading.prefix(10).map { $0 }
        if reading.count > 10 { phrases.append("\(reading.count - 10) more shards being read") }
        if finished.count <= 3 { phrases += finished } else { phrases.append("\(finished.count) shards finished") }
        return phrases.isEmpty ? "no checkpoint" : phrases.joined(separator: "; ")
    }
}
