import ArchiverCore
import ArgumentParser
import Foundation
import Logging

/// What `tail` and `queue run` share: the worker of the deletion queue, built from the configuration.
enum QueueSetup {
    /// Refuses roots that reach into the archive or the state folder, before anything runs.
    static func checkRoots(_ configuration: ArchiverConfiguration, archive: ArchiveLocation?, stateFolder: String) throws {
        for root in configuration.roots.roots {
            if let archive, root.location.overlaps(archive) {
                throw ValidationError("the root '\(root.name)' (\(root.location)) overlaps the archive (\(archive)); actions must never reach archived records")
            }
            if root.location.overlaps(folder: stateFolder) {
                throw ValidationError("the root '\(root.name)' (\(root.location)) overlaps the state folder (\(FileSystem.absolute(stateFolder)))")
            }
        }
    }

    /// A worker over `queue`, acting on the configuration's roots.
    static func worker(
        _ configuration: ArchiverConfiguration, settings: QueueSettings, queue: QueueStore, archive: (location: ArchiveLocation, store: any ArchiveStore)?,
        stateFolder: String, maxAttempts: Int?, logger: Logger
    ) throws -> QueueWorker {
        let executors = try Wiring(logger: logger).executors(roots: configuration.roots, archive: archive?.store, concurrency: settings.concurrency)
        return QueueWorker(
            store: queue, executors: executors, roots: configuration.roots, settings: settings, logger: logger, maxAttempts: maxAttempts,
            archive: archive?.location, stateFolder: stateFolder,
            coordinator: try coordinator(configuration, queue: queue, stateFolder: stateFolder, logger: logger))
    }

    /// Coordination beside the workers: when a rule says `coordinate:` or `events:` names targets (nil otherwise).
    static func coordinator(_ configuration: ArchiverConfiguration, queue: QueueStore, stateFolder: String, logger: Logger, always: Bool = false) throws -> Coordinator? {
        guard always || configuration.rules.rules.contains(where: { $0.coordinate != nil }) || !configuration.events.targets.isEmpty else { return nil }
        let events = configuration.events
        let targets = try EventTargets.make(events.resolvedTargets(stateFolder: stateFolder), logger: logger)
        return Coordinator(
            store: CoordinationStore(queue: queue, eventSource: events.source, logger: logger),
            delivery: OutboxDelivery(queue: queue, targets: targets, settings: events, logger: logger),
            acks: try EventTargets.acks(events, logger: logger), logger: logger)
    }

    /// The progress line of a worker.
    static func progressText(_ summary: QueueRunSummary) -> String {
        "actions: completed \(summary.completed)  retrying \(summary.retrying)  parked \(summary.parked)"
    }
}

/// Counts a worker running beside the tail reports, for the tail's progress line.
final class QueueProgress: @unchecked Sendable {
    private let lock = NSLock()
    private var latest = QueueRunSummary()

    func update(_ summary: QueueRunSummary) { lock.withLock { latest = summary } }
    var summary: QueueRunSummary { lock.withLock { latest } }
}
