import JSONToolkit

/// The `layout:` and `batching:` settings of the configuration file, and of `tail`'s flags and environment:
///
/// ```yaml
/// layout: batched            # or per-record (the default); ARCHIVER_LAYOUT, --layout
/// batching:
///   max-bytes: 32MiB         # ARCHIVER_BATCH_MAX_BYTES, --batch-max-bytes (at most 32MiB)
///   max-records: 100000      # ARCHIVER_BATCH_MAX_RECORDS, --batch-max-records
///   min-bytes: 128KiB        # ARCHIVER_BATCH_MIN_BYTES, --batch-min-bytes
///   window: 15m              # ARCHIVER_BATCH_WINDOW, --batch-window
///   flush-after: 1h          # ARCHIVER_BATCH_FLUSH_AFTER, --batch-flush-after (opt-in; gives up exact replay)
/// ```
///
/// Each value is nil when not given; `choice(flags:environment:)` resolves flag > environment > file > default.
public struct LayoutSettings: Sendable, Equatable {
    public var layout: ArchiveLayout?
    public var maxBytes: Int?
    public var maxRecords: Int?
    public var minBytes: Int?
    public var window: Int?
    public var flushAfter: Double?

    public init(layout: ArchiveLayout? = nil, maxBytes: Int? = nil, maxRecords: Int? = nil, minBytes: Int? = nil, window: Int? = nil,
                flushAfter: Double? = nil) {
        self.layout = layout
        self.maxBytes = maxBytes
        self.maxRecords = maxRecords
        self.minBytes = minBytes
        self.window = window
        self.flushAfter = flushAfter
    }

    /// The top-level keys this section reads.
    static let keys = ["layout", "batching"]

    /// Reads `layout:` and `batching:` from the document's top mapping.
    public init(reading top: ConfigurationMapping) throws {
        self.init()
        if let value = top.value("layout") {
            layout = ArchiveLayout(rawValue: try value.choice(ArchiveLayout.allCases.map(\.rawValue)))
        }
        guard let batching = try top.value("batching")?.mapping() else { return }
        maxBytes = try batching.value("max-bytes").map { value in
            guard let bytes = Self.size(try value.string()) else { throw value.invalid("'\(try value.string())' is not a size; write e.g. 32MiB, 512KiB or 1048576") }
            return bytes
        }
        maxRecords = try batching.value("max-records")?.int(in: 1...10_000_000)
        minBytes = try batching.value("min-bytes").map { value in
            guard let bytes = Self.size(try value.string()) else { throw value.invalid("'\(try value.string())' is not a size; write e.g. 128KiB or 131072") }
            return bytes
        }
        window = try batching.value("window").map { value in
            let duration = try value.duration()
            guard duration.seconds >= 1, duration.seconds <= 86_400, duration.seconds.rounded() == duration.seconds else {
                throw value.invalid("the window must be whole seconds, from 1s to 1d (\(duration) given)")
            }
            return Int(duration.seconds)
        }
        flushAfter = try batching.value("flush-after").map { value in
            let duration = try value.duration()
            guard duration.seconds >= 1 else { throw value.invalid("flush-after must be at least 1s (\(duration) given)") }
            return duration.seconds
        }
        try batching.finish()
        if let problem = BatchLimits(
            maxBytes: maxBytes ?? BatchLimits.defaultMaxBytes, maxRecords: maxRecords ?? BatchLimits.defaultMaxRecords,
            minBytes: minBytes ?? BatchLimits.defaultMinBytes, window: window ?? BatchLimits.defaultWindow, flushAfter: flushAfter
        ).problem {
            throw batching.invalid(problem)
        }
    }

