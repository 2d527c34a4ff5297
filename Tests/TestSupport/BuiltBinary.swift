import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The `archiver` executable built beside the tests, run as a user runs it.
public enum BuiltBinary {
    /// Its path: next to the test bundle in the build folder.
    public static let path: String = {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("archiver").path,
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("archiver").path,
            PackagePaths.root + "/.build/debug/archiver",
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates.last!
    }()

    /// The longest a run may take before it is taken for hung and killed: `ARCHIVER_TEST_PROCESS_LIMIT` seconds, else 600.
    public static let limit: TimeInterval = {
        let text = ProcessInfo.processInfo.environment["ARCHIVER_TEST_PROCESS_LIMIT"] ?? ""
        return TimeInterval(text).flatMap { $0 > 0 ? $0 : nil } ?? 600
    }()

    /// What a finished run printed and how it ended.
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var stdoutBytes: [UInt8]

        /// Whether the process crashed on its own (Swift's crash report, or its output held open after it
        /// ended by the crash reporter it started) rather than exiting or being killed.
        public var crashed: Bool {
            stderr.contains("Program crashed") || stderr.contains("Fatal error") || stderr.contains(BuiltBinary.heldOpenNote)
        }

        /// Whether the run was still going after ``BuiltBinary/limit`` and was killed.
        public var hung: Bool { stderr.contains("(ARCHIVER_TEST_PROCESS_LIMIT): killed]") }
    }

    /// Appended to standard error when the outputs stayed open after the process ended, or the process was
    /// not seen to end after a signal.
    static let heldOpenNote = "[output still held open after the process ended: by a crash reporter?]"

    /// Runs `archiver args…` to completion in `directory`.
    public static func run(_ arguments: [String], in directory: String? = nil, environment: [String: String] = [:], stdin: String? = nil) throws -> Result {
        try start(arguments, in: directory, environment: environment, stdinText: stdin).finish()
    }

    /// Runs `archiver args…` to completion in `directory`, waiting on a thread of its own: the tests run in
    /// parallel on as many threads as there are cores, and a test blocked on a process would hold one of them
    /// (on a 2-core machine, two such tests starve every other test, and timed waits elsewhere run out).
    public static func run(_ arguments: [String], in directory: String? = nil, environment: [String: String] = [:], stdin: String? = nil) async throws -> Result {
        let running = try start(arguments, in: directory, environment: environment, stdinText: stdin)
        return await running.finish()
    }

    /// A running `archiver`. Its output is read from the start (so that a chatty process never blocks on a full pipe)
    /// and handed over when it ends.
    public final class Running: @unchecked Sendable {
        public let process: Process
        let out: Pipe
        let err: Pipe
        private let reading = DispatchGroup()
        private let lock = NSLock()
        private var outBytes = Data()
        private var errBytes = Data()

        init(process: Process, out: Pipe, err: Pipe) {
            self.process = process
            self.out = out
            self.err = err
            for (pipe, isOut) in [(out, true), (err, false)] {
                reading.enter()
                DispatchQueue.global().async {
                    let fd = pipe.fileHandleForReading.fileDescriptor
                    // What is there as soon as it is there (reading up to a count would wait for the count).
                    while case let chunk = PipeReading.chunk(fd), !chunk.isEmpty {
                        self.lock.withLock { if isOut { self.outBytes += chunk } else { self.errBytes += chunk } }
                    }
                    self.reading.leave()
                }
            }
        }

        public var pid: Int32 { process.processIdentifier }

        /// Sends a signal (SIGKILL, SIGTERM, …).
        public func signal(_ number: Int32) {
            lock.withLock { signalled = true }
            kill(process.processIdentifier, number)
        }

        private var signalled = false
        private var hungNote: String?
        /// Whether the process ended by a signal (killed, or crashed); also true when it was signalled and had
        /// still not been seen to end 30 s later (a crashed process whose crash reporter hung).
        public private(set) var endedBySignal = false

        /// Standard output as read so far.
        public var standardOutputSoFar: String { lock.withLock { String(decoding: outBytes, as: UTF8.self) } }

        /// Standard error as read so far.
        public var standardErrorSoFar: String { lock.withLock { String(decoding: errBytes, as: UTF8.self) } }

        /// Waits for the end of both outputs and returns standard output and standard error.
        public func readAll() -> ([UInt8], [UInt8]) {
            reading.wait()
            return lock.withLock { (Array(outBytes), Array(errBytes)) }
        }

        /// `finish()` on a thread of its own, so that the waiting holds no thread of the tests' pool.
        public func finish(limit: TimeInterval = BuiltBinary.limit) async -> Result {
            await withCheckedContinuation { continuation in
                let thread = Thread { continuation.resume(returning: self.finish(limit: limit)) }
                thread.start()
            }
        }

        /// Waits for the end; returns the exit status and outputs. A process that crashed leaves Swift's crash
        /// reporter holding its outputs open (for a long time if the process was then killed): after the exit,
        /// the outputs get 20 s to close, then what was read is returned with a note (see `Result.crashed`).
        public func finish(limit: TimeInterval = BuiltBinary.limit) -> Result {
            if lock.withLock({ signalled }) {
                // After a signal the end comes at once, unless a crash reporter holds the process: then give up.
                let deadline = Date().addingTimeInterval(30)
                while process.isRunning, Date() < deadline { usleep(10_000) }
            } else {
                // A run that never ends would hold the whole test run until CI's limit: past `BuiltBinary.limit` its
                // threads' stacks are taken (when gdb is there) and it is killed, and the test fails saying so.
                let deadline = Date().addingTimeInterval(limit)
                while process.isRunning, Date() < deadline { usleep(20_000) }
                if process.isRunning {
                    let stacks = HungProcess.stacks(of: process.processIdentifier)
                    lock.withLock { hungNote = "\n[still running after \(Int(limit)) s (ARCHIVER_TEST_PROCESS_LIMIT): killed]\n\(stacks)\n" }
                    kill(process.processIdentifier, SIGKILL)
                    let killedBy = Date().addingTimeInterval(30)
                    while process.isRunning, Date() < killedBy { usleep(10_000) }
                }
            }
            let ended = !process.isRunning
            endedBySignal = !ended || process.terminationReason == .uncaughtSignal
            let closed = reading.wait(timeout: .now() + (ended ? 20 : 1)) == .success
            var (o, e) = lock.withLock { (Array(outBytes), Array(errBytes)) }
            if !closed || !ended { e += Array(("\n" + BuiltBinary.heldOpenNote + "\n").utf8) }
            if let note = lock.withLock({ hungNote }) { e += Array(note.utf8) }
            return Result(status: ended ? process.terminationStatus : -1, stdout: String(decoding: o, as: UTF8.self),
                          stderr: String(decoding: e, as: UTF8.self), stdoutBytes: o)
        }
    }

    /// Taken around each start: Foundation's `Process.run()` has crashed (a bad read in its copying) when many
    /// tests started processes at the same moment; one start at a time costs a few milliseconds each.
    private static let spawning = NSLock()

    /// Starts `archiver args…` and returns at once.
    public static func start(_ arguments: [String], in directory: String? = nil, environment: [String: String] = [:], stdinText: String? = nil) throws -> Running {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        if let stdinText {
            let input = Pipe()
            process.standardInput = input
            try spawning.withLock { try process.run() }
            input.fileHandleForWriting.write(Data(stdinText.utf8))
            try input.fileHandleForWriting.close()
        } else {
            process.standardInput = FileHandle.nullDevice
            try spawning.withLock { try process.run() }
        }
        return Running(process: process, out: out, err: err)
    }
}
