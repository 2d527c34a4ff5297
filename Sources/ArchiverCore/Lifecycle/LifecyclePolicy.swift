import Foundation

/// An S3 lifecycle configuration: exactly the JSON that
/// `aws s3api put-bucket-lifecycle-configuration --lifecycle-configuration file://…` takes.
///
///     {"Rules": [{"ID": "archive-retention", "Status": "Enabled", "Filter": {"Prefix": ""},
///                 "Transitions": [{"Days": 90, "StorageClass": "STANDARD_IA"}, …],
///                 "Expiration": {"Days": 2557}}]}
///
/// Reading is strict, as the aws CLI is: `LifecyclePolicy.decode(_:)` and `load(path:)` refuse a field S3 does not
/// define (not something silently passed over) and validate; `validate()` checks the rules S3 itself enforces.
public struct LifecyclePolicy: Codable, Sendable, Equatable {
    /// The rules, in file order (at most 1000).
    public var rules: [LifecycleRule]

    public init(rules: [LifecycleRule]) {
        self.rules = rules
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case rules = "Rules"
    }
}

/// One rule: which objects (`Filter`, or the legacy `Prefix`) and what happens to them as they age.
public struct LifecycleRule: Codable, Sendable, Equatable {
    /// `Enabled` or `Disabled`.
    public enum Status: String, Codable, Sendable, CaseIterable {
        case enabled = "Enabled"
        case disabled = "Disabled"

        public init(from decoder: any Decoder) throws {
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let status = Status(rawValue: text) else {
                throw LifecyclePolicyError.invalid(
                    at: policyPath(decoder.codingPath), "\"\(text)\" is not a status",
                    fix: "write \"Enabled\" or \"Disabled\" (capitalised, as S3 spells them)")
            }
            self = status
        }
    }

    /// A name for the rule (at most 255 characters); S3 makes one up when it is missing.
    public var id: String?
    /// Whether S3 (and archiver) act on the rule.
    public var status: Status
    /// Which objects the rule applies to. A rule has a `Filter` or a legacy `Prefix`, not both.
    public var filter: LifecycleFilter?
    /// The legacy way to name the objects (before `Filter` existed); still accepted by S3.
    public var prefix: String?
    /// Moves to cheaper storage classes, by age (`Days`) or on a date (`Date`).
    public var transitions: [LifecycleTransition]?
    /// When objects are deleted.
    public var expiration: LifecycleExpiration?
    /// For versioned buckets only; accepted and checked, not planned (an archive folder has no versions).
    public var noncurrentVersionTransitions: [NoncurrentVersionTransition]?
    /// For versioned buckets only; accepted and checked, not planned.
    public var noncurrentVersionExpiration: NoncurrentVersionExpiration?
    /// Removes the parts of multipart uploads that never finished; S3 does this itself.
    public var abortIncompleteMultipartUpload: AbortIncompleteMultipartUpload?

    public init(
        id: String? = nil, status: Status = .enabled, filter: LifecycleFilter? = LifecycleFilter(prefix: ""),
        prefix: String? = nil, transitions: [LifecycleTransition]? = nil, expiration: LifecycleExpiration? = nil,
        noncurrentVersionTransitions: [NoncurrentVersionTransition]? = nil,
        noncurrentVersionExpiration: NoncurrentVersionExpiration? = nil,
        abortIncompleteMultipartUpload: AbortIncompleteMultipartUpload? = nil
    ) {
        self.id = id
        self.status = status
        self.filter = filter
        self.prefix = prefix
        self.transitions = transitions
        self.expiration = expiration
        self.noncurrentVersionTransitions = noncurrentVersionTransitions
        self.noncurrentVersionExpiration = noncurrentVersionExpiration
        self.abortIncompleteMultipartUpload = abortIncompleteMultipartUpload
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id = "ID"
        case status = "Status"
        case filter = "Filter"
        case prefix = "Prefix"
        case transitions = "Transitions"
        case expiration = "Expiration"
        case noncurrentVersionTransitions = "NoncurrentVersionTransitions"
        case noncurrentVersionExpiration = "NoncurrentVersionExpiration"
        case abortIncompleteMultipartUpload = "AbortIncompleteMultipartUpload"
    }

