import ArchiverCore
import Foundation

/// The hostile-targets corpus (`fixtures/hostile-targets/`): deletions whose values fill deletion-rule templates,
/// the rules, and what must become of each.
public enum HostileTargets {
    /// What must become of one record.
    public struct Expectation: Decodable, Sendable {
        /// 1-based.
        public let line: Int
        public let `case`: String
        /// `run`, `parked` or `none`.
        public let outcome: String
        public let rule: String?
        /// For `run`: the key or prefix, relative to the root.
        public let target: String?
        /// For `parked`: `unsafe-target` or `unfillable`.
        public let code: String?
        /// For `parked`: a part of the reason.
        public let reason: String?
    }

    public static var records: String { PackagePaths.fixture("hostile-targets/records.jsonl") }

    public static func expectations() throws -> [Expectation] {
        try JSONDecoder().decode([Expectation].self, from: Data(contentsOf: URL(fileURLWithPath: PackagePaths.fixture("hostile-targets/expected.json"))))
    }

    /// The rules with the root's place put in.
    public static func configuration(root: RootLocation) throws -> ArchiverConfiguration {
        let text = try String(contentsOfFile: PackagePaths.fixture("hostile-targets/rules.yml"), encoding: .utf8)
        return try ArchiverConfiguration.parse(text.replacingOccurrences(of: "@ROOT@", with: root.description), file: "hostile-targets/rules.yml")
    }

    /// Paths below the root that no action of the corpus may touch: neighbours of the targets, and what a traversal
    /// would have reached had it been resolved inside the root.
    public static let bait = [
        "etc/passwd", "videos/1.mp4.keep", "videos/10.mp4", "users/420/keep", "users/4", "users/42.txt", "users/7/other", "users/70/x",
        "avatars/bob.png", "avatars/alice.png.keep", "n/420", "x", "a", "b", "b.keep", "invoice", "keep-me", "videos/keep", "y",
    ]

    /// Paths beside the root (relative to the root's parent, or the bucket) that nothing may ever touch.
    public static let outside = ["etc/passwd", "root-sibling/users/42/x", "x", "videos/1.mp4", "rootx"]

    /// The paths a `run` target covers in a fresh root: the object itself, or two files under a prefix.
    public static func contents(of expectation: Expectation) -> [String] {
        guard expectation.outcome == "run", let target = expectation.target else { return [] }
        return target.hasSuffix("/") ? [target + "a.bin", target + "sub/b.bin"] : [target]
    }
}

extension HostileTargets {
    /// The record line of an entry: the corpus numbers its sequence numbers 300000 + line - 1.
    public static func line(of entry: QueueEntry) -> Int? {
        ArchiveKey(path: entry.archiveKey).flatMap { Int($0.sequence) }.map { $0 - 300_000 + 1 }
    }

    /// What is wrong with the queue's entries after the corpus was tailed (empty when each is as expected).
    /// - Parameter ran: whether the worker has run since (then `run` entries are completed, not available).
    public static func problems(_ entries: [QueueEntry], ran: Bool) throws -> [String] {
        var problems: [String] = []
        var byLine: [Int: [QueueEntry]] = [:]
        for entry in entries {
            guard let line = line(of: entry) else {
                problems.append("an entry for an archive key outside the corpus: \(entry.archiveKey)")
                continue
            }
            byLine[line, default: []].append(entry)
        }
        for expected in try expectations() {
            let found = byLine[expected.line] ?? []
            let name = "line \(expected.line) (\(expected.case))"
            if expected.outcome == "none" {
                if !found.isEmpty { problems.append("\(name): no rule takes it, yet it has \(found.count) entries") }
                continue
            }
            guard found.count == 1, let entry = found.first else {
                problems.append("\(name): \(found.count) entries, not 1")
                continue
            }
            if entry.rule != expected.rule { problems.append("\(name): rule \(entry.rule), not \(expected.rule ?? "")") }
            switch expected.outcome {
            case "run":
                let state: QueueState = ran ? .completed : .available
                if entry.state != state { problems.append("\(name): \(entry.state), not \(state): \(entry.lastError ?? "")") }
                if entry.deletionTarget?.path != expected.target { problems.append("\(name): target \(entry.deletionTarget?.path ?? "none"), not \(expected.target ?? "")") }
            default:
                let reason = entry.lastError ?? ""
                if entry.state != .parked || entry.attempts != 0 {
                    problems.append("\(name): \(entry.state) after \(entry.attempts) attempts, not parked and never attempted")
                }
                if entry.lastErrorCode != expected.code { problems.append("\(name): code \(entry.lastErrorCode ?? "none"), not \(expected.code ?? "")") }
                for part in [expected.reason ?? "", "rule '\(expected.rule ?? "")'", "action 1 (delete-", entry.archiveKey, "never run"] where !reason.contains(part) {
                    problems.append("\(name): the reason does not say \(part.debugDescription): \(reason.debugDescription)")
                }
            }
        }
        return problems
    }
}
