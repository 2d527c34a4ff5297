import Foundation

/// The two renderings of the signing time that SigV4 uses, both in UTC and independent of locale:
/// the timestamp `yyyyMMdd'T'HHmmss'Z'` (X-Amz-Date) and the date stamp `yyyyMMdd` (credential scope).
enum SigV4Date {
    /// `20150830T123600Z` for 2015-08-30 12:36:00 UTC. Fractions of a second are dropped.
    static func timestamp(_ date: Date) -> String {
        let (year, month, day, seconds) = civil(date)
        return dateStamp(year, month, day) + "T" + pad(seconds / 3600, 2) + pad(seconds / 60 % 60, 2)
            + pad(seconds % 60, 2) + "Z"
    }

    /// `20150830` for any time on 2015-08-30 UTC.
    static func dateStamp(_ date: Date) -> String {
        let (year, month, day, _) = civil(date)
        return dateStamp(year, month, day)
    }

    private static func dateStamp(_ year: Int, _ month: Int, _ day: Int) -> String {
        pad(year, 4) + pad(month, 2) + pad(day, 2)
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// The UTC calendar date of `date` and the seconds since that day's midnight
    /// (days-to-civil conversion of the proleptic Gregorian calendar, after Howard Hinnant).
    private static func civil(_ date: Date) -> (year: Int, month: Int, day: Int, secondOfDay: Int) {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day, secondOfDay)
    }
}
