/// The moment of a deletion in UTC, to the second: what places an archive object in its date folder.
public struct DeletionTime: Sendable, Equatable, Hashable, Comparable, CustomStringConvertible {
    /// Seconds since 1970-01-01T00:00:00Z (negative before).
    public let epochSeconds: Int64
    public let year: Int
    public let month: Int
    public let day: Int
    public let hour: Int
    public let minute: Int
    public let second: Int

    /// The earliest and latest moments an archive path can hold (years 0001 to 9999).
    public static let earliest: Int64 = -62_135_596_800
    public static let latest: Int64 = 253_402_300_799

    public init?(epochSeconds: Int64) {
        guard epochSeconds >= Self.earliest, epochSeconds <= Self.latest else { return nil }
        self.epochSeconds = epochSeconds
        let days = epochSeconds >= 0 ? epochSeconds / 86_400 : (epochSeconds - 86_399) / 86_400
        let secondsOfDay = Int(epochSeconds - days * 86_400)
        (year, month, day) = civilDate(fromDays: days)
        hour = secondsOfDay / 3600
        minute = secondsOfDay / 60 % 60
        second = secondsOfDay % 60
    }

    /// Reads `ApproximateCreationDateTime`: epoch seconds (integer, fractional or with an exponent) or ISO-8601.
    public init(_ time: EventTime) throws(RecordError) {
        let seconds: Int64
        switch time {
        case .epochSeconds(let text):
            guard let value = floorOfDecimal(text) else {
                throw RecordError(.badEventTime("\(text.prefix(40)) is out of range (years 0001 to 9999)"))
            }
            seconds = value
        case .iso8601(let text):
            guard let value = parseISO8601(text) else {
                throw RecordError(.badEventTime("\"\(text.prefix(40))\" is not an ISO-8601 date-time such as 2024-01-15T10:30:00Z"))
            }
            seconds = value
        }
        guard let moment = DeletionTime(epochSeconds: seconds) else {
            throw RecordError(.badEventTime("\(seconds) is out of range (years 0001 to 9999)"))
        }
        self = moment
    }

    /// `2024-01-15T10:30:00Z`.
    public var description: String {
        "\(calendarDate)T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))Z"
    }

    /// `2024-01-15`.
    public var calendarDate: String { "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))" }

    /// `2024/01/15`: the date folders of an archive key.
    public var datePath: String { "\(pad(year, 4))/\(pad(month, 2))/\(pad(day, 2))" }

    /// `103000`: the time of day within a name.
    public var compactTime: String { "\(pad(hour, 2))\(pad(minute, 2))\(pad(second, 2))" }

    public static func < (lhs: DeletionTime, rhs: DeletionTime) -> Bool { lhs.epochSeconds < rhs.epochSeconds }

    /// Days since 1970-01-01 for a civil date (proleptic Gregorian).
    public static func days(year: Int, month: Int, day: Int) -> Int64 { daysFromCivil(year, month, day) }
}

func pad(_ value: Int, _ width: Int) -> String {
    let text = String(value)
    return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
}

/// Howard Hinnant's days_from_civil.
private func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int64 {
    let y = Int64(month <= 2 ? year - 1 : year)
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let m = Int64(month)
    let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
}

/// Howard Hinnant's civil_from_days.
private func civilDate(fromDays days: Int64) -> (Int, Int, Int) {
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let day = doy - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    return (Int(year), Int(month), Int(day))
}

/// The floor of a JSON number, exactly (no floating point), or nil when it is far out of range.
func floorOfDecimal(_ text: String) -> Int64? {
    var bytes = Array(text.utf8)[...]
    var negative = false
    if bytes.first == UInt8(ascii: "-") {
        negative = true
        bytes = bytes.dropFirst()
    }
    var digits: [UInt8] = []
    var fractionLength = 0
    var inFraction = false
    var exponent = 0
    while let byte = bytes.first {
        if byte >= 0x30 && byte <= 0x39 {
            digits.append(byte - 0x30)
            if inFraction { fractionLength += 1 }
        } else if byte == UInt8(ascii: ".") {
            inFraction = true
        } else if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            guard let value = Int(String(decoding: bytes.dropFirst(), as: UTF8.self)), abs(value) < 1000 else { return nil }
            exponent = value
            break
        } else {
            return nil
        }
        bytes = bytes.dropFirst()
    }
    let shift = exponent - fractionLength
    var integerDigits: ArraySlice<UInt8>
    var droppedNonZero = false
    if shift >= 0 {
        integerDigits = digits[...] + Array(repeating: 0, count: shift)
    } else {
        let keep = max(0, digits.count + shift)
        integerDigits = digits[..<keep]
        droppedNonZero = digits[keep...].contains { $0 != 0 }
    }
    while integerDigits.first == 0 { integerDigits = integerDigits.dropFirst() }
    guard integerDigits.count <= 15 else { return nil }
    var value: Int64 = 0
    for digit in integerDigits { value = value * 10 + Int64(digit) }
    if negative {
        value = -value
        if droppedNonZero { value -= 1 }
    }
    return value
}

/// `YYYY-MM-DD[T ]HH:MM[:SS[.fff…]][Z|±HH:MM|±HHMM]`; no zone means UTC.
func parseISO8601(_ text: String) -> Int64? {
    let b = Array(text.utf8)
    var i = 0
    func number(_ width: Int) -> Int? {
        guard i + width <= b.count else { return nil }
        var value = 0
        for k in 0..<width {
            let c = b[i + k]
            guard c >= 0x30 && c <= 0x39 else { return nil }
            value = value * 10 + Int(c - 0x30)
        }
        i += width
        return value
    }
    func take(_ c: Character) -> Bool {
        if i < b.count && b[i] == c.asciiValue! {
            i += 1
            return true
        }
        return false
    }
    guard let year = number(4), take("-"), let month = number(2), take("-"), let day = number(2) else { return nil }
    guard (1...12).contains(month), (1...daysIn(month, year)).contains(day) else { return nil }
    var hour = 0
    var minute = 0
    var second = 0
    if take("T") || take("t") || take(" ") {
        guard let h = number(2), take(":"), let m = number(2) else { return nil }
        hour = h
        minute = m
        if take(":") {
            guard let s = number(2) else { return nil }
            second = s
            if take(".") || take(",") {
                let start = i
                while i < b.count && b[i] >= 0x30 && b[i] <= 0x39 { i += 1 }
                guard i > start else { return nil }
            }
        }
    }
    guard hour < 24, minute < 60, second <= 60 else { return nil }
    var offset = 0
    if i < b.count {
        if take("Z") || take("z") {
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            let sign = b[i] == UInt8(ascii: "-") ? -1 : 1
            i += 1
            guard let oh = number(2) else { return nil }
            _ = take(":")
            guard let om = number(2), oh < 24, om < 60 else { return nil }
            offset = sign * (oh * 3600 + om * 60)
        } else {
            return nil
        }
    }
    guard i == b.count else { return nil }
    let days = daysFromCivil(year, month, day)
    return days * 86_400 + Int64(hour * 3600 + minute * 60 + min(second, 59)) - Int64(offset)
}

private func daysIn(_ month: Int, _ year: Int) -> Int {
    switch month {
    case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
}
