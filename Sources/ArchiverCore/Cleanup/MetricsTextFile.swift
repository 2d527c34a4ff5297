import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A metrics file in the Prometheus text exposition format (version 0.0.4), for node_exporter's textfile collector:
/// the usual way a cron job hands its counts to Prometheus.
///
/// - Counters (`<prefix>_<name>_total`) are running totals: the values already in the file are read back and this
///   run's counts added, so `increase()` and `rate()` work across runs. A missing file (or one deleted to start over)
///   starts them at this run's counts, which Prometheus reads as a counter reset.
/// - Gauges describe the last run: its duration, when it ended, its errors.
/// - The file is written whole to `<file>.tmp-<pid>` (which the collector ignores, as it reads only `*.prom`), synced,
///   then renamed over the old one: the collector never reads half a file.
/// - Mode 0644: it holds counts only, no personal data, and the collector usually runs as another user.
public struct MetricsTextFile: Sendable {
    /// One metric: its full name, help text and value.
    public struct Metric: Sendable, Equatable {
        public var name: String
        public var help: String
        public var value: Double

        public init(name: String, help: String, value: Double) {
            self.name = name
            self.help = help
            self.value = value
        }
    }

    public let path: String

    public init(path: String) { self.path = path }

    /// Writes the file: `counters` added to the totals in the file, `gauges` as they are.
    /// - Returns: the counters as written (the new totals), by name.
    /// - Throws: `StateError` naming the file when it cannot be written (the old file is left as it was).
    @discardableResult
    public func write(counters: [Metric], gauges: [Metric]) throws -> [String: Double] {
        let previous = readValues()
        var totals: [String: Double] = [:]
        var text = ""
        for counter in counters {
            let total = (previous[counter.name] ?? 0) + counter.value
            totals[counter.name] = total
            text += "# HELP \(counter.name) \(Self.escapeHelp(counter.help))\n# TYPE \(counter.name) counter\n\(counter.name) \(Self.format(total))\n"
        }
        for gauge in gauges {
            text += "# HELP \(gauge.name) \(Self.escapeHelp(gauge.help))\n# TYPE \(gauge.name) gauge\n\(gauge.name) \(Self.format(gauge.value))\n"
        }
        try replace(with: Array(text.utf8))
        return totals
    }

    /// The samples of the file now, by name (`name value` lines; comments and labelled samples are skipped).
    /// An absent or unreadable file has none.
    public func readValues() -> [String: Double] {
        guard let bytes = try? FileSystem.readFile(path) else { return [:] }
        var values: [String: Double] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            guard parts.count >= 2, !parts[0].contains("{"), let value = Double(parts[1]), value.isFinite else { continue }
            values[String(parts[0])] = value
        }
        return values
    }

    private func replace(with bytes: [UInt8]) throws {
        let final = FileSystem.absolute(path)
        let folder = FileSystem.parent(of: final)
        guard FileSystem.isFolder(folder) else {
            throw StateError.unusable("cannot write the metrics file \(final): there is no folder \(folder); create it or name another --metrics-file")
        }
        FileSystem.removeAbandonedTemporaries(of: final)
        let temporary = "\(final).tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StateError.unusable("cannot write the metrics file: \(FileSystem.Failure(operation: "create", path: temporary, code: errno))") }
        var failure: FileSystem.Failure?
        _ = fchmod(fd, 0o644)  // whatever the umask: the collector must be able to read it
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { posixWrite(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                failure = FileSystem.Failure(operation: "write", path: temporary, code: errno)
                break
            }
            offset += written
        }
        if failure == nil, fsync(fd) != 0 { failure = FileSystem.Failure(operation: "sync", path: temporary, code: errno) }
        close(fd)
        if let failure {
            unlink(temporary)
            throw StateError.unusable("cannot write the metrics file: \(failure)")
        }
        do {
            try FileSystem.rename(temporary, final)
        } catch {
            unlink(temporary)
            throw StateError.unusable("cannot write the metrics file: \(error)")
        }
        try? FileSystem.fsyncPath(folder)
    }

    /// A value as the format writes it: whole numbers without a fraction.
    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    /// Help text may hold anything but a raw backslash or line break.
    static func escapeHelp(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }
}

#if canImport(Glibc)
    private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { Glibc.write(fd, buffer, count) }
#else
    private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { Darwin.write(fd, buffer, count) }
#endif
