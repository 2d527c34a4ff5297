import Foundation
/// One archived deletion, as `archiver ls` shows it.
public struct ListedDeletion: Sendable, Codable, Equatable {
    /// The key relative to the archive root (what `restore` takes).
    public var key: String
    /// The deletion's event time, UTC.
    public var deletedAt: String
    public var kind: DeletionKind
    /// The item key as it stands in the name.
    public var item: String
    public var size: Int64

    enum CodingKeys: String, CodingKey {
        case key, kind, item, size
        case deletedAt = "deleted_at"
    }
}

/// What `ls` lists: a month, a day or everything; optionally one item's deletions; optionally one kind.
public struct ListingFilter: Sendable {
    /// `YYYY/MM/` or `YYYY/MM/DD/` or "".
    public var prefix: String = ""
    /// A pattern over the item key (`*` matches anything), in the user's spelling.
    public var item: String?
    public var kind: DeletionKind?

    public init(month: String? = nil, date: String? = nil, item: String? = nil, kind: DeletionKind? = nil) throws {
        if let month {
            guard month.count == 7, month.split(separator: "-").map(\.count) == [4, 2], month.split(separator: "-").allSatisfy({ $0.allSatisfy(\.isNumber) }),
                let m = Int(month.suffix(2)), (1...12).contains(m)
            else { throw ListingError("--month \(month): write YYYY-MM, e.g. 2024-01") }
            prefix = month.replacingOccurrences(of: "-", with: "/") + "/"
        }
        if let date {
            let parts = date.split(separator: "-")
            guard parts.map(\.count) == [4, 2, 2], parts.allSatisfy({ $0.allSatisfy(\.isNumber) }),
                let m = Int(parts[1]), (1...12).contains(m), let d = Int(parts[2]), (1...31).contains(d)
            else { throw ListingError("--date \(date): write YYYY-MM-DD, e.g. 2024-01-15") }
            prefix = date.replacingOccurrences(of: "-", with: "/") + "/"
        }
        self.item = item
        self.kind = kind
        if let item { pattern = Self.compile(item) }
    }

    private var pattern: [String]?

    /// The item expression encoded as names encode key values, split at `*`.
    static func compile(_ expression: String) -> [String] {
        expression.split(separator: "*", omittingEmptySubsequences: false).map { part in
            part.split(separator: "_", omittingEmptySubsequences: false).map { ArchiveKey.encodeValue(String($0)) }.joined(separator: "_")
        }
    }

    public func matches(_ key: ArchiveKey) -> Bool {
        matches(item: key.itemKey, kind: key.kind)
    }

    /// Whether a record of this item key (as it stands in names) and kind is listed.
    public func matches(item: String, kind: DeletionKind) -> Bool {
        if let wanted = self.kind, kind != wanted { return false }
        guard let pattern else { return true }
        return globMatch(pattern, item)
    }
}

/// `parts` joined by `*` matches `text` (the whole of it).
func globMatch(_ parts: [String], _ text: String) -> Bool {
    guard parts.count > 1 else { return text == parts.first }
    guard text.hasPrefix(parts.first!) && text.hasSuffix(parts.last!) && text.count >= parts.first!.count + parts.last!.count else { return false }
    var rest = text.dropFirst(parts.first!.count).dropLast(parts.last!.count)
    for middle in parts.dropFirst().dropLast() where !middle.isEmpty {
        guard let range = rest.range(of: middle) else { return false }
        rest = rest[range.upperBound...]
    }
    return true
}

/// A bad `ls` filter.
public struct ListingError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Lists archived deletions in key order, a page at a time. The archive's manifest says how: per-record objects
/// are listed by name; a batched archive's records come from its indexes (their keys as per-record objects, the
/// size of their gzip member), in the order of the indexes and within each in the object's order.
public func listDeletions(in store: any ArchiveStore, filter: ListingFilter) -> AsyncThrowingStream<[ListedDeletion], any Error> {
    let layout = LayoutBox()
    // Made on first use: a store's listing starts when it is made.
    let pages = LazyIterator { store.list(prefix: filter.prefix) }
    let indexes = LazyIterator { BatchedArchive(store: store).indexes(prefix: filter.prefix) }
    return AsyncThrowingStream(unfolding: {
        if try await layout.get(store) == .batched {
            while let page = try await indexes.next() {
                let listed = page.flatMap { read in
                    read.index.entries.compactMap { entry -> ListedDeletion? in
                        guard filter.matches(item: entry.item, kind: entry.kind) else { return nil }
                        return ListedDeletion(key: entry.key, deletedAt: entry.deletedAt, kind: entry.kind, item: entry.item, size: entry.length)
                    }
                }
                if !listed.isEmpty { return listed }
            }
            return nil
        }
        while let page = try await pages.next() {
            let listed = page.compactMap { object -> ListedDeletion? in
                guard let key = ArchiveKey(path: object.key), filter.matches(key) else { return nil }
                return ListedDeletion(key: object.key, deletedAt: key.time.description, kind: key.kind, item: key.itemKey, size: object.size)
            }
            if !listed.isEmpty { return listed }
        }
        return nil
    })
}

/// An async iterator made on first use.
final class LazyIterator<Element: Sendable>: @unchecked Sendable {
    private let make: @Sendable () -> AsyncThrowingStream<Element, any Error>
    private var box: IteratorBox<Element>?
    init(_ make: @escaping @Sendable () -> AsyncThrowingStream<Element, any Error>) { self.make = make }
    func next() async throws -> Element? {
        if box == nil { box = IteratorBox(make()) }
        return try await box!.next()
    }
}

/// The archive's layout, read once on first use.
final class LayoutBox: @unchecked Sendable {
    private var layout: ArchiveLayout?
    func get(_ store: any ArchiveStore) async throws -> ArchiveLayout {
        if let layout { return layout }
        let read = try await LayoutManifest.layout(of: store)
        layout = read
        return read
    }
}

/// Keeps an async iterator between calls of an unfolding closure.
final class IteratorBox<Element: Sendable>: @unchecked Sendable {
    private var iterator: AsyncThrowingStream<Element, any Error>.AsyncIterator
    init(_ stream: AsyncThrowingStream<Element, any Error>) { iterator = stream.makeAsyncIterator() }
    func next() async throws -> Element? { try await iterator.next() }
}
