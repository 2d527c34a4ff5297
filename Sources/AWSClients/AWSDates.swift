import Foundation

/// Parses the date formats AWS responses use, without shared formatter state.
enum AWSDates {
    /// `2009-10-12T17:50:30.000Z` or `2009-10-12T17:50:30Z` (S3 XML, ISO 8601 in UTC).
    static func iso8601(_ text: String) -> Date? {
        let t = Array(text.trimmingCharacters(in: .whitespaces).utf8)
        guard t.count >= 20, t[4] == UInt8(ascii: "-"), t[7] == UInt8(ascii: "-"), t[10] == UInt8(ascii: "T"),
            t[13] == UInt8(ascii: ":"), t[16] == UInt8(ascii: ":"),
            let year = number(t[0..<4]), let month = number(t[5..<7]), let day = number(t[8..<10]),
            let hour = number(t[11..<13]), let minute = number(t[14..<16]), let second = number(t[17..<19])
        else { return nil }
        var index = 19
        var fraction = 0.0
        if t[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            while index < t.count, let digit = digit(t[index]) {
                fraction += Double(digit) * scale
                scale /= 10
                index += 1
            }
        }
        guard index < t.count, t[index] == UInt8(ascii: "Z") || t[index] == UInt8(ascii: "+") || t[index] == UInt8(ascii: "-")
        else { return nil }
        var offset = 0
        if t[index] != UInt8(ascii: "Z") {
            guard t.count >= index + 6, let oh = number(t[(index + 1)..<(index + 3)]), let om = number(t[(index + 4)..<(index + 6)]) else { return nil }
            offset = (oh * 3600 + om * 60) * (t[index] == UInt8(ascii: "+") ? 1 : -1)
        }
        guard let base = utc(year: year, month: month, day: day, hour: hour, minute: minute, second: second) else { return nil }
        return base.addingTimeInterval(fraction - Double(offset))
    }

    /// `Wed, 12 Oct 2009 17:50:00 GMT` (HTTP Last-Modified, RFC 1123).
    static func rfc1123(_ text: String) -> Date? {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: " ")
        guard parts.count == 6, let day = Int(parts[1]), let year = Int(parts[3]),
            let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].firstIndex(of: String(parts[2]))
        else { return nil }
        let time = parts[4].split(separator: ":").compactMap { Int($0) }
        guard time.count == 3 else { return nil }
        return utc(year: year, month: month + 1, day: day, hour: time[0], minute: time[1], second: time[2])
    }

    private static func utc(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Date? {
        guard (1...12).contains(month), (1...31).contains(day), (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second)
        else { return nil }
        // Days from civil (Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146097 + doe - 719468
        return Date(timeIntervalSince1970: TimeInterval(days * 86400 + hour * 3600 + minute * 60 + second))
    }

    private static func digit(_ byte: UInt8) -> Int? {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? Int(byte - UInt8(ascii: "0")) : nil
    }

    private static func number(_ bytes: ArraySlice<UInt8>) -> Int? {
        var value = 0
        for byte in bytes {
            guard let d = digit(byte) else { return nil }
            value = value * 10 + d
        }
        return value
    }
}
