import ArchiverCore
import Foundation

/// What `restore <argument>` adds when the argument is not an archive key and names no object: the argument may
/// be an item key (the `item` that `ls --json` prints, e.g. `USER#123_PROFILE`), so the archive is searched for
/// that item's deletions and the answer says how to restore one.
struct ItemKeyHint {
    /// The argument as given.
    let argument: String
    /// `--archive` and `--to` as given, for the commands suggested.
    let archive: String
    let to: String
    /// The most deletions listed (the latest).
    static let listed = 10

    /// `error` with the hint added; `error` unchanged when the argument is an archive key or an object's key.
    func explain(_ error: any Error, store: any ArchiveStore) async -> any Error {
        guard ArchiveKey(path: argument) == nil, (try? await store.get(argument)) == nil else { return error }
        var deletions: [ListedDeletion] = []
        do {
            var order = DeletionTimeOrder()
            for try await page in listDeletions(in: store, filter: try ListingFilter(item: argument)) {
                deletions += order.add(page)
            }
            deletions += order.finish()
        } catch {
            deletions = []
        }
        return RestoreError.noObject("\(error)\n" + hint(deletions))
    }

    /// The lines that follow the error.
    func hint(_ deletions: [ListedDeletion]) -> String {
        let list = "archiver ls --archive \(shellQuoted(archive)) --item \(shellQuoted(argument))"
        guard let latest = deletions.last else {
            return "'\(argument)' is not an archive key (YYYY/MM/DD/<item key>.<HHMMSS>.<sequence>.<manual|ttl>.json.gz), "
                + "and no archived deletion has it as its item key. To find an item's deletions: \(list) (* matches anything)"
        }
        let restore = "archiver restore \(shellQuoted(latest.key)) --archive \(shellQuoted(archive)) --to \(shellQuoted(to))"
        let shown = deletions.suffix(Self.listed)
        let table = TextTable().lines(shown.map { [$0.deletedAt, $0.kind.rawValue, $0.key] }).map { "  " + $0 }
        if deletions.count == 1 {
            return (["'\(argument)' is an item key, not an archive key; the item has one archived deletion:"] + table
                + ["Restore it with: \(restore)"]).joined(separator: "\n")
        }
        let heading = "'\(argument)' is an item key, not an archive key; the item has \(deletions.count) archived deletions"
            + (deletions.count > shown.count ? ", the latest \(shown.count) of them:" : ":")
        return ([heading] + table + [
            "Restore one by its key, e.g. the latest: \(restore)",
            "(all of them: \(list))",
        ]).joined(separator: "\n")
    }
}

/// `text` as one shell word: as it is when it holds only characters no shell treats specially, else in single quotes.
func shellQuoted(_ text: String) -> String {
    let plain = !text.isEmpty && text.unicodeScalars.allSatisfy { scalar in
        scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "/._:@=+,-_".unicodeScalars.contains(scalar))
    }
    return plain ? text : "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
}