    /// `32MiB`, `512KiB`, `1GiB`, `128KB` (KB counted in 1,024s, as S3 counts its 128 KB minimum) or plain bytes.
    public static func size(_ text: String) -> Int? {
        let units: [(String, Int)] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10), ("B", 1)]
        let trimmed = text.filter { $0 != " " && $0 != "_" }
        for (suffix, scale) in units where trimmed.hasSuffix(suffix) {
            guard let number = Double(trimmed.dropLast(suffix.count)), number >= 0, number * Double(scale) < 1e15 else { return nil }
            return Int(number * Double(scale))
        }
        return Int(trimmed).flatMap { $0 >= 0 ? $0 : nil }
    }

    /// The settings after `flags` and the environment (`ARCHIVER_LAYOUT`, `ARCHIVER_BATCH_*`), in that order,
    /// override these; the defaults fill in the rest.
    /// - Throws: `LayoutSettingsError` for an environment value that cannot be read or limits that do not fit.
    public func choice(flags: LayoutSettings, environment: [String: String]) throws -> LayoutChoice {
        func resolve<T: Sendable>(_ flag: T?, _ variable: String, _ read: (String) -> T?, _ expected: String, _ file: T?, _ fallback: T) throws -> T {
            try Setting.resolve(flag: flag, variable: variable, environment: environment, parse: { text in
                guard let value = read(text) else { throw LayoutSettingsError("\(variable)='\(text)': \(expected)") }
                return value
            }, file: file, fallback: fallback).value
        }
        var layout = self.layout
        if let text = environment["ARCHIVER_LAYOUT"], !text.isEmpty {
            guard let value = ArchiveLayout(rawValue: text) else { throw LayoutSettingsError("ARCHIVER_LAYOUT='\(text)': write per-record or batched") }
            layout = value
        }
        layout = flags.layout ?? layout
        var flushAfter = self.flushAfter
        if let text = environment["ARCHIVER_BATCH_FLUSH_AFTER"], !text.isEmpty {
            guard let value = ConfigurationDuration(text) else { throw LayoutSettingsError("ARCHIVER_BATCH_FLUSH_AFTER='\(text)': write a duration such as 1h") }
            flushAfter = value.seconds
        }
        flushAfter = flags.flushAfter ?? flushAfter
        let limits = BatchLimits(
            maxBytes: try resolve(flags.maxBytes, "ARCHIVER_BATCH_MAX_BYTES", Self.size, "write a size such as 32MiB", maxBytes, BatchLimits.defaultMaxBytes),
            maxRecords: try resolve(flags.maxRecords, "ARCHIVER_BATCH_MAX_RECORDS", { Int($0) }, "write a whole number", maxRecords, BatchLimits.defaultMaxRecords),
            minBytes: try resolve(flags.minBytes, "ARCHIVER_BATCH_MIN_BYTES", Self.size, "write a size such as 128KiB", minBytes, BatchLimits.defaultMinBytes),
            window: try resolve(flags.window, "ARCHIVER_BATCH_WINDOW", { ConfigurationDuration($0).map { Int($0.seconds) } }, "write a duration such as 15m", window, BatchLimits.defaultWindow),
            flushAfter: flushAfter)
        if let problem = limits.problem { throw LayoutSettingsError(problem) }
        return LayoutChoice(layout: layout, limits: limits)
    }

    /// What `config check` prints.
    public var described: [(String, JSONValue)] {
        [
            ("layout", .string((layout ?? .perRecord).rawValue)),
            ("batching", .object([
                ("max-bytes", .integer(maxBytes ?? BatchLimits.defaultMaxBytes)),
                ("max-records", .integer(maxRecords ?? BatchLimits.defaultMaxRecords)),
                ("min-bytes", .integer(minBytes ?? BatchLimits.defaultMinBytes)),
                ("window", .string(ConfigurationDuration(seconds: Double(window ?? BatchLimits.defaultWindow)).text)),
                ("flush-after", flushAfter.map { .string(ConfigurationDuration(seconds: $0).text) } ?? .null),
            ])),
        ]
    }
}

/// A layout setting that cannot be used.
public struct LayoutSettingsError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
