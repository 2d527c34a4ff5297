import ArchiverCore
import AWSClients
import Foundation
import Logging

/// Erases archive objects in S3 for an erasure: every version and delete marker of each key (a versioned bucket
/// keeps the bytes of a deleted object as a noncurrent version, so deleting the current one is not enough).
///
/// The keys' versions are listed (ListObjectVersions, or ListObjectsV2 in a bucket that never had versioning), in
/// ranges of a page of keys under the longest name each range shares (a versioned bucket: a day folder's keys at
/// once; ``ErasureListings``), many in flight; then deleted with DeleteObjects calls of up to 1,000 versions
/// (Content-MD5 on each, many in flight). GLACIER and DEEP_ARCHIVE
/// objects are deleted as they are, without a restore; the early-deletion charge their minimum storage duration
/// implies is estimated from class, size and age (``EarlyDeletion``). Every event carries the DeleteObjects call's
/// request id.
///
/// Where a listing would tell nothing the index does not (``indexSuffices()``: the bucket never had versioning, so
/// each key has the one version archiver wrote, and no lifecycle rule moves the archive's objects out of STANDARD,
/// the class archiver writes in, which has no minimum storage duration), the keys are deleted without one: each
/// event says so (``ErasureStore/Event/classAsWritten``), and a key already gone counts as deleted, as DeleteObjects
/// reports it. `erasure.list-objects: always` lists all the same.
public struct S3ArchiveEraser: ArchiveEraser {
    public let client: S3Client
    public let bucket: String
    /// The archive's key prefix: empty or ending in `/`.
    public let prefix: String
    public var concurrency: Int
    public var logger: Logger
    /// Whether keys are listed before they are deleted even where the index suffices (`erasure.list-objects: always`).
    public var listAlways: Bool
    /// Whether the bucket has ever had versioning, asked once a minute.
    let versioning = AskedOnce<Bool>()
    /// Whether the index suffices, asked once a minute.
    let indexAlone = AskedOnce<Bool>()

    public init(store: S3ArchiveStore, concurrency: Int = 32, listAlways: Bool = false, logger: Logger = Logger(label: "archiver.erase.s3")) {
        client = store.client
        bucket = store.bucket
        prefix = store.prefix
        self.concurrency = max(1, concurrency)
        self.listAlways = listAlways
        self.logger = logger
    }

    /// Whether keys can be deleted without listing them first: the bucket never had versioning (GetBucketVersioning)
    /// and no enabled lifecycle rule with a transition selects names under the archive's prefix
    /// (GetBucketLifecycleConfiguration; a rule filtered by tag or size counts as selecting them). Either question
    /// unanswered (a policy without the permission) means listing: never fewer versions deleted, never a class
    /// guessed.
    public func indexSuffices() async -> Bool {
        guard !listAlways else { return false }
        let (client, bucket, prefix, eraser) = (client, bucket, prefix, self)
        return await indexAlone.value {
            guard !(await eraser.isVersioned()) else { return false }
            do {
                guard let xml = try await client.getBucketLifecycleConfiguration(bucket: bucket) else { return true }
                return try !BucketLifecycleXML.policy(xml).rules.contains { Self.mayChangeClass($0, under: prefix) }
            } catch {
                return false
            }
        }
    }

    /// Whether `rule` can move an object under `prefix` to another storage class.
    static func mayChangeClass(_ rule: LifecycleRule, under prefix: String) -> Bool {
        guard rule.status == .enabled, !(rule.transitions ?? []).isEmpty else { return false }
        let selected = rule.effectivePrefix
        return selected.hasPrefix(prefix) || prefix.hasPrefix(selected)
    }

    /// Whether the bucket has ever had versioning (Enabled or Suspended). When it cannot be asked (a policy without
    /// s3:GetBucketVersioning), versions are listed: never fewer deleted.
    func isVersioned() async -> Bool {
        let (client, bucket) = (client, bucket)
        return await versioning.value {
            do {
                return try await client.getBucketVersioning(bucket: bucket) != nil
            } catch {
                return true
            }
        }
    }

    /// Keys an erasure hands over at once: the listings above serve many keys.
    public var chunkSize: Int { 10_000 }

