import ArchiverCore
import ArgumentParser
import Foundation

/// `tail`'s layout flags: per-record or batched, and where a batched archive cuts its objects. Each overrides
/// `ARCHIVER_LAYOUT` / `ARCHIVER_BATCH_*`, which override the configuration file's `layout:` and `batching:`.
struct LayoutOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "per-record (one object per record, the default for a new archive) or batched (many records per object, with an index). Default: the archive's own.",
        valueName: "layout"))
    var layout: Parsed<ArchiveLayout>?

    @Option(help: ArgumentHelp("Batched: the largest object (default and most 32MiB: an open object is held in memory).", valueName: "size"))
    var batchMaxBytes: Parsed<ByteCount>?

    @Option(help: ArgumentHelp("Batched: the most records in an object (default 100000).", valueName: "n"))
    var batchMaxRecords: Int?

    @Option(help: ArgumentHelp("Batched: an object smaller than this goes on past its window's end (default 128KiB: S3 moves nothing smaller).", valueName: "size"))
    var batchMinBytes: Parsed<ByteCount>?

    @Option(help: ArgumentHelp("Batched: the event-time window an object holds (default 15m), counted from midnight UTC.", valueName: "duration"))
    var batchWindow: Parsed<Duration>?

    @Option(help: ArgumentHelp("Batched, opt-in: also write an object once it has been open this long by the clock (e.g. 1h). Objects then depend on timing, so a run that was stopped or idle may cut them elsewhere than one that was not.", valueName: "duration"))
    var batchFlushAfter: Parsed<Duration>?

    func validate() throws {
        _ = try flags()
    }

    /// The flags given, as settings.
    func flags() throws -> LayoutSettings {
        LayoutSettings(
            layout: try layout?.value("--layout"), maxBytes: try batchMaxBytes?.value("--batch-max-bytes").bytes, maxRecords: batchMaxRecords,
            minBytes: try batchMinBytes?.value("--batch-min-bytes").bytes,
            window: try batchWindow.map { Int(try $0.value("--batch-window").seconds) },
            flushAfter: try batchFlushAfter?.value("--batch-flush-after").seconds)
    }

    /// The layout and limits: these flags, then the environment, then the configuration file, then the defaults.
    func choice(file: LayoutSettings, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> LayoutChoice {
        do {
            return try file.choice(flags: try flags(), environment: environment)
        } catch let error as LayoutSettingsError {
            throw ValidationError("\(error)")
        }
    }
}

extension ArchiveLayout: CommandLineValue {
    init(commandLine text: String) throws {
        guard let layout = ArchiveLayout(rawValue: text) else { throw ValidationError("'\(text)' is not a layout; write per-record or batched") }
        self = layout
    }
}

/// A size: `32MiB`, `512KiB`, or bytes.
struct ByteCount: CommandLineValue {
    let bytes: Int

    init(commandLine text: String) throws {
        guard let bytes = LayoutSettings.size(text) else { throw ValidationError("'\(text)' is not a size; write e.g. 32MiB, 128KiB or 131072") }
        self.bytes = bytes
    }
}

/// A duration: `500ms`, `90s`, `15m`, `1h`, `1d`, or seconds.
struct Duration: CommandLineValue {
    let seconds: Double

    init(commandLine text: String) throws {
        guard let duration = ConfigurationDuration(text) else { throw ValidationError("'\(text)' is not a duration; write e.g. 90s, 15m or 1h") }
        seconds = duration.seconds
    }
}
