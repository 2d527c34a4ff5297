import Foundation

/// The `Date` of a transition or expiration: an ISO-8601 moment that S3 requires to be midnight UTC
/// (`2030-01-01T00:00:00Z`, or `2030-01-01T00:00:00.000Z` as S3 returns it). Kept as written, so a policy
/// encodes back to the same text.
public struct LifecycleDate: Codable, Sendable, Equatable {
    /// As written in the policy.
    public let text: String
    /// The moment, in epoch seconds.
    public let epochSeconds: Int64

    /// Reads an ISO-8601 date-time (a date alone means midnight UTC).
    /// - Throws: `LifecyclePolicyError` when the text is not an ISO-8601 date-time.
    public init(_ text: String) throws {
        guard let seconds = parseISO8601(text) else {
            throw LifecyclePolicyError.invalid(
                at: "Date", "\"\(text)\" is not an ISO-8601 date-time", fix: "write a midnight UTC such as \"2030-01-01T00:00:00Z\"")
        }
        self.text = text
        self.epochSeconds = seconds
    }

    /// S3 acts on a date at midnight UTC and refuses any other time of day.
    public var isMidnightUTC: Bool { floorDivide(epochSeconds, 86_400) * 86_400 == epochSeconds }

    /// The day the action takes effect.
    public var day: LifecycleDay { LifecycleDay(containing: epochSeconds) }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            try self.init(text)
        } catch {
            throw LifecyclePolicyError.invalid(
                at: policyPath(decoder.codingPath), "\"\(text)\" is not an ISO-8601 date-time",
                fix: "write a midnight UTC such as \"2030-01-01T00:00:00Z\"")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}