    /// The prefix the rule selects by (`Filter.Prefix`, `Filter.And.Prefix` or the legacy `Prefix`); "" for all.
    public var effectivePrefix: String {
        filter?.prefix ?? filter?.and?.prefix ?? prefix ?? ""
    }
}

/// Which objects a rule applies to. S3 takes exactly one of `Prefix`, `Tag`, `ObjectSizeGreaterThan`,
/// `ObjectSizeLessThan` or `And` (or nothing: every object). archiver plans by prefix and by size;
/// it cannot see object tags, so a tag filter is refused by `validate()`.
public struct LifecycleFilter: Codable, Sendable, Equatable {
    /// Only objects whose key (the whole bucket key) starts with this; "" for all.
    public var prefix: String?
    /// Only objects with this tag (not supported by archiver).
    public var tag: LifecycleTag?
    /// Only objects larger than this many bytes.
    public var objectSizeGreaterThan: Int64?
    /// Only objects smaller than this many bytes.
    public var objectSizeLessThan: Int64?
    /// Several conditions at once.
    public var and: LifecycleFilterAnd?

    public init(prefix: String? = nil, tag: LifecycleTag? = nil, objectSizeGreaterThan: Int64? = nil,
                objectSizeLessThan: Int64? = nil, and: LifecycleFilterAnd? = nil) {
        self.prefix = prefix
        self.tag = tag
        self.objectSizeGreaterThan = objectSizeGreaterThan
        self.objectSizeLessThan = objectSizeLessThan
        self.and = and
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case prefix = "Prefix"
        case tag = "Tag"
        case objectSizeGreaterThan = "ObjectSizeGreaterThan"
        case objectSizeLessThan = "ObjectSizeLessThan"
        case and = "And"
    }

    /// The smallest size the filter admits (exclusive), from `ObjectSizeGreaterThan` or `And`.
    var sizeGreaterThan: Int64? { objectSizeGreaterThan ?? and?.objectSizeGreaterThan }
    /// The largest size the filter admits (exclusive), from `ObjectSizeLessThan` or `And`.
    var sizeLessThan: Int64? { objectSizeLessThan ?? and?.objectSizeLessThan }
    /// A size filter replaces S3's default minimum object size for transitions.
    var hasSizeFilter: Bool { sizeGreaterThan != nil || sizeLessThan != nil }
}

/// An object tag in a filter.
public struct LifecycleTag: Codable, Sendable, Equatable {
    /// The tag's name.
    public var key: String
    /// The tag's value.
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case key = "Key"
        case value = "Value"
    }
}

/// Several filter conditions that must all hold.
public struct LifecycleFilterAnd: Codable, Sendable, Equatable {
    /// Only objects whose key starts with this.
    public var prefix: String?
    /// Only objects with all these tags (not supported by archiver).
    public var tags: [LifecycleTag]?
    /// Only objects larger than this many bytes.
    public var objectSizeGreaterThan: Int64?
    /// Only objects smaller than this many bytes.
    public var objectSizeLessThan: Int64?

    public init(prefix: String? = nil, tags: [LifecycleTag]? = nil, objectSizeGreaterThan: Int64? = nil, objectSizeLessThan: Int64? = nil) {
        self.prefix = prefix
        self.tags = tags
        self.objectSizeGreaterThan = objectSizeGreaterThan
        self.objectSizeLessThan = objectSizeLessThan
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case prefix = "Prefix"
        case tags = "Tags"
        case objectSizeGreaterThan = "ObjectSizeGreaterThan"
        case objectSizeLessThan = "ObjectSizeLessThan"
    }
}

