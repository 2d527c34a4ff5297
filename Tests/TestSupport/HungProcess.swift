import Foundation

/// What a process that does not end is doing: its threads' stacks, read with gdb when it is installed.
public enum HungProcess {
    /// The stack of every thread of `pid` (at most 25 frames each), or a line saying why there are none.
    public static func stacks(of pid: Int32) -> String {
        guard let gdb = ["/usr/bin/gdb", "/usr/local/bin/gdb"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            return "(no gdb to read its threads' stacks)"
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["60", gdb, "-p", "\(pid)", "-batch", "-ex", "thread apply all bt 25"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return "(gdb did not start)" }
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let frames = text.split(separator: "\n").filter { $0.hasPrefix("Thread") || $0.hasPrefix("#") }
        return frames.prefix(400).map { String($0.prefix(300)) }.joined(separator: "\n")
    }
}
