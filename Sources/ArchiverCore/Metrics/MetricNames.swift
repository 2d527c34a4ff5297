/// The names of every metric archiver reports through swift-metrics, in Prometheus style: `_total` for counters,
/// `_seconds` and `_bytes` in base units. Whatever backend the process bootstraps (`archiver serve` and
/// `--metrics-listen` bootstrap Prometheus) sees these names; without one, reporting costs next to nothing.
///
/// The README's metrics list is this file in words; keep the two together.
public enum MetricNames {
    // MARK: The pipeline (label `source`: the source's id, e.g. `jsonl:/var/feed.jsonl`)

    /// Records read from the source.
    public static let recordsRead = "archiver_records_read_total"
    /// Bytes of records read from the source.
    public static let recordBytesRead = "archiver_record_bytes_read_total"
    /// Deletions archived, by `kind` (`manual`, `ttl`).
    public static let recordsArchived = "archiver_records_archived_total"
    /// Records passed over (not deletions), by `event` (`INSERT`, `MODIFY`).
    public static let recordsPassedOver = "archiver_records_passed_over_total"
    /// Records dead-lettered, by `code` (`malformed-json`, `no-old-image`, `write-failed`, …).
    public static let recordsDeadLettered = "archiver_records_dead_lettered_total"
    /// Records of erased subjects not archived, by `kind` (reported by erasure when it suppresses a record).
    public static let recordsSuppressed = "archiver_records_suppressed_total"
    /// Objects written to the archive.
    public static let archiveWrites = "archiver_archive_writes_total"
    /// Bytes (gzip) written to the archive.
    public static let archiveBytesWritten = "archiver_archive_written_bytes_total"
    /// Attempts the archive store refused or could not take and that were tried again, by `reason`
    /// (`unavailable`: the store was down; `rejected`: it refused an object).
    public static let storeRetries = "archiver_store_retries_total"
    /// Seconds spent waiting for an unavailable archive store.
    public static let storeWaitSeconds = "archiver_store_wait_seconds_total"
    /// How long committing a batch took: writing its objects and dead letters durably and saving its checkpoint.
    public static let batchCommitSeconds = "archiver_batch_commit_duration_seconds"
    /// For the last deletion archived: seconds between its deletion (the record's event time) and its archiving.
    public static let sourceLagSeconds = "archiver_source_lag_seconds"
    /// Bytes of a file source not read yet (its size past the checkpoint).
    public static let sourceBacklogBytes = "archiver_source_backlog_bytes"
    /// Records of a change-table source not read yet.
    public static let sourceBacklogRecords = "archiver_source_backlog_records"
    /// Seconds since the checkpoint was last saved (grows while a source has nothing new).
    public static let checkpointAgeSeconds = "archiver_checkpoint_age_seconds"

    // MARK: The process (`archiver serve`)

    /// 1 while a source's tail runs, 0 while it waits to be restarted after a failure.
    public static let tailUp = "archiver_tail_up"
    /// Times a source's tail failed and was restarted.
    public static let tailRestarts = "archiver_tail_restarts_total"
    /// Entries in the dead-letter folder.
    public static let deadLetters = "archiver_dead_letters"
    /// HTTP requests served, by `method`, `route` (the route's pattern, never the path asked for) and `status`.
    public static let httpRequestSeconds = "archiver_http_request_duration_seconds"

    // MARK: The deletion queue (hooks: reported by the queue and its workers)

    /// Queue entries, by `state`.
    public static let queueEntries = "archiver_queue_entries"
    /// Actions carried out by the queue's workers, by `rule`, `action` and `outcome` (`completed`, `retryable`,
    /// `parked`).
    public static let actions = "archiver_queue_actions_total"
    /// How long an action took, by `rule` and `action`: from its batch's claim to its executor's result (an executor
    /// carries a batch's actions out together: S3 deletes go 1,000 keys a call).
    public static let actionSeconds = "archiver_queue_action_duration_seconds"

    // MARK: Coordination (hooks: reported by the coordinator)

    /// Deletions that began waiting for consumers, by `consumer`.
    public static let coordinationWaits = "archiver_coordination_waits_total"
    /// Consumers that did not answer in time, by `consumer`.
    public static let coordinationTimeouts = "archiver_coordination_timeouts_total"
    /// Acknowledgements received, by `consumer`.
    public static let coordinationAcks = "archiver_coordination_acks_total"
    /// How long a deletion waited for a consumer's acknowledgement, by `consumer`.
    public static let coordinationWaitSeconds = "archiver_coordination_wait_duration_seconds"

    // MARK: Coordination and erasure as the state database holds them (read at each scrape of `archiver serve`)

    /// Coordinations, by `state` (`waiting`, `released`, `timed-out`, `completed`, `parked`).
    public static let coordinations = "archiver_coordinations"
    /// Expected consumers of every coordination, by `status` (`waiting`, `completed`, `failed`, `timed-out`; `late`:
    /// acks that came after their coordination was decided).
    public static let coordinationConsumers = "archiver_coordination_consumers"
    /// Events written to the outbox and not yet delivered to a target, by `target`.
    public static let outboxBacklog = "archiver_outbox_backlog_events"
    /// Events delivered to a target, by `target`.
    public static let outboxDelivered = "archiver_outbox_delivered_events"
    /// Events a target refused for good (parked with the reason), by `target`.
    public static let outboxParked = "archiver_outbox_parked_events"
    /// Failed delivery attempts in a row to a target (0 once a delivery goes through), by `target`.
    public static let outboxFailedAttempts = "archiver_outbox_failed_attempts"
    /// Erasure jobs, by `state` (`queued`, `running`, `completed`, `completed-with-errors`, `failed`, `cancelled`).
    public static let erasureJobStates = "archiver_erasure_jobs_in_state"
    /// Archived objects (and versions) every erasure job has deleted or rewritten without its subject.
    public static let erasureObjectsErased = "archiver_erasure_objects_erased"

    // MARK: Erasure (hooks: reported by erasure jobs)

    /// Erasure jobs, by `outcome` (`started`, `completed`, `failed`).
    public static let erasureJobs = "archiver_erasure_jobs_total"
    /// Archived objects (and versions) deleted by erasure jobs.
    public static let erasureObjectsDeleted = "archiver_erasure_objects_deleted_total"
}