/// A move to a storage class, a number of days after creation or on a date (midnight UTC).
public struct LifecycleTransition: Codable, Sendable, Equatable {
    /// The day objects move (midnight UTC); or
    public var date: LifecycleDate?
    /// the days after creation when they move.
    public var days: Int?
    /// Where they move to.
    public var storageClass: StorageClass

    /// A transition on a date or after a number of days (`validate()` refuses both, and neither).
    public init(date: LifecycleDate? = nil, days: Int? = nil, storageClass: StorageClass) {
        self.date = date
        self.days = days
        self.storageClass = storageClass
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case date = "Date"
        case days = "Days"
        case storageClass = "StorageClass"
    }
}

/// When objects are deleted: a number of days after creation, on a date, or (versioned buckets only)
/// removing delete markers left with no versions behind them.
public struct LifecycleExpiration: Codable, Sendable, Equatable {
    /// The day objects are deleted (midnight UTC); or
    public var date: LifecycleDate?
    /// the days after creation when they are deleted; or
    public var days: Int?
    /// (versioned buckets) whether delete markers with no versions left are removed.
    public var expiredObjectDeleteMarker: Bool?

    /// One of a date, a number of days, or the removal of delete markers (`validate()` refuses more, and none).
    public init(date: LifecycleDate? = nil, days: Int? = nil, expiredObjectDeleteMarker: Bool? = nil) {
        self.date = date
        self.days = days
        self.expiredObjectDeleteMarker = expiredObjectDeleteMarker
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case date = "Date"
        case days = "Days"
        case expiredObjectDeleteMarker = "ExpiredObjectDeleteMarker"
    }
}

/// A move of noncurrent object versions (versioned buckets only). Accepted and checked, not planned.
public struct NoncurrentVersionTransition: Codable, Sendable, Equatable {
    /// Days after a version stops being current.
    public var noncurrentDays: Int?
    /// Where the version moves to.
    public var storageClass: StorageClass?
    /// How many newer noncurrent versions to keep where they are.
    public var newerNoncurrentVersions: Int?

    public init(noncurrentDays: Int?, storageClass: StorageClass?, newerNoncurrentVersions: Int? = nil) {
        self.noncurrentDays = noncurrentDays
        self.storageClass = storageClass
        self.newerNoncurrentVersions = newerNoncurrentVersions
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case noncurrentDays = "NoncurrentDays"
        case storageClass = "StorageClass"
        case newerNoncurrentVersions = "NewerNoncurrentVersions"
    }
}

/// The deletion of noncurrent object versions (versioned buckets only). Accepted and checked, not planned.
public struct NoncurrentVersionExpiration: Codable, Sendable, Equatable {
    /// Days after a version stops being current.
    public var noncurrentDays: Int?
    /// How many newer noncurrent versions to keep.
    public var newerNoncurrentVersions: Int?

    public init(noncurrentDays: Int?, newerNoncurrentVersions: Int? = nil) {
        self.noncurrentDays = noncurrentDays
        self.newerNoncurrentVersions = newerNoncurrentVersions
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case noncurrentDays = "NoncurrentDays"
        case newerNoncurrentVersions = "NewerNoncurrentVersions"
    }
}

/// Removes the uploaded parts of multipart uploads still unfinished this many days after they began.
public struct AbortIncompleteMultipartUpload: Codable, Sendable, Equatable {
    /// Days after the upload began.
    public var daysAfterInitiation: Int?

    public init(daysAfterInitiation: Int) {
        self.daysAfterInitiation = daysAfterInitiation
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case daysAfterInitiation = "DaysAfterInitiation"
    }
}

/// `Rules[0].Transitions[1].Days`: where in the file a problem is.
func policyPath(_ codingPath: [any CodingKey]) -> String {
    var path = ""
    for key in codingPath {
        if let index = key.intValue {
            path += "[\(index)]"
        } else {
            path += path.isEmpty ? key.stringValue : "." + key.stringValue
        }
    }
    return path.isEmpty ? "the policy" : path
}
