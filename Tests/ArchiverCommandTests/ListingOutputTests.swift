import ArchiverCore
import Foundation
import Testing
@testable import archiver

/// How `ls` orders what a store lists, and what `restore` says of an item key.
@Suite struct ListingOutputTests {
    /// An entry as `ls --json` prints it (and as the listing gives it).
    static func entry(_ key: String) -> ListedDeletion {
        let parsed = ArchiveKey(path: key)!
        let json = #"{"key":"\#(key)","deleted_at":"\#(parsed.time)","kind":"\#(parsed.kind.rawValue)","item":"\#(parsed.itemKey)","size":100}"#
        return try! JSONDecoder().decode(ListedDeletion.self, from: Data(json.utf8))
    }

    @Test("each day is given out sorted by deletion time then key, once the next day begins or the listing ends")
    func dayByDay() {
        var order = DeletionTimeOrder()
        // Key order, as a store lists them, over pages that split a day.
        let first = order.add([
            Self.entry("2024/01/15/A.120000.1.manual.json.gz"),
            Self.entry("2024/01/15/B.090000.2.ttl.json.gz"),
        ])
        #expect(first.isEmpty)
        let second = order.add([
            Self.entry("2024/01/15/C.090000.3.manual.json.gz"),
            Self.entry("2024/01/16/A.080000.4.manual.json.gz"),
        ])
        #expect(second.map(\.key) == [
            "2024/01/15/B.090000.2.ttl.json.gz", "2024/01/15/C.090000.3.manual.json.gz", "2024/01/15/A.120000.1.manual.json.gz",
        ])
        #expect(order.finish().map(\.key) == ["2024/01/16/A.080000.4.manual.json.gz"])
        #expect(order.finish().isEmpty)
    }

    @Test("an item key's hint lists its deletions, the latest last, and the command that restores the latest")
    func itemKeyHint() {
        let hint = ItemKeyHint(argument: "USER#1", archive: "s3://b/p", to: "dynamodb:users")
        let one = hint.hint([Self.entry("2024/01/15/USER#1.090000.2.ttl.json.gz")])
        #expect(one == """
            'USER#1' is an item key, not an archive key; the item has one archived deletion:
              2024-01-15T09:00:00Z  ttl  2024/01/15/USER#1.090000.2.ttl.json.gz
            Restore it with: archiver restore '2024/01/15/USER#1.090000.2.ttl.json.gz' --archive s3://b/p --to dynamodb:users
            """)
        let many = (1...12).map { Self.entry("2024/01/\(10 + $0)/USER#1.090000.\($0).manual.json.gz") }
        let text = hint.hint(many)
        #expect(text.hasPrefix("'USER#1' is an item key, not an archive key; the item has 12 archived deletions, the latest 10 of them:"))
        #expect(!text.contains("2024/01/11/") && !text.contains("2024/01/12/") && text.contains("2024/01/13/"))
        #expect(text.contains("Restore one by its key, e.g. the latest: archiver restore '2024/01/22/USER#1.090000.12.manual.json.gz'"))
        #expect(text.contains("(all of them: archiver ls --archive s3://b/p --item 'USER#1')"))
        let none = hint.hint([])
        #expect(none.contains("'USER#1' is not an archive key") && none.contains("archiver ls --archive s3://b/p --item 'USER#1'"))
    }
}
