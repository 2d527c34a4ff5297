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

/// A clock that says what it is told.
public final class FixedClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var moment: Date
    public init(_ moment: Date) { self.moment = moment }
    public func now() -> Date { lock.withLock { moment } }
    public func set(_ date: Date) { lock.withLock { moment = date } }
}
