/// Text for people, the one way every command writes it: columns lined up (`TextTable`, `alignedRows`)
/// and byte counts (`ByteSize`).

/// Rows of cells lined up in columns, two spaces apart, no line ending in spaces.
///
/// Widths are counted in characters (grapheme clusters), so a column of East Asian wide characters or emoji
/// lines up less well on a terminal than one of Latin text.
public struct TextTable: Sendable {
    public enum Alignment: Sendable {
        case left, right
    }

    /// Each column's alignment; a column past the end takes the last one given (left when none is).
    public var alignments: [Alignment]
    /// Each column's least width: rows printed one at a time, before the others are known, still line up
    /// when their cells are no wider than this.
    public var minimumWidths: [Int]

    public init(alignments: [Alignment] = [], minimumWidths: [Int] = []) {
        self.alignments = alignments
        self.minimumWidths = minimumWidths
    }

    /// The rows as lines, each column as wide as its widest cell (and at least its minimum width).
    public func lines(_ rows: [[String]]) -> [String] {
        var widths = minimumWidths
        for row in rows {
            for (column, cell) in row.enumerated() {
                if column >= widths.count { widths.append(0) }
                widths[column] = max(widths[column], cell.count)
            }
        }
        return rows.map { line($0, widths: widths) }
    }

    /// One row, each column at least its minimum width: for output streamed a row at a time.
    public func line(_ row: [String]) -> String {
        line(row, widths: minimumWidths)
    }

    private func line(_ row: [String], widths: [Int]) -> String {
        var line = ""
        for (column, cell) in row.enumerated() {
            if column > 0 { line += "  " }
            let padding = String(repeating: " ", count: max(0, (column < widths.count ? widths[column] : 0) - cell.count))
            line += alignment(of: column) == .left ? cell + padding : padding + cell
        }
        while line.last == " " { line.removeLast() }
        return line
    }

    private func alignment(of column: Int) -> Alignment {
        column < alignments.count ? alignments[column] : alignments.last ?? .left
    }
}

/// `name  value` rows with the values lined up: the layout of every summary.
public func alignedRows(_ rows: [(String, String)]) -> String {
    TextTable().lines(rows.map { [$0.0, $0.1] }).joined(separator: "\n")
}

/// A byte count for people: `512 B`, `1.5 KiB`, `12.3 MiB`, `2.0 GiB`.
///
/// Sizes are counted in 1,024s, and the units say so (KiB, MiB, GiB, TiB): S3 measures its storage-class limits
/// that way (the 128 KB under which it moves no object is 131,072 bytes), archiver sizes its buffers that way, and
/// the binary unit names leave no doubt about which kilobyte is meant. One decimal; under 1 KiB, whole bytes.
public enum ByteSize {
    private static let units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]

    public static func text(_ count: Int64) -> String {
        if count < 1024 { return "\(count) B" }
        var value = Double(count) / 1024
        var unit = 0
        // Move up a unit when the value would print as 1024.0 or more.
        while (value * 10).rounded() >= 10_240 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let tenths = Int64((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }

    /// A rate: `text` of the bytes per second, then `/s`; `0 B/s` when no time passed.
    public static func rate(_ count: Int64, seconds: Double) -> String {
        guard seconds > 0, seconds.isFinite else { return "0 B/s" }
        return text(Int64((Double(count) / seconds).rounded())) + "/s"
    }
}
