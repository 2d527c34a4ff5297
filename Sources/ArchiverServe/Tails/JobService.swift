import ArchiverCore
import Foundation
import Logging
import ServiceLifecycle

/// A ``ServeJob`` under the service group: run until the group shuts down (then told to stop and awaited), run again
/// with the tails' backoff when it fails, so a failing job never takes the tails or the server down.
final class JobService: Service, @unchecked Sendable {
    private let job: ServeJob
    private let backoff: RestartBackoff
    private let logger: Logger

    init(job: ServeJob, backoff: RestartBackoff, logger: Logger) {
        self.job = job
        self.backoff = backoff
        self.logger = logger
    }

    func run() async throws {
        let stop = StopSignal()
        await withTaskCancellationOrGracefulShutdownHandler {
            await self.loop(stop)
        } onCancelOrGracefulShutdown: {
            stop.stop()
        }
    }

    private func loop(_ stop: StopSignal) async {
        var failures = 0
        while !stop.isStopped && !Task.isCancelled {
            do {
                try await job.run(stop)
                failures = 0
                if !stop.isStopped { await stop.sleep(seconds: backoff.base) }
            } catch {
                if stop.isStopped { break }
                failures += 1
                let delay = backoff.delay(afterFailures: failures)
                logger.error(
                    "\(job.name) failed; running it again after a wait (the tails go on)",
                    metadata: ["error": "\(error)", "restart.attempt": "\(failures)", "restart.delay": "\(String(format: "%.1f", delay))s"])
                await stop.sleep(seconds: delay)
            }
        }
    }
}
