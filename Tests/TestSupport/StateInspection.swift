import Foundation

/// Reads a state folder from outside, as a person with `sqlite3` would, while an archiver may be running.
public enum StateInspection {
    /// Rows of a query on `<state>/archiver.sqlite`, opened read-only; nil when the database does not exist yet
    /// or cannot be read right now.
    public static func query(_ stateFolder: String, _ sql: String) -> [[String]]? {
        let database = stateFolder + "/archiver.sqlite"
        guard FileManager.default.fileExists(atPath: database) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = ["-readonly", "-separator", "\t", "-cmd", ".timeout 5000", database, sql]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = out.readToEnd()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }

    /// Every checkpoint: partition → position.
    public static func checkpoints(_ stateFolder: String) -> [String: String] {
        var result: [String: String] = [:]
        for row in query(stateFolder, "SELECT partition, position FROM checkpoints") ?? [] where row.count == 2 { result[row[0]] = row[1] }
        return result
    }

    /// The byte offset of a JSON-lines checkpoint (`device:inode:offset:line`), 0 when there is none.
    public static func jsonLinesOffset(_ stateFolder: String) -> Int64 {
        guard let position = checkpoints(stateFolder)[""] else { return 0 }
        let parts = position.split(separator: ":")
        return parts.count == 4 ? Int64(parts[2]) ?? 0 : 0
    }

    /// Recorded gaps: (partition, detail).
    public static func gaps(_ stateFolder: String) -> [(partition: String, detail: String)] {
        (query(stateFolder, "SELECT partition, detail FROM gaps ORDER BY id") ?? []).compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil }
    }

    /// The resident memory of a process in bytes (Linux `/proc/<pid>/status` VmRSS), nil when unknown.
    public static func residentBytes(pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let digits = line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
            return digits.map { $0 * 1024 }
        }
        return nil
    }
}

/// The lines of a ``SampleFeed`` file: where each ends and which are deletions that must be archived.
public struct SampleFeedIndex: Sendable {
    /// The byte offset just past each line's newline.
    public var lineEnds: [Int64] = []
    /// The line numbers (0-based) of the REMOVE records with an image: each must become one object.
    public var archivable: [Int] = []

    /// Indexes lines `range` as ``SampleFeed/text(_:)`` writes them, starting at byte `base`.
    public init(_ range: Range<Int>, base: Int64 = 0, appendingTo earlier: SampleFeedIndex? = nil) {
        if let earlier { self = earlier }
        var offset = lineEnds.last ?? base
        var counts = SampleFeed.Counts()
        for index in range {
            let before = counts.removes
            let line = SampleFeed.line(index, counts: &counts)
            offset += Int64(line.utf8.count + 1)
            lineEnds.append(offset)
            if counts.removes > before { archivable.append(index) }
        }
    }

    /// The sequence number SampleFeed gives line `index`.
    public static func sequence(_ index: Int) -> String { "1000000" + String(100_000_000_000_000 + index) }

    /// The sequence number in an archive key (`….<HHMMSS>.<sequence>.<kind>.json.gz`).
    public static func sequence(inKey key: String) -> String? {
        let parts = key.split(separator: ".")
        return parts.count >= 5 ? String(parts[parts.count - 4]) : nil
    }

    /// The archivable lines that end at or before `offset` and have no object among `keys`.
    public func missing(before offset: Int64, keys: some Sequence<String>) -> [Int] {
        let present = Set(keys.compactMap(Self.sequence(inKey:)))
        return archivable.filter { lineEnds[$0] <= offset && !present.contains(Self.sequence($0)) }
    }
}
