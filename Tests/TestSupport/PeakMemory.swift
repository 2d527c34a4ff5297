import Foundation

extension BuiltBinary {
    /// What a run measured for its peak memory printed, and how it ended.
    public struct MeasuredResult: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        /// The process's peak resident memory (`wait4`'s `ru_maxrss`), in bytes.
        public var peakBytes: Int
    }

    /// Runs `archiver args…` to completion in `directory` and measures its peak resident memory as
    /// `scripts/bench.py` does: a small Python process starts it and reaps it with `wait4`, whose resource
    /// usage holds the child's high-water mark.
    ///
    /// Not started from the test process itself: a child made by `vfork` or `posix_spawn` shares its parent's
    /// memory until it execs, and Linux counts the parent's high-water mark into the child's peak.
    public static func runMeasuringPeakMemory(_ arguments: [String], in directory: String, environment: [String: String] = [:]) throws -> MeasuredResult {
        let outputs = TemporaryFolder("measured")
        defer { outputs.remove() }
        let script = """
            import os, subprocess, sys
            folder, out, err, peak = sys.argv[1:5]
            with open(out, "wb") as o, open(err, "wb") as e:
                child = subprocess.Popen(sys.argv[5:], cwd=folder, stdin=subprocess.DEVNULL, stdout=o, stderr=e)
                _, status, usage = os.wait4(child.pid, 0)
            with open(peak, "w") as p:
                p.write(f"{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss}")
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, directory, outputs("stdout"), outputs("stderr"), outputs("peak"), path] + arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let peak = (try? String(contentsOfFile: outputs("peak"), encoding: .utf8))?.split(separator: " ").compactMap { Int($0) } ?? []
        guard process.terminationStatus == 0, peak.count == 2 else {
            throw MeasurementFailed(description: "python3 could not run and measure archiver (exit \(process.terminationStatus))")
        }
        return MeasuredResult(
            status: Int32(peak[0]),
            stdout: (try? String(contentsOfFile: outputs("stdout"), encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: outputs("stderr"), encoding: .utf8)) ?? "",
            peakBytes: peak[1] * 1024)
    }

    struct MeasurementFailed: Error, CustomStringConvertible {
        let description: String
    }
}
