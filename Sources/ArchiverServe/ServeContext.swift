import ArchiverCore
import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What every endpoint and page section works with: the parts, the state folder's stores, the tails, the sign-ins.
/// A feature that keeps its own store in the state database opens it from ``checkpoints`` (the queue's store is
/// made from the checkpoint store's database, as the commit transaction needs).
public final class ServeContext: Sendable {
    public let parts: ServeParts
    public let settings: ServeSettings
    /// The state database (checkpoints, gaps, and the features' tables).
    public let checkpoints: CheckpointStore
    public let deadLetters: DeadLetterFolder
    /// One per configured source, in the configuration's order.
    public let tails: [TailService]
    let sessions: SessionStore
    public let logger: Logger
    public let startedAt: Date
    private let stopping = StoppingFlag()

    init(parts: ServeParts, settings: ServeSettings, checkpoints: CheckpointStore, deadLetters: DeadLetterFolder, tails: [TailService],
         logger: Logger, startedAt: Date = Date()) {
        self.parts = parts
        self.settings = settings
        self.checkpoints = checkpoints
        self.deadLetters = deadLetters
        self.tails = tails
        sessions = SessionStore(lifetime: settings.sessionLifetime)
        self.logger = logger
        self.startedAt = startedAt
    }

    /// Every tail's state now.
    public func tailSnapshots(now: Date = Date()) async -> [TailSnapshot] {
        var snapshots: [TailSnapshot] = []
        for tail in tails { snapshots.append(await tail.snapshot(now: now)) }
        return snapshots
    }

    /// The service is stopping: `/readyz` says so, so a load balancer stops sending work.
    public var isStopping: Bool { stopping.value }
    func markStopping() { stopping.set() }

    /// Whether the state folder takes writes now: a file is created and removed in it.
    func stateIsWritable() -> Bool {
        let probe = FileSystem.absolute(parts.stateFolder) + "/.ready-\(getpid())"
        do {
            try FileSystem.createPrivateFile(probe)
            unlink(probe)
            return true
        } catch {
            return false
        }
    }

    /// The restore target of that name, opened.
    func restoreTarget(named name: String) throws -> (ServeRestoreTarget, any RestoreTarget) {
        guard let target = parts.restoreTargets.first(where: { $0.name == name }) else {
            let known = parts.restoreTargets.map(\.name)
            throw APIError.badRequest(
                known.isEmpty
                    ? "no restore targets are configured; add them under serve.restore-targets in the configuration file"
                    : "no restore target '\(name)'; the configured ones are \(known.joined(separator: ", "))",
                field: "target")
        }
        return (target, try target.open())
    }
}

private final class StoppingFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    var value: Bool { lock.withLock { stopped } }
    func set() { lock.withLock { stopped = true } }
}
