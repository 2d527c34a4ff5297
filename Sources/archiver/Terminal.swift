import ArchiverCore
import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Output helpers of the command line: logging, progress lines, JSON, signals.
enum Terminal {
    /// Sets up the process once: logging (human-readable lines on standard error; `ARCHIVER_LOG_LEVEL`
    /// sets the level) and the memory allocator.
    static func bootstrapLogging() {
        ProcessSetup.once
    }

    static var logger: Logger {
        bootstrapLogging()
        return Logger(label: "archiver")
    }

    /// Whether standard error is a terminal (progress as one updating line) or not (periodic log lines).
    static let isTerminal = isatty(STDERR_FILENO) == 1

    /// Writes a line to standard output.
    static func print(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// Writes a line to standard error.
    static func printError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Writes an Encodable as pretty JSON to standard output.
    static func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// Compact JSON for one value (used for streamed lists).
    static func compactJSON<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Stops `signal` on SIGTERM or SIGINT (a second SIGINT exits at once).
    static func stopOnSignals(_ signal: StopSignal) -> [any DispatchSourceSignal] {
        [SIGTERM, SIGINT].map { number in
            Glibc_signal(number)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            var count = 0
            source.setEventHandler {
                count += 1
                if number == SIGINT && count > 1 { exit(130) }
                logger.notice("stopping: finishing the records in flight and saving the checkpoint")
                signal.stop()
            }
            source.resume()
            return source
        }
    }
}

private func Glibc_signal(_ number: Int32) { _ = signal(number, SIG_IGN) }

#if canImport(Glibc)
    /// glibc's `mallopt` (declared in <malloc.h>, which the Glibc module does not export).
    @_silgen_name("mallopt") private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
    /// `M_MMAP_THRESHOLD` in <malloc.h>.
    private let glibcMmapThreshold: Int32 = -3
#endif

private enum ProcessSetup {
    static let once: Void = {
        #if canImport(Glibc)
            // Buffers of 1 MiB and more (read chunks, batches) are mapped on their own and given back
            // when freed. glibc's default raises this threshold as large blocks are freed, after which
            // freed batches stay in the heap and peak memory creeps up with the feed's length.
            _ = glibcMallopt(glibcMmapThreshold, 1 << 20)
        #endif
        let level = ProcessInfo.processInfo.environment["ARCHIVER_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }()
}

/// Shows progress: an updating line on a terminal, a log line every `interval` seconds otherwise.
final class ProgressLine: @unchecked Sendable {
    private let lock = NSLock()
    private var last = Date.distantPast
    private let interval: Double
    private var shown = false
    private let enabled: Bool

    init(enabled: Bool = true) {
        self.enabled = enabled
        interval = Terminal.isTerminal ? 0.2 : 10
    }

    func update(_ text: @autoclosure () -> String) {
        guard enabled else { return }
        let now = Date()
        let due: Bool = lock.withLock {
            guard now.timeIntervalSince(last) >= interval else { return false }
            last = now
            shown = true
            return true
        }
        guard due else { return }
        if Terminal.isTerminal {
            FileHandle.standardError.write(Data("\r\u{1B}[K\(text())".utf8))
        } else {
            Terminal.logger.info("progress: \(text())")
        }
    }

    /// Clears the line before the summary is printed.
    func finish() {
        if enabled && Terminal.isTerminal && lock.withLock({ shown }) {
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        }
    }
}
