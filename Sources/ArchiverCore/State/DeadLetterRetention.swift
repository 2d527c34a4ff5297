import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Removing dead letters past a retention (`archiver cleanup --dead-letters-older-than`), safely beside a running
/// tail or a `dlq retry` that may rewrite an entry at the same moment.
///
/// An entry is first renamed aside (`.removing-<id>.json`, a name no listing shows), read again there, and
/// unlinked only if its last failure is still before the cutoff. If it is not (a retry failed again and rewrote
/// it in between), it is put back, unless a newer entry took its place meanwhile. A cleanup killed half-way leaves
/// the aside file, which the next cleanup finishes the same way: no entry is lost, whatever the timing.
extension DeadLetterFolder {
    static let removingPrefix = ".removing-"

    /// When an entry last failed, as a date; nil when the stamp does not read.
    public static func lastFailure(of entry: DeadLetter) -> Date? {
        ISO8601DateFormatter().date(from: entry.lastFailedAt)
    }

    /// Removes entry `id` if it last failed before `cutoff`.
    /// - Returns: true when it was removed; false when it was gone already, is newer, or does not read back as an
    ///   entry (a damaged entry is left for `dlq drop`).
    /// - Throws: `StateError` when the folder cannot be written.
    public func removeIfLastFailed(before cutoff: Date, id: String) async throws -> Bool {
        guard !id.isEmpty, id.allSatisfy(\.isHexDigit) else { throw StateError.invalidDeadLetterID(id) }
        let folder = path
        return try await runBlockingThrowing {
            let entry = "\(folder)/\(id).json"
            let aside = "\(folder)/\(Self.removingPrefix)\(id).json"
            do {
                try FileSystem.rename(entry, aside)
            } catch let failure as FileSystem.Failure where failure.code == ENOENT {
                return false
            } catch {
                throw StateError.unusable("cannot move the dead-letter entry \(entry) aside to remove it: \(error)")
            }
            return try Self.settle(aside: aside, entry: entry, cutoff: cutoff, folder: folder)
        }
    }

    /// Finishes the removals a killed cleanup left half-done (aside files): each is removed if it last failed
    /// before `cutoff`, and put back otherwise. Returns how many were removed.
    @discardableResult
    public func finishInterruptedRemovals(before cutoff: Date) async throws -> Int {
        let folder = path
        return try await runBlockingThrowing {
            guard FileSystem.isFolder(folder) else { return 0 }
            var removed = 0
            for name in try FileSystem.entries(folder) where name.hasPrefix(Self.removingPrefix) && name.hasSuffix(".json") {
                let id = name.dropFirst(Self.removingPrefix.count).dropLast(".json".count)
                guard !id.isEmpty, id.allSatisfy(\.isHexDigit) else { continue }
                if try Self.settle(aside: "\(folder)/\(name)", entry: "\(folder)/\(id).json", cutoff: cutoff, folder: folder) {
                    removed += 1
                }
            }
            return removed
        }
    }

    /// Unlinks the aside file if it is an entry that last failed before `cutoff`; otherwise puts it back where no
    /// newer entry stands. True when it was removed.
    private static func settle(aside: String, entry: String, cutoff: Date, folder: String) throws -> Bool {
        let old: Bool
        if let bytes = try? FileSystem.readFile(aside), let letter = try? JSONDecoder().decode(DeadLetter.self, from: Data(bytes)),
            let last = lastFailure(of: letter)
        {
            old = last < cutoff
        } else {
            old = false
        }
        if !old {
            // link() never replaces: an entry written in between is newer than this one and stays.
            if link(aside, entry) != 0 && errno != EEXIST {
                throw StateError.unusable(FileSystem.Failure(operation: "put back", path: entry, code: errno).description)
            }
        }
        if unlink(aside) != 0 && errno != ENOENT {
            throw StateError.unusable(FileSystem.Failure(operation: "delete", path: aside, code: errno).description)
        }
        try? FileSystem.fsyncPath(folder)
        return old
    }
}
