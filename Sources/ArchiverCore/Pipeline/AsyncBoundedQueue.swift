import Foundation

/// A first-in first-out queue between two tasks that holds at most `capacity` items: a fast producer
/// waits for a slow consumer, so memory stays flat however large the input.
final class AsyncBoundedQueue<Element: Sendable>: @unchecked Sendable {
    private let capacity: Int
    private let lock = NSLock()
    private var items: [Element] = []
    private var closed = false
    private var failure: (any Error)?
    private var waitingConsumer: CheckedContinuation<Void, Never>?
    private var waitingProducers: [CheckedContinuation<Void, Never>] = []

    init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Adds an item, waiting while the queue is full. Returns false when the queue was closed.
    @discardableResult
    func send(_ element: Element) async -> Bool {
        while true {
            let state: (accepted: Bool, wake: CheckedContinuation<Void, Never>?, mustWait: Bool) = lock.withLock {
                if closed { return (false, nil, false) }
                if items.count < capacity {
                    items.append(element)
                    defer { waitingConsumer = nil }
                    return (true, waitingConsumer, false)
                }
                return (false, nil, true)
            }
            state.wake?.resume()
            if !state.mustWait { return state.accepted }
            await withCheckedContinuation { continuation in
                let resumeNow = lock.withLock {
                    if closed || items.count < capacity { return true }
                    waitingProducers.append(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }

    /// The next item; nil once the queue is closed and empty. Throws the error the queue was closed with.
    func next() async throws -> Element? {
        while true {
            let state: (element: Element?, done: Bool, failure: (any Error)?, wake: [CheckedContinuation<Void, Never>]) = lock.withLock {
                if !items.isEmpty {
                    let element = items.removeFirst()
                    defer { waitingProducers.removeAll() }
                    return (element, false, nil, waitingProducers)
                }
                if closed { return (nil, true, failure, []) }
                return (nil, false, nil, [])
            }
            for producer in state.wake { producer.resume() }
            if let element = state.element { return element }
            if state.done {
                if let failure = state.failure { throw failure }
                return nil
            }
            await withCheckedContinuation { continuation in
                let resumeNow = lock.withLock {
                    if closed || !items.isEmpty { return true }
                    waitingConsumer = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }

    /// No more items will come; `error`, if given, is thrown to the consumer after the items left.
    func close(throwing error: (any Error)? = nil) {
        let wake: ([CheckedContinuation<Void, Never>], CheckedContinuation<Void, Never>?) = lock.withLock {
            if !closed {
                closed = true
                failure = error
            }
            defer {
                waitingProducers.removeAll()
                waitingConsumer = nil
            }
            return (waitingProducers, waitingConsumer)
        }
        for producer in wake.0 { producer.resume() }
        wake.1?.resume()
    }
}
