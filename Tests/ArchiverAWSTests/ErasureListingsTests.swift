@testable import ArchiverAWS
import Testing

/// How an erasure's keys are cut into listings: every key in exactly one, each range under a name all its keys share,
/// bounded around them, of a page.
@Suite("Erasure listings: ranges of a page under the names their keys share")
struct ErasureListingsTests {
    static func key(_ day: Int, _ subject: String, _ item: Int) -> String {
        "2024/01/\(day)/USER%23\(subject)_ITEM%23\(item).103000.\(100_000 + item).manual.json.gz"
    }

    /// Every key in exactly one listing, under its prefix, after its `after` and not past its `last`.
    static func check(_ keys: [String], _ listings: [ErasureListing]) {
        let listed = listings.flatMap(\.keys)
        #expect(listed.count == Set(keys).count)
        #expect(Set(listed) == Set(keys))
        for listing in listings {
            for key in listing.keys {
                #expect(key.hasPrefix(listing.prefix), "\(key) under \(listing.prefix)")
                if let after = listing.after { #expect(after.utf8.lexicographicallyPrecedes(key.utf8), "\(after) before \(key)") }
                if let last = listing.last { #expect(!last.utf8.lexicographicallyPrecedes(key.utf8), "\(key) not past \(last)") }
            }
        }
    }

    @Test func aSubjectsTenThousandKeysOfADayAreListedInTenRangesOfAPage() {
        let keys = (0..<10_000).map { Self.key(23, "victim", $0) }
        let listings = ErasureListings.plan(keys)
        Self.check(keys, listings)
        #expect(listings.allSatisfy { $0.keys.count <= ErasureListings.rangeKeys })
        #expect(listings.count == 10, "a page each")
        let shared = "2024/01/23/USER%23victim_ITEM%23"
        #expect(listings.allSatisfy { $0.prefix.hasPrefix(shared) })
        // Side by side, not overlapping: each range starts after the one before ends.
        for (a, b) in zip(listings, listings.dropFirst()) {
            #expect(a.last!.utf8.lexicographicallyPrecedes(b.after!.utf8) || a.last! == b.after!, "\(a.last!) then \(b.after!)")
        }
    }

    @Test func aVersionedBucketListsADayFoldersKeysAtOnce() {
        let keys = (0..<10_000).map { Self.key(23 + $0 % 2, "victim", $0) }
        let listings = ErasureListings.plan(keys, rangeKeys: .max)
        Self.check(keys, listings)
        #expect(listings.count == 2 && listings.allSatisfy { $0.keys.count == 5000 && $0.prefix.hasSuffix("USER%23victim_ITEM%23") })
    }

    @Test func keysOfSeveralDaysAreListedPerDay() {
        let keys = (0..<3000).map { Self.key(20 + $0 % 3, "victim", $0) }
        let listings = ErasureListings.plan(keys)
        Self.check(keys, listings)
        for listing in listings {
            #expect(Set(listing.keys.map { String($0.prefix(11)) }).count == 1, "one day folder per listing")
        }
    }

    @Test func aFewKeysWithNothingButTheirFolderInCommonAreListedOneByOne() {
        let keys = ["a", "B", "c", "D", "e", "f", "G", "h", "i", "J"].enumerated().map { "2024/01/15/\($1)%23\($0)_ITEM%231.103000.1.manual.json.gz" }
        let listings = ErasureListings.plan(keys)
        Self.check(keys, listings)
        #expect(listings.count == 10)
        #expect(listings.allSatisfy { $0.keys.count == 1 && $0.prefix == $0.keys[0] })
    }

    @Test func aKeyThatIsThePrefixOfOthersAndNamesBeyondASCIIStayWhole() {
        var keys = ["2024/01/15/a", "2024/01/15/ab"] + (0..<1500).map { "2024/01/15/a\($0 % 2 == 0 ? "é" : "ü")\($0)" }
        keys += (0..<1200).map { "2024/01/15/a\u{1F600}\($0)" }
        let listings = ErasureListings.plan(keys + keys.prefix(5))
        Self.check(keys, listings)
        for listing in listings {
            #expect(String(decoding: Array(listing.prefix.utf8), as: UTF8.self) == listing.prefix)
            #expect(listing.keys.count <= ErasureListings.rangeKeys)
        }
    }
}

