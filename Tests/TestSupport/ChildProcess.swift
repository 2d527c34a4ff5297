import Foundation

/// Helpers for the servers the tests start as child processes (moto_server, the fault proxy, scripted servers).
public enum ChildProcess {
    /// Starts a small shell loop that SIGKILLs `pid` if this process dies without stopping it (a crash, or a
    /// test run cut short), so that no server outlives the tests.
    public static func killWhenOrphaned(_ pid: Int32) {
        let watchdog = Process()
        watchdog.executableURL = URL(fileURLWithPath: "/bin/sh")
        watchdog.arguments = ["-c", "while kill -0 \(getpid()) 2>/dev/null && kill -0 \(pid) 2>/dev/null; do sleep 1; done; kill -9 \(pid) 2>/dev/null; exit 0"]
        watchdog.standardInput = FileHandle.nullDevice
        watchdog.standardOutput = FileHandle.nullDevice
        watchdog.standardError = FileHandle.nullDevice
        try? watchdog.run()
    }

    /// The first line a child writes to `pipe` (a server announcing its port), without its newline;
    /// what there was when the pipe closed first.
    public static func firstLine(of pipe: Pipe) throws -> String {
        var line = Data()
        let fd = pipe.fileHandleForReading.fileDescriptor
        while case let byte = PipeReading.chunk(fd, maximum: 1), !byte.isEmpty, byte != Data([0x0A]) { line += byte }
        return String(decoding: line, as: UTF8.self)
    }
}
