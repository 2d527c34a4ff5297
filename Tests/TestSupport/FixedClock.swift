import ArchiverCore
import Foundation

/// A clock that says what it is told.
public final class FixedClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var moment: Date
    public init(_ moment: Date) { self.moment = moment }
    public func now() -> Date { lock.withLock { moment } }
    public func set(_ date: Date) { lock.withLock { moment = date } }
}
