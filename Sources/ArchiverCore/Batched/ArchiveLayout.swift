/// How an archive holds its records: one object per record (the default), or many records per object.
///
/// An archive declares its layout once, in a manifest at its root (`LayoutManifest`); an archive without one
/// is per-record, as every archive written before layouts existed.
public enum ArchiveLayout: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// `<YYYY>/<MM>/<DD>/<item key>.<HHMMSS>.<sequence>.<kind>.json.gz`, one gzip object per record.
    case perRecord = "per-record"
    /// `<YYYY>/<MM>/<DD>/<HHMMSS>-<HHMMSS>.<n>r.<id>.jsonl.gz`, one gzip member per record, with an index each.
    case batched

    public var description: String { rawValue }
}

/// Where a batched archive cuts its objects. Every limit depends only on the records (their order, event times
/// and compressed sizes), never on the wall clock or on how the source happened to batch its reads, so a replay
/// after a crash cuts at the same records and writes the same objects with the same bytes.
///
/// Before a record is added to an object, the object is closed (written) when:
/// - the record's UTC day differs (an object lies within one date folder);
/// - the object holds `maxRecords` records, or the record would take it past `maxBytes`;
/// - the record falls in another event-time window (`window`, counted from midnight UTC) than the object's last
///   record, and the object is at least `minBytes` (a smaller object goes on into the next window, so that S3
///   lifecycle, which moves nothing under 128 KiB, applies to it).
///
/// `flushAfter`, when set, also closes an object that has been open that long by the wall clock: opt-in, and
/// giving up exact replay (see the README).
public struct BatchLimits: Sendable, Equatable {
    /// The most bytes an object may hold (gzip members; a single larger record gets an object of its own).
    public var maxBytes: Int
    /// The most records an object may hold (bounds the index too).
    public var maxRecords: Int
    /// An object smaller than this is not cut at a window's end.
    public var minBytes: Int
    /// The event-time window, in seconds (1 to 86,400).
    public var window: Int
    /// Close objects open longer than this many seconds (wall clock); nil: never.
    public var flushAfter: Double?

    public static let defaultMaxBytes = 32 << 20
    public static let defaultMaxRecords = 100_000
    public static let defaultMinBytes = 128 << 10
    public static let defaultWindow = 900
    /// The largest `maxBytes` allowed: an open object is held in memory until it is written. At 32 MiB a tail's peak
    /// memory stays near 130 MB (at 64 MiB it was 170 MB); requests and transitions cost nothing that matters at that
    /// size (see the README).
    public static let largestMaxBytes = 32 << 20

    public init(maxBytes: Int = BatchLimits.defaultMaxBytes, maxRecords: Int = BatchLimits.defaultMaxRecords,
                minBytes: Int = BatchLimits.defaultMinBytes, window: Int = BatchLimits.defaultWindow, flushAfter: Double? = nil) {
        self.maxBytes = maxBytes
        self.maxRecords = maxRecords
        self.minBytes = minBytes
        self.window = window
        self.flushAfter = flushAfter
    }

    /// What is wrong with these limits, or nil.
    public var problem: String? {
        if maxBytes < 1024 || maxBytes > Self.largestMaxBytes {
            return "the largest object must be 1 KiB to \(Self.largestMaxBytes >> 20) MiB (\(maxBytes) bytes given): an object is held in memory until it is written"
        }
        if maxRecords < 1 || maxRecords > 10_000_000 { return "the most records an object holds must be 1 to 10,000,000 (\(maxRecords) given)" }
        if minBytes < 0 || minBytes > maxBytes { return "the smallest object (\(minBytes) bytes) must be between 0 and the largest (\(maxBytes) bytes)" }
        if window < 1 || window > 86_400 { return "the window must be 1 second to 1 day (\(window) s given)" }
        if let flushAfter, !(flushAfter >= 1) { return "flush-after must be at least 1 second (\(flushAfter) s given)" }
        return nil
    }
}

/// How a tail writes: the layout, and for a batched archive where it cuts objects.
public struct LayoutChoice: Sendable, Equatable {
    /// The layout asked for; nil takes the archive's (per-record for a new archive).
    public var layout: ArchiveLayout?
    public var limits: BatchLimits

    public init(layout: ArchiveLayout? = nil, limits: BatchLimits = BatchLimits()) {
        self.layout = layout
        self.limits = limits
    }
}
