import Foundation

/// The time of day, injected wherever it matters (dead-letter stamps, lifecycle ages, expiry),
/// so tests can set it.
public protocol WallClock: Sendable {
    /// The current moment.
    func now() -> Date
}

/// The machine's clock.
public struct SystemClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
}