    public func purgeOlderVersions(of key: String, at date: Date) async -> [ErasureStore.Event] {
        do {
            var older: [S3ObjectIdentifier] = []
            for try await version in client.listAllObjectVersions(bucket: bucket, prefix: prefix + key) where version.key == prefix + key && !version.isLatest {
                older.append(version.identifier)
            }
            guard !older.isEmpty else { return [] }
            let result = try await client.deleteObjects(bucket: bucket, objects: older)
            if let first = result.errors.first {
                return [.init(at: date, store: "archive", operation: "delete-version", key: key, outcome: "failed", detail: "\(first)", requestID: first.requestID)]
            }
            return [.init(at: date, store: "archive", operation: "delete-version", key: key, outcome: "deleted",
                          detail: "\(older.count) older versions", requestID: result.requestIDs.first)]
        } catch {
            return [.init(at: date, store: "archive", operation: "delete-version", key: key, outcome: "failed", detail: "\(error)")]
        }
    }

    public func versions(of keys: [String]) async throws -> [String: [StoredVersion]]? {
        let (found, unlisted) = await list(keys)
        if let (key, error) = unlisted.first { throw S3SurveyError(key: key, reason: error) }
        return found.mapValues { versions in
            versions.map {
                StoredVersion(key: String($0.key.dropFirst(prefix.count)), versionID: $0.versionID, isDeleteMarker: $0.isDeleteMarker, size: $0.size,
                              lastModified: $0.lastModified, storageClass: $0.isDeleteMarker ? nil : ($0.storageClass ?? "STANDARD"))
            }
        }
    }

    /// The versions of `keys` (by key relative to the prefix), and the keys whose listing failed with why.
    func list(_ keys: [String]) async -> (found: [String: [Found]], unlisted: [String: String]) {
        let client = client
        let bucket = bucket
        let prefix = prefix
        // A bucket that never had versioning holds one ("null") version of each key: ListObjectsV2 finds it (with its
        // class, size and age) for less than ListObjectVersions.
        let versioned = await isVersioned()
        // The keys' versions, found by listing ranges of a page of one day folder's keys, each under the longest name
        // its keys share, side by side (``ErasureListings``); in a versioned bucket, a day folder's keys at once.
        let listings = ErasureListings.plan(keys, rangeKeys: versioned ? .max : ErasureListings.rangeKeys)
        let listed = await concurrently(listings, limit: concurrency) { listing -> Result<[Found], any Error> in
            do {
                // Only this listing's keys: a name that two listings reach is found once.
                let wanted = Set(listing.keys)
                var versions: [Found] = []
                if versioned {
                    for try await version in client.listAllObjectVersions(bucket: bucket, prefix: prefix + listing.prefix)
                    where version.key.hasPrefix(prefix) && wanted.contains(String(version.key.dropFirst(prefix.count))) {
                        versions.append(Found(
                            key: version.key, versionID: version.versionID, isDeleteMarker: version.isDeleteMarker, size: version.size,
                            lastModified: version.lastModified, storageClass: version.storageClass))
                    }
                } else {
                    // Keys come in order: the listing ends at the range's last key (the pager fetches no page after).
                    let last = listing.last.map { prefix + $0 }
                    for try await object in client.listAllObjects(bucket: bucket, prefix: prefix + listing.prefix, startAfter: listing.after.map { prefix + $0 }) {
                        if object.key.hasPrefix(prefix) && wanted.contains(String(object.key.dropFirst(prefix.count))) {
                            versions.append(Found(
                                key: object.key, versionID: nil, isDeleteMarker: false, size: object.size, lastModified: object.lastModified,
                                storageClass: object.storageClass))
                        }
                        if let last, !object.key.utf8.lexicographicallyPrecedes(last.utf8) { break }
                    }
                }
                return .success(versions)
            } catch {
                return .failure(error)
            }
        }
        var found: [String: [Found]] = [:]
        var unlisted: [String: String] = [:]
        for (listing, result) in zip(listings, listed) {
            switch result {
            case .success(let versions):
                for version in versions { found[String(version.key.dropFirst(prefix.count)), default: []].append(version) }
            case .failure(let error):
                for key in listing.keys { unlisted[key] = "\(error)" }
            }
        }
        return (found, unlisted)
    }

