import Foundation
import Logging

/// What one step of the batched commit leaves to make durable, in this order: its closed objects (names noted as
/// pending, data, indexes), its dead letters, then its partitions' standings (checkpoint and skip).
struct Settlement: @unchecked Sendable {  // its builders are closed: nothing changes them any more
    var objects: [(partition: String, builder: BatchBuilder)]
    var letters: [DeadLetter]
    var standings: [CheckpointStore.BatchStanding]
    var at: Date
    /// The tail's stop signal (waits for an unavailable store end with it).
    var stop: StopSignal
    /// The closed objects' bytes (held in memory until written).
    var bytes: Int { objects.reduce(0) { $0 + $1.builder.bytes } }
}

/// Writes a batched tail's closed objects while the commit goes on adding records to the next ones: the write and
/// its file-system syncs overlap the compression of the following batches.
///
/// Settlements are written strictly in order, one group at a time; settlements that arrive while a group is being
/// written are written together next (one pair of syncs on a folder, one transaction), so slow syncs are shared
/// rather than queued. A group's checkpoints are saved only after its objects and dead letters are durable, and a
/// later checkpoint only after every earlier object is, exactly as when each step waited for its own write.
/// Objects waiting or being written are held in memory: past `backlog` bytes the commit waits for the writer.
final class BatchedWriter: @unchecked Sendable {
    private let lock = NSLock()
    private var queued: [Settlement] = []
    private var queuedBytes = 0
    private var writingBytes = 0
    private var running: Task<Void, Never>?
    private var done = TailSummary()
    private var failure: (any Error)?
    private let backlog: Int
    private let perform: @Sendable ([Settlement]) async throws -> TailSummary

    init(backlog: Int, perform: @escaping @Sendable ([Settlement]) async throws -> TailSummary) {
        self.backlog = backlog
        self.perform = perform
    }

    /// Queues a settlement (starting the writer if it is idle); waits while more than `backlog` bytes are held.
    /// - Returns: what the groups written since the last call did.
    /// - Throws: the error a write or save failed with (nothing after it is written).
    func submit(_ settlement: Settlement) async throws -> TailSummary {
        let bytes = settlement.bytes
        let waitFor: Task<Void, Never>? = try lock.withLock {
            if let failure { throw failure }
            queued.append(settlement)
            queuedBytes += bytes
            if running == nil { running = start() }
            return queuedBytes + writingBytes > backlog ? running : nil
        }
        if let waitFor { await waitFor.value }
        return try collect()
    }

    /// Waits until everything queued is written.
    func drain() async throws -> TailSummary {
        while let task = lock.withLock({ running }) { await task.value }
        return try collect()
    }

    /// What the groups written since the last call did.
    func collect() throws -> TailSummary {
        try lock.withLock {
            if let failure { throw failure }
            defer { done = TailSummary() }
            return done
        }
    }

    /// The writer: takes everything queued, writes it as one group, until nothing is queued.
    private func start() -> Task<Void, Never> {
        Task {
            while true {
                let group: [Settlement]? = lock.withLock {
                    guard !queued.isEmpty else {
                        running = nil
                        return nil
                    }
                    defer {
                        queued = []
                        writingBytes = queuedBytes
                        queuedBytes = 0
                    }
                    return queued
                }
                guard let group else { return }
                do {
                    let summary = try await perform(group)
                    lock.withLock {
                        done += summary
                        writingBytes = 0
                    }
                } catch {
                    lock.withLock {
                        failure = error
                        queued = []
                        queuedBytes = 0
                        writingBytes = 0
                        running = nil
                    }
                    return
                }
            }
        }
    }
}
