import ArchiverCore

/// One listing an erasure makes to find the versions of some of its keys: the names under `prefix`, in a bucket that
/// never had versioning from just after `after` up to the page that passes `last` (a versioned bucket lists the whole
/// prefix). Only `keys` are taken from it, so a name two listings both reach is found once.
struct ErasureListing: Sendable, Equatable {
    /// Relative to the archive's prefix.
    var prefix: String
    var keys: [String]
    var after: String?
    var last: String?
}

/// How an erasure's keys are listed: a page's worth of keys per listing, side by side.
///
/// The keys of one day folder, in name order, are cut into ranges of a page (1,000 keys), each listed under the
/// longest name its keys share from just before its first key to its last: a subject's 10,000 keys of a day are ten
/// listings of one page each, made at once, instead of one listing paging through the day's names one after another
/// (every request a full page: the fewest requests the keys allow). A few keys whose names share nothing but their
/// folder are listed one by one (a listing of the folder would read every other subject's names of that day).
enum ErasureListings {
    /// Keys a range holds (ListObjectsV2 and ListObjectVersions return up to 1,000 names a page).
    static let rangeKeys = 1000
    /// A range's keys with no longer common name than their folder are listed one by one below this many.
    static let fewKeys = 64

    /// - Parameter rangeKeys: keys a range holds; a versioned bucket, whose listings cannot start mid-name (a key
    ///   marker skips the first version after it on some stores), lists each folder's keys as one range.
    static func plan(_ keys: [String], rangeKeys: Int = rangeKeys) -> [ErasureListing] {
        var folders: [String: [String]] = [:]
        for key in Set(keys) { folders[FileSystem.parent(of: key), default: []].append(key) }
        var listings: [ErasureListing] = []
        for folder in folders.keys.sorted() {
            let members = folders[folder]!.map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) }
            var start = 0
            while start < members.count {
                let end = members.count - start > rangeKeys ? start + rangeKeys : members.count
                listings += listing(of: members[start..<end], folder: folder)
                start = end
            }
        }
        return listings
    }

    private static func listing(of range: ArraySlice<[UInt8]>, folder: String) -> [ErasureListing] {
        let names = range.map { String(decoding: $0, as: UTF8.self) }
        guard names.count > 1 else { return names.map { ErasureListing(prefix: $0, keys: [$0], after: nil, last: nil) } }
        var length = commonLength(range.first!, range.last!)
        // Cut at a whole character.
        while length > 0, String(validating: range.first![..<length], as: UTF8.self) == nil { length -= 1 }
        let prefix = String(decoding: range.first![..<length], as: UTF8.self)
        if prefix.utf8.count <= folder.utf8.count + 1 && names.count < fewKeys {
            return names.map { ErasureListing(prefix: $0, keys: [$0], after: nil, last: nil) }
        }
        // The first key less its last character sorts before it, and after nothing of the range.
        let first = names[0]
        return [ErasureListing(prefix: prefix, keys: names, after: first.count > prefix.count ? String(first.dropLast()) : nil, last: names[names.count - 1])]
    }

    private static func commonLength(_ a: [UInt8], _ b: [UInt8]) -> Int {
        var length = 0
        while length < min(a.count, b.count) && a[length] == b[length] { length += 1 }
        return length
    }
}
