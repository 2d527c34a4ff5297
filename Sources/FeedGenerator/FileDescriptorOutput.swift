import ArchiverCore
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes bytes to a file descriptor (standard output for `archiver generate`), whole: it retries short
/// writes and interrupted calls. The caller buffers; each call is one or a few `write(2)`s.
public struct FileDescriptorOutput: Sendable {
    public let descriptor: Int32

    public static let standardOutput = FileDescriptorOutput(descriptor: 1)

    public init(descriptor: Int32) { self.descriptor = descriptor }

    /// - Throws: `OutputClosed` when the reader has gone away (a pipe closed, as with `| head`);
    ///   `FeedGeneratorError` for any other failure.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard var next = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let written = systemWrite(descriptor, next, left)
            if written < 0 {
                let code = errno
                if code == EINTR || code == EAGAIN { continue }
                if code == EPIPE { throw OutputClosed() }
                throw FeedGeneratorError("cannot write the feed: \(String(cString: strerror(code)))")
            }
            next += written
            left -= written
        }
    }
}

/// The reader of the output went away (a closed pipe): stop writing, it is not an error.
public struct OutputClosed: Error, Sendable {}

private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
        Glibc.write(fd, bytes, count)
    #else
        Darwin.write(fd, bytes, count)
    #endif
}
