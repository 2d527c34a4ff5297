import Foundation
import JSONToolkit

/// One stored version of an archive object (in a store without versions, the object itself), as a listing shows
/// it: what an erasure would delete and what its early deletion would cost.
public struct StoredVersion: Sendable, Equatable {
    /// The key, relative to the archive root.
    public var key: String
    /// The version id; nil where the store keeps no versions.
    public var versionID: String?
    public var isDeleteMarker: Bool
    public var size: Int64
    public var lastModified: Date?
    /// The storage class as the store names it (nil: the store's default, e.g. STANDARD).
    public var storageClass: String?

    public init(key: String, versionID: String? = nil, isDeleteMarker: Bool = false, size: Int64, lastModified: Date?, storageClass: String?) {
        self.key = key
        self.versionID = versionID
        self.isDeleteMarker = isDeleteMarker
        self.size = size
        self.lastModified = lastModified
        self.storageClass = storageClass
    }
}

/// What a dry run learns of the objects an erasure would delete or rewrite: each object's versions, storage class and
/// age, and the early-deletion charge (``EarlyDeletion``) deleting them implies. Every version of an object touched
/// is charged: a deleted object loses all of them, a rewritten one its old versions (and the old data object).
public struct ErasureSurvey: Sendable {
    /// One object the erasure touches.
    public struct Object: Sendable, Equatable {
        public var key: String
        /// `delete` (a per-record object), `rewrite` (a batched object's index) or `replace` (the batched data object
        /// the rewrite replaces).
        public var operation: String
        public var versions: [StoredVersion]

        /// The current version's storage class (STANDARD where the store names none); nil when absent or unknown.
        public var storageClass: String? {
            guard let current = versions.filter({ !$0.isDeleteMarker }).max(by: { ($0.lastModified ?? .distantPast) < ($1.lastModified ?? .distantPast) })
            else { return nil }
            return current.storageClass ?? "STANDARD"
        }

        public var size: Int64 { versions.filter { !$0.isDeleteMarker }.map(\.size).reduce(0, +) }

        /// Days since the oldest version was written; nil when not known.
        public func ageDays(at now: Date) -> Double? {
            versions.compactMap(\.lastModified).min().map { max(0, now.timeIntervalSince($0) / 86_400) }
        }

        /// The early-deletion charge of deleting every version at `now` (US dollars).
        public func charge(at now: Date) -> Double {
            versions.filter { !$0.isDeleteMarker }.map {
                EarlyDeletion.charge(storageClass: $0.storageClass, size: $0.size, since: $0.lastModified ?? now, now: now)
            }.reduce(0, +)
        }
    }

    public var objects: [Object]
    /// When the listings were read (ages and charges are as of then).
    public var at: Date
    /// False where the store cannot tell classes and ages (a folder: no storage class, no charge).
    public var known: Bool

    public init(objects: [Object], at: Date, known: Bool) {
        self.objects = objects
        self.at = at
        self.known = known
    }

    public var versions: Int { objects.map(\.versions.count).reduce(0, +) }
    public var earlyDeletionUSD: Double { objects.map { $0.charge(at: at) }.reduce(0, +) }

    /// Versions by storage class (delete markers under `delete-marker`).
    public var byStorageClass: [String: Int] {
        var counts: [String: Int] = [:]
        for version in objects.flatMap(\.versions) { counts[version.isDeleteMarker ? "delete-marker" : (version.storageClass ?? "STANDARD"), default: 0] += 1 }
        return counts
    }

    /// Surveys the objects of `plan`: per-record objects by their keys; a batched object by its index and the data
    /// object the index names (one read of each index, as a real run makes). The versions come from `eraser`'s
    /// listings (no request per object).
    public static func survey(_ plan: ErasurePlan, store: any ArchiveStore, eraser: any ArchiveEraser, at now: Date) async throws -> ErasureSurvey {
        var keys: [(key: String, operation: String)] = plan.records.filter { $0.objectKey == nil }.map { ($0.archiveKey, "delete") }
        for index in Set(plan.records.compactMap(\.objectKey)).sorted() {
            keys.append((index, "rewrite"))
            if let bytes = try? await store.get(index), let decoded = try? BatchIndex.decode(bytes, key: index), !decoded.object.isEmpty {
                keys.append((decoded.object, "replace"))
            }
        }
        guard let found = try await eraser.versions(of: keys.map(\.key)) else {
            return ErasureSurvey(objects: keys.map { Object(key: $0.key, operation: $0.operation, versions: []) }, at: now, known: false)
        }
        return ErasureSurvey(objects: keys.map { Object(key: $0.key, operation: $0.operation, versions: found[$0.key] ?? []) }, at: now, known: true)
    }

    /// The survey as the manifest's JSON shows it.
    public var json: JSONValue {
        .object([
            ("known", .bool(known)),
            ("versions", .integer(versions)),
            ("by_storage_class", .object(byStorageClass.sorted { $0.key < $1.key }.map { ($0.key, .integer($0.value)) })),
            ("early_deletion_usd", .number(String(format: "%.6f", earlyDeletionUSD))),
            ("objects", .array(objects.map { object in
                .object([
                    ("key", .string(object.key)), ("operation", .string(object.operation)),
                    ("versions", .integer(object.versions.count)),
                    ("storage_class", object.storageClass.map(JSONValue.string) ?? .null),
                    ("bytes", .integer(Int(object.size))),
                    ("age_days", object.ageDays(at: at).map { .number(String(format: "%.1f", $0)) } ?? .null),
                    ("early_deletion_usd", .number(String(format: "%.6f", object.charge(at: at)))),
                ])
            })),
        ])
    }
}
