import JSONToolkit

/// The small object at an archive's root that declares its layout, written when a batched archive is first
/// used: `_archiver-layout.json`. An archive without one is per-record (every archive written before layouts
/// existed), so per-record archives keep working unchanged. It is an ordinary object: `aws s3 sync` and
/// `archiver sync` carry it, and its leading `_` keeps Hive-style readers (Athena, Spark) from reading it as data.
///
/// Its bytes are fixed for a layout, so two runs that write the same archive write the same manifest.
public enum LayoutManifest {
    /// The manifest's key, relative to the archive root.
    public static let key = "_archiver-layout.json"

    /// The manifest's bytes for a layout.
    public static func body(_ layout: ArchiveLayout) -> [UInt8] {
        var writer = JSONObjectWriter()
        writer.int("archiver_archive", 1)
        writer.string("layout", layout.rawValue)
        if layout == .batched {
            writer.string("objects", "YYYY/MM/DD/<HHMMSS first>-<HHMMSS last>.<records>r.<id>[.<generation>].jsonl.gz")
            writer.string("indexes", "YYYY/MM/DD/_<HHMMSS first>-<HHMMSS last>.<id>.index.gz")
        }
        return writer.finished() + [0x0A]
    }

    /// The layout the archive declares, or nil when it has no manifest (a per-record archive).
    /// - Throws: `LayoutError` when the manifest is there but not one this archiver reads; store errors.
    public static func read(_ store: any ArchiveStore) async throws -> ArchiveLayout? {
        let bytes: [UInt8]
        do {
            bytes = try await store.get(key)
        } catch let error as ArchiveStoreError where error.isNotFound {
            return nil
        }
        guard let value = try? JSONValue.parse(bytes), value["archiver_archive"] == .number("1"), let name = value["layout"]?.stringValue else {
            throw LayoutError.unreadable("\(place(store)) is not an archive manifest this archiver reads (it declares an archive's layout); move it aside if it is not one")
        }
        guard let layout = ArchiveLayout(rawValue: name) else {
            throw LayoutError.unreadable("\(place(store)) declares the layout '\(name)', which this archiver does not know (written by a newer archiver?)")
        }
        return layout
    }

    /// Where the manifest of `store` is, for messages.
    static func place(_ store: any ArchiveStore) -> String {
        store.location.hasSuffix("/") ? store.location + key : store.location + "/" + key
    }

    /// The layout a command that reads the archive works with: the declared one, per-record without a manifest.
    public static func layout(of store: any ArchiveStore) async throws -> ArchiveLayout {
        try await read(store) ?? .perRecord
    }

    /// The layout a writer (`tail`) uses: the archive's, checked against the one asked for. A batched archive is
    /// declared here the first time (after checking that the place holds no per-record objects).
    /// - Parameter requested: the layout asked for (flag or configuration); nil takes the archive's.
    /// - Throws: `LayoutError` (kind `mismatch`) when the archive has another layout than the one asked for.
    public static func prepare(_ store: any ArchiveStore, requested: ArchiveLayout?) async throws -> ArchiveLayout {
        if let declared = try await read(store) {
            if let requested, requested != declared {
                throw LayoutError.mismatch(
                    "the archive \(store.location) is \(declared) (its \(key) says so); it cannot also hold \(requested) objects. "
                        + "Run with --layout \(declared) (or leave --layout out), or give --archive a new place for a \(requested) archive")
            }
            // Written again: on S3 that makes it new, so a lifecycle rule over the whole archive neither moves it to a
            // class it cannot be read from nor expires it while the archive is written to.
            if declared == .batched { try await write(store) }
            return declared
        }
        guard requested == .batched else { return .perRecord }
        if let perRecord = try await firstPerRecordObject(store) {
            throw LayoutError.mismatch(
                "the archive \(store.location) already holds per-record objects (e.g. \(perRecord)), so it cannot become batched. "
                    + "Give --archive a new place for a batched archive, or leave --layout out to go on per-record")
        }
        try await write(store)
        return .batched
    }

    /// Writes a batched archive's manifest.
    public static func write(_ store: any ArchiveStore) async throws {
        let failures = await store.put([ArchiveObject(key: key, body: body(.batched), metadata: ["archiver-layout": "manifest"])])
        if let failure = failures.values.first { throw failure }
    }

    /// A per-record object in the first pages of the listing, if there is one.
    static func firstPerRecordObject(_ store: any ArchiveStore) async throws -> String? {
        var pages = 0
        for try await page in store.list(prefix: "") {
            if let object = page.first(where: { ArchiveKey(path: $0.key) != nil }) { return object.key }
            pages += 1
            if pages >= 10 { break }
        }
        return nil
    }
}

/// An archive's layout cannot be used as asked. Says what to do.
public struct LayoutError: Error, Sendable, CustomStringConvertible {
    public struct Kind: Sendable, Equatable, CustomStringConvertible {
        private let name: String
        /// The archive has another layout than the one asked for.
        public static let mismatch = Kind(name: "mismatch")
        /// The manifest is there but not readable by this archiver.
        public static let unreadable = Kind(name: "unreadable")
        public var description: String { name }
    }

    public let kind: Kind
    public let description: String

    static func mismatch(_ text: String) -> LayoutError { LayoutError(kind: .mismatch, description: text) }
    static func unreadable(_ text: String) -> LayoutError { LayoutError(kind: .unreadable, description: text) }
}
