import ArchiverCore
import Foundation

/// The behaviour every `ArchiveStore` must have, run against each implementation (folder, S3).
/// Each check throws `ConformanceFailure` naming what broke.
public enum ArchiveStoreConformance {
    public struct ConformanceFailure: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    static func check(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw ConformanceFailure(message()) }
    }

    /// Every check, in turn, on an empty store.
    public static func run(_ store: any ArchiveStore) async throws {
        try await putGetHeadRoundTrip(store)
        try await rangedGet(store)
        try await replaceIsWhole(store)
        try await listIsOrderedAndFiltered(store)
        try await listPagesManyObjects(store)
        try await deleteRemovesOnlyNamed(store)
        try await missingObjects(store)
        try await refusesEscapingKeys(store)
    }

    static func object(_ key: String, _ text: String) -> ArchiveObject {
        ArchiveObject(key: key, body: Array(text.utf8), metadata: ["archiver-kind": "manual"])
    }

    public static func putGetHeadRoundTrip(_ store: any ArchiveStore) async throws {
        let keys = [
            "2024/01/15/USER#123_PROFILE.103000.1.manual.json.gz",
            "2024/01/15/caf\u{e9} %2F+=,@.103000.2.ttl.json.gz",
            "2024/01/15/\u{6771}\u{4eac}_\u{1F600}.103000.3.manual.json.gz",
        ]
        let failures = await store.put(keys.enumerated().map { object($1, "body \($0)") })
        try check(failures.isEmpty, "put failed: \(failures)")
        for (i, key) in keys.enumerated() {
            let bytes = try await store.get(key)
            try check(bytes == Array("body \(i)".utf8), "get \(key) returned other bytes")
            let info = try await store.head(key)
            try check(info?.size == Int64("body \(i)".utf8.count), "head \(key) has size \(String(describing: info?.size))")
        }
    }

    public static func rangedGet(_ store: any ArchiveStore) async throws {
        let key = "2024/03/01/RANGE.000000.1.manual.json.gz"
        let body = (0..<300).map { UInt8($0 % 251) }
        let failures = await store.put([ArchiveObject(key: key, body: body)])
        try check(failures.isEmpty, "put failed: \(failures)")
        try check(try await store.get(key, range: 10..<20) == Array(body[10..<20]), "get 10..<20 returned other bytes")
        try check(try await store.get(key, range: 0..<1) == [body[0]], "get of the first byte returned other bytes")
        try check(try await store.get(key, range: 290..<400) == Array(body[290...]), "a range past the end is not cut at the end")
        do {
            _ = try await store.get("1999/01/01/NOPE.000000.1.manual.json.gz", range: 0..<10)
            throw ConformanceFailure("a ranged get of a missing object succeeded")
        } catch let error as ArchiveStoreError {
            try check(error.isNotFound, "ranged get of a missing object: \(error)")
        }
    }

    public static func replaceIsWhole(_ store: any ArchiveStore) async throws {
        let key = "2024/02/01/REPLACE.000000.1.manual.json.gz"
        _ = await store.put([object(key, "first")])
        let failures = await store.put([object(key, "second, longer")])
        try check(failures.isEmpty, "replacing failed: \(failures)")
        try check(try await store.get(key) == Array("second, longer".utf8), "replace did not take")
    }

    public static func listIsOrderedAndFiltered(_ store: any ArchiveStore) async throws {
        let keys = ["2023/12/31/A.000000.1.manual.json.gz", "2023/12/01/B.000000.2.ttl.json.gz", "2023/11/30/C.000000.3.manual.json.gz"]
        _ = await store.put(keys.map { object($0, $0) })
        var listed: [String] = []
        for try await page in store.list(prefix: "2023/12/") { listed += page.map(\.key) }
        try check(listed == ["2023/12/01/B.000000.2.ttl.json.gz", "2023/12/31/A.000000.1.manual.json.gz"], "list 2023/12/ gave \(listed)")
        var all: [String] = []
        for try await page in store.list(prefix: "") { all += page.map(\.key) }
        try check(all == all.sorted(), "list is not in key order")
        try check(!all.contains { $0.split(separator: "/").contains { $0.hasPrefix(".") } }, "list shows hidden or temporary objects: \(all)")
    }

    public static func listPagesManyObjects(_ store: any ArchiveStore) async throws {
        let keys = (0..<2345).map { String(format: "2022/06/01/ITEM#%05d.000000.%d.manual.json.gz", $0, $0) }
        var start = 0
        while start < keys.count {
            let slice = keys[start..<min(keys.count, start + 500)]
            let failures = await store.put(slice.map { object($0, "x") })
            try check(failures.isEmpty, "put of many failed: \(failures.first!)")
            start += 500
        }
        var listed: [String] = []
        var pages = 0
        for try await page in store.list(prefix: "2022/06/") {
            listed += page.map(\.key)
            pages += 1
        }
        try check(listed == keys, "listing \(keys.count) objects gave \(listed.count)")
        try check(pages >= 3, "listing \(keys.count) objects came in \(pages) pages; pages hold at most 1000")
    }

    public static func deleteRemovesOnlyNamed(_ store: any ArchiveStore) async throws {
        let keys = (0..<1500).map { "2021/03/04/DEL#\($0).000000.\($0).manual.json.gz" }
        var start = 0
        while start < keys.count {
            _ = await store.put(keys[start..<min(keys.count, start + 500)].map { object($0, "d") })
            start += 500
        }
        try await store.delete(Array(keys.prefix(1200)) + ["2021/03/04/NEVER.000000.0.manual.json.gz"])
        var left: [String] = []
        for try await page in store.list(prefix: "2021/03/04/") { left += page.map(\.key) }
        try check(left == Array(keys.suffix(300)).sorted(), "after deleting 1200 of 1500, \(left.count) are left")
    }

    public static func missingObjects(_ store: any ArchiveStore) async throws {
        do {
            _ = try await store.get("1999/01/01/NOPE.000000.1.manual.json.gz")
            throw ConformanceFailure("get of a missing object succeeded")
        } catch let error as ArchiveStoreError {
            try check(error.isNotFound, "get of a missing object: \(error)")
        }
        try check(try await store.head("1999/01/01/NOPE.000000.1.manual.json.gz") == nil, "head of a missing object is not nil")
    }

    public static func refusesEscapingKeys(_ store: any ArchiveStore) async throws {
        for key in ["../escape.json.gz", "2024/../../x.json.gz", "/abs.json.gz", "2024/01/.hidden.json.gz"] {
            let failures = await store.put([object(key, "no")])
            try check(failures[0]?.isRejected == true, "the key \(key) was not refused")
        }
    }
}