    public func erase(_ keys: [String], at date: Date) async -> [ErasureStore.Event] {
        let client = client
        let bucket = bucket
        // Where the index suffices, each key is its one version, in the class it was written in.
        let (found, unlisted) = await indexSuffices()
            ? (Dictionary(keys.map { ($0, [Found(writtenKey: prefix + $0)]) }, uniquingKeysWith: { a, _ in a }), [:])
            : await list(keys)
        var events: [ErasureStore.Event] = []
        var targets: [(key: String, version: Found)] = []
        for key in keys {
            if let error = unlisted[key] {
                events.append(.init(at: date, store: "archive", operation: "delete", key: key, outcome: "failed", detail: "cannot list its versions: \(error)"))
            } else if let versions = found[key], !versions.isEmpty {
                targets += versions.map { (key, $0) }
            } else {
                events.append(.init(at: date, store: "archive", operation: "delete", key: key, outcome: "absent"))
            }
        }
        let batches = stride(from: 0, to: targets.count, by: S3Client.maximumDeleteObjectsBatch).map {
            Array(targets[$0..<min(targets.count, $0 + S3Client.maximumDeleteObjectsBatch)])
        }
        let results = await concurrently(batches, limit: concurrency) { batch -> Result<S3DeleteObjectsResult, any Error> in
            do {
                return .success(try await client.deleteObjectBatch(bucket: bucket, objects: batch.map { $0.version.identifier }))
            } catch {
                return .failure(error)
            }
        }
        for (batch, result) in zip(batches, results) {
            switch result {
            case .success(let outcome):
                let failed = Dictionary(outcome.errors.map { (S3ObjectIdentifier(key: $0.key, versionID: $0.versionID), $0) }, uniquingKeysWith: { a, _ in a })
                for (key, version) in batch {
                    let requestID = outcome.requestIDs.first
                    if let error = failed[version.identifier] {
                        events.append(.init(at: date, store: "archive", operation: "delete", key: key, storageClass: version.storageClass, outcome: "failed",
                                            detail: "version \(version.versionID ?? "null"): \(error.code) \(error.message)", requestID: error.requestID ?? requestID))
                        continue
                    }
                    let charge = version.isDeleteMarker ? 0 : EarlyDeletion.charge(
                        storageClass: version.storageClass, size: version.size, since: version.lastModified ?? date, now: date)
                    events.append(.init(
                        at: date, store: "archive", operation: version.isDeleteMarker ? "delete-marker" : "delete", key: key,
                        storageClass: version.isDeleteMarker ? nil : (version.storageClass ?? "STANDARD"), outcome: "deleted",
                        detail: version.asWritten ? ErasureStore.Event.classAsWritten : "version \(version.versionID ?? "null")", requestID: requestID,
                        size: version.isDeleteMarker || version.asWritten ? nil : version.size,
                        earlyDeletionUSD: charge > 0 ? charge : nil))
                }
            case .failure(let error):
                for (key, version) in batch {
                    events.append(.init(at: date, store: "archive", operation: "delete", key: key, storageClass: version.storageClass, outcome: "failed",
                                        detail: "version \(version.versionID ?? "null"): \(error)"))
                }
            }
        }
        return events
    }
}

/// A fact about a bucket, asked once and kept for `lifetime` seconds (the first answer stands; callers at once may
/// each ask): a long-running process (`serve`) asks again, so a bucket whose versioning was turned on since is
/// listed by its next erasure.
final class AskedOnce<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var known: (value: Value, at: Date)?
    let lifetime: TimeInterval
    let now: @Sendable () -> Date

    init(lifetime: TimeInterval = 60, now: @escaping @Sendable () -> Date = { Date() }) {
        self.lifetime = lifetime
        self.now = now
    }

    func value(_ ask: @Sendable () async -> Value) async -> Value {
        let asked = now()
        if let known = lock.withLock({ known }), asked.timeIntervalSince(known.at) < lifetime { return known.value }
        let value = await ask()
        return lock.withLock {
            if let known, known.at >= asked { return known.value }
            known = (value, asked)
            return value
        }
    }
}

/// A listing of an erasure's keys that failed.
struct S3SurveyError: Error, CustomStringConvertible {
    var key: String
    var reason: String
    var description: String { "cannot list the versions of \(key): \(reason)" }
}

/// A version (or, in a bucket without versioning, the object) an erasure deletes.
struct Found: Sendable {
    var key: String
    var versionID: String?
    var isDeleteMarker: Bool
    var size: Int64
    var lastModified: Date?
    var storageClass: String?
    /// Not listed: the one version of a key of a bucket without versioning, in the class archiver writes in.
    var asWritten = false
    var identifier: S3ObjectIdentifier { S3ObjectIdentifier(key: key, versionID: versionID) }
}

extension Found {
    /// The key's one version, as archiver wrote it (STANDARD; size and age not known): not listed.
    init(writtenKey key: String) {
        self.init(key: key, versionID: nil, isDeleteMarker: false, size: 0, lastModified: nil, storageClass: "STANDARD", asWritten: true)
    }
}
