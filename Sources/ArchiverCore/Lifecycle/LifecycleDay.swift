import Foundation

/// A UTC calendar day, counted in days since 1970-01-01: the unit S3 lifecycle works in.
///
/// S3 runs lifecycle once a day and counts an action of `Days: N` from the object's creation time `t`:
/// the action is due from the first midnight UTC at or after `t + N days`. Put another way, it is due on
/// a day when the object's age in whole days, measured at 00:00 UTC that day, is at least N. An object
/// deleted on 2024-01-15 at 10:30 reaches age 0 on 2024-01-16 and age 90 on 2024-04-15.
public struct LifecycleDay: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Days since 1970-01-01 (negative before).
    public let number: Int64

    public init(number: Int64) {
        self.number = number
    }

    /// The UTC day holding a moment.
    public init(containing date: Date) {
        self.init(containing: Int64(date.timeIntervalSince1970.rounded(.down)))
    }

    /// The UTC day holding a moment in epoch seconds.
    public init(containing epochSeconds: Int64) {
        number = floorDivide(epochSeconds, 86_400)
    }

    /// Reads `YYYY-MM-DD`.
    /// - Throws: `LifecyclePolicyError` saying what a day looks like.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let seconds = parseISO8601(text), seconds >= DeletionTime.earliest
        else {
            throw LifecyclePolicyError.badDay(text)
        }
        self.init(containing: seconds)
    }

    /// 00:00:00 UTC of this day, in epoch seconds.
    public var startSeconds: Int64 { number * 86_400 }

    /// 00:00:00 UTC of this day.
    public var start: Date { Date(timeIntervalSince1970: TimeInterval(startSeconds)) }

    /// `2024-01-15`.
    public var description: String {
        guard let time = DeletionTime(epochSeconds: startSeconds) else { return "day \(number)" }
        return time.calendarDate
    }

    /// The day `days` later (earlier when negative).
    public func adding(days: Int64) -> LifecycleDay { LifecycleDay(number: number + days) }

    public static func < (lhs: LifecycleDay, rhs: LifecycleDay) -> Bool { lhs.number < rhs.number }

    /// The first day on which an action `days` after creation at `epochSeconds` is due: the first
    /// midnight at or after creation + `days`.
    public static func due(days: Int, afterCreation epochSeconds: Int64) -> LifecycleDay {
        LifecycleDay(number: ceilingDivide(epochSeconds + Int64(days) * 86_400, 86_400))
    }

    /// An object's age in whole days at 00:00 UTC of this day (negative when it was created later).
    public func age(ofObjectCreatedAt epochSeconds: Int64) -> Int64 {
        floorDivide(startSeconds - epochSeconds, 86_400)
    }

    public init(from decoder: any Decoder) throws {
        try self.init(parsing: decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

func ceilingDivide(_ a: Int64, _ b: Int64) -> Int64 {
    -floorDivide(-a, b)
}
