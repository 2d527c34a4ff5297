/// Why JSON text could not be read: what is wrong, and at which byte.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, e.g. `expected ',' or '}'`.
    public let message: String
    /// The byte offset of the problem, from the start of the buffer read.
    public let offset: Int

    public init(message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }

    public var description: String { "invalid JSON at byte \(offset): \(message)" }

    /// `line L, column C: message`, counted in `text` (the bytes that were read): for people editing a file.
    public func located(in text: [UInt8]) -> String {
        var line = 1
        var column = 1
        for byte in text.prefix(offset) {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return "line \(line), column \(column): \(message)"
    }
}
