import Foundation
import Testing
import TestSupport

/// `ls` in the order deletions happened, and `restore` given an item key instead of an archive key.
@Suite struct ListOrderAndItemKeyTests {
    /// Deletions whose key order is not their time order: (item key, seconds after 2024-01-15T00:00:00Z, sequence).
    static let deletions: [(item: String, offset: Int, sequence: Int)] = [
        ("C#1", 10 * 3600 + 1800, 12),
        ("A#1", 12 * 3600, 11),
        ("B#1", 9 * 3600, 10),
        ("A#1", 8 * 3600, 13),
        ("A#1", 31 * 3600, 14),  // the next day, 07:00
        ("D#1", -3600, 15),  // the day before, 23:00
        ("0#1", 10 * 3600 + 1800, 16),  // the same second as C#1 and E#1: key order breaks the tie
        ("E#1", 10 * 3600 + 1800, 17),
    ]
    static let dayStart = 1_705_276_800

    /// The archive keys in the order the deletions happened.
    static let keysInTimeOrder = [
        "2024/01/14/D#1.230000.15.manual.json.gz",
        "2024/01/15/A#1.080000.13.manual.json.gz",
        "2024/01/15/B#1.090000.10.manual.json.gz",
        "2024/01/15/0#1.103000.16.manual.json.gz",
        "2024/01/15/C#1.103000.12.manual.json.gz",
        "2024/01/15/E#1.103000.17.manual.json.gz",
        "2024/01/15/A#1.120000.11.manual.json.gz",
        "2024/01/16/A#1.070000.14.manual.json.gz",
    ]

    /// A folder whose `archive` holds the deletions above.
    static func archived() throws -> TemporaryFolder {
        let folder = TemporaryFolder("ls-order")
        let lines = deletions.map { d in
            #"{"eventName":"REMOVE","dynamodb":{"ApproximateCreationDateTime":\#(dayStart + d.offset),"Keys":{"PK":{"S":"\#(d.item)"}},"#
                + #""OldImage":{"PK":{"S":"\#(d.item)"},"n":{"N":"\#(d.sequence)"}},"SequenceNumber":"\#(d.sequence)"}}"#
        }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: folder("feed.jsonl")))
        let tail = try BuiltBinary.run(["tail", "--source", "jsonl:feed.jsonl", "--archive", "archive", "--state", "state", "--once"], in: folder.path)
        #expect(tail.status == 0, "\(tail.stderr)")
        #expect(folder.files(under: "archive").filter { !$0.hasPrefix(".") } == keysInTimeOrder.sorted())
        return folder
    }

    @Test("ls lists deletions in the order they happened, within a day too, in text and in JSON")
    func lsListsInDeletionTimeOrder() throws {
        let folder = try Self.archived()
        defer { folder.remove() }
        let text = try BuiltBinary.run(["ls", "--archive", "archive"], in: folder.path)
        #expect(text.status == 0, "\(text.stderr)")
        let rows = text.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(rows.map { $0.last ?? "" } == Self.keysInTimeOrder, "\(text.stdout)")
        #expect(rows.first?.first == "2024-01-14T23:00:00Z")
        // The columns line up: the key starts at the same place on every line.
        #expect(Set(text.stdout.split(separator: "\n").map { $0.range(of: "2024/")!.lowerBound.utf16Offset(in: $0) }).count == 1)

        let json = try BuiltBinary.run(["ls", "--archive", "archive", "--json"], in: folder.path)
        let entries = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [[String: Any]]
        #expect(entries.map { $0["key"] as! String } == Self.keysInTimeOrder)
        let times = entries.map { $0["deleted_at"] as! String }
        #expect(times == times.sorted())

        let day = try BuiltBinary.run(["ls", "--archive", "archive", "--date", "2024-01-15", "--json"], in: folder.path)
        let dayEntries = try JSONSerialization.jsonObject(with: Data(day.stdout.utf8)) as! [[String: Any]]
        #expect(dayEntries.map { $0["key"] as! String } == Self.keysInTimeOrder.filter { $0.hasPrefix("2024/01/15/") })
    }

    @Test("restore given an item key lists that item's deletions and says how to restore one")
    func restoreOfAnItemKeyPointsAtItsDeletions() throws {
        let folder = try Self.archived()
        defer { folder.remove() }
        // The `item` that ls --json prints.
        let listed = try BuiltBinary.run(["ls", "--archive", "archive", "--json"], in: folder.path)
        let items = (try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as! [[String: Any]]).map { $0["item"] as! String }
        #expect(items.contains("A#1"))

        let several = try BuiltBinary.run(["restore", "A#1", "--archive", "archive", "--to", "-"], in: folder.path)
        #expect(several.status != 0)
        #expect(several.stdout.isEmpty)
        #expect(several.stderr.contains("'A#1' is an item key, not an archive key; the item has 3 archived deletions"), "\(several.stderr)")
        for key in Self.keysInTimeOrder where key.contains("/A#1.") {
            #expect(several.stderr.contains(key), "\(several.stderr)")
        }
        let latest = "archiver restore '2024/01/16/A#1.070000.14.manual.json.gz' --archive archive --to -"
        #expect(several.stderr.contains(latest), "\(several.stderr)")
        #expect(several.stderr.contains("archiver ls --archive archive --item 'A#1'"), "\(several.stderr)")

        let one = try BuiltBinary.run(["restore", "C#1", "--archive", "archive", "--to", "-"], in: folder.path)
        #expect(one.status != 0)
        #expect(one.stderr.contains("the item has one archived deletion"), "\(one.stderr)")
        #expect(one.stderr.contains("Restore it with: archiver restore '2024/01/15/C#1.103000.12.manual.json.gz' --archive archive --to -"), "\(one.stderr)")

        // The command suggested works.
        let suggested = try BuiltBinary.run(["restore", "2024/01/16/A#1.070000.14.manual.json.gz", "--archive", "archive", "--to", "-"], in: folder.path)
        #expect(suggested.status == 0, "\(suggested.stderr)")
        #expect(suggested.stdout.contains(#""N":"14""#))

        let none = try BuiltBinary.run(["restore", "Z#9", "--archive", "archive", "--to", "-"], in: folder.path)
        #expect(none.status != 0)
        #expect(none.stderr.contains("no archived object 'Z#9'"), "\(none.stderr)")
        #expect(none.stderr.contains("'Z#9' is not an archive key") && none.stderr.contains("--item"), "\(none.stderr)")

        // An archive key that names nothing gets no item hint.
        let missing = try BuiltBinary.run(["restore", "2024/01/15/A#1.000000.1.manual.json.gz", "--archive", "archive", "--to", "-"], in: folder.path)
        #expect(missing.status != 0)
        #expect(!missing.stderr.contains("item key"), "\(missing.stderr)")
    }
}
