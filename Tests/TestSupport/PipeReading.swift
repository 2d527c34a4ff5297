import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Reads from a pipe the way the product reads files: `read(2)` again when a signal interrupts it. The test process
/// has signal handlers (libdispatch's, for the children it starts), and Foundation's `FileHandle.availableData` and
/// `readDataToEndOfFile()` end the whole test process on an interrupted read.
public enum PipeReading {
    /// What `fd` holds now, or waits for the next bytes; empty at the end of the input (or on an error).
    public static func chunk(_ fd: Int32, maximum: Int = 65_536) -> Data {
        var buffer = [UInt8](repeating: 0, count: maximum)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count >= 0 { return Data(buffer[0..<count]) }
            if errno == EINTR || errno == EAGAIN { continue }
            return Data()
        }
    }

    /// Everything until the end of the input.
    public static func all(_ fd: Int32) -> Data {
        var data = Data()
        while case let next = chunk(fd), !next.isEmpty { data += next }
        return data
    }
}

extension Pipe {
    /// The rest of what the pipe's reading end gives, until its writers close it (interrupted reads retried).
    public func readToEnd() -> Data { PipeReading.all(fileHandleForReading.fileDescriptor) }
}
