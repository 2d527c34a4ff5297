import JSONToolkit

extension LifecyclePolicy {
    /// The policy as `aws s3api get-bucket-lifecycle-configuration` prints it: the members that are set, in the order
    /// of S3's service model (which is also the order of S3's XML), each filter as S3 keeps it (`LifecycleFilter.normalized`).
    public var document: JSONValue { .object([("Rules", .array(rules.map(\.document)))]) }

    /// `document` as the aws CLI prints it: 4 spaces an indent, a member or element a line, a newline at the end.
    public func json() -> [UInt8] { Array((document.formatted(indent: 4) + "\n").utf8) }
}

extension LifecycleRule {
    var document: JSONValue {
        .object(omittingNil: [
            "Expiration": expiration.map { expiration in
                .object(omittingNil: [
                    "Date": expiration.date?.document, "Days": expiration.days.map(JSONValue.integer),
                    "ExpiredObjectDeleteMarker": expiration.expiredObjectDeleteMarker.map(JSONValue.bool),
                ])
            },
            "ID": id.map(JSONValue.string),
            "Prefix": prefix.map(JSONValue.string),
            "Filter": filter?.normalized.document,
            "Status": .string(status.rawValue),
            "Transitions": list(transitions) { transition in
                .object(omittingNil: [
                    "Date": transition.date?.document, "Days": transition.days.map(JSONValue.integer),
                    "StorageClass": .string(transition.storageClass.rawValue),
                ])
            },
            "NoncurrentVersionTransitions": list(noncurrentVersionTransitions) { transition in
                .object(omittingNil: [
                    "NoncurrentDays": transition.noncurrentDays.map(JSONValue.integer),
                    "StorageClass": transition.storageClass.map { .string($0.rawValue) },
                    "NewerNoncurrentVersions": transition.newerNoncurrentVersions.map(JSONValue.integer),
                ])
            },
            "NoncurrentVersionExpiration": noncurrentVersionExpiration.map { expiration in
                .object(omittingNil: [
                    "NoncurrentDays": expiration.noncurrentDays.map(JSONValue.integer),
                    "NewerNoncurrentVersions": expiration.newerNoncurrentVersions.map(JSONValue.integer),
                ])
            },
            "AbortIncompleteMultipartUpload": abortIncompleteMultipartUpload.map { abort in
                .object(omittingNil: ["DaysAfterInitiation": abort.daysAfterInitiation.map(JSONValue.integer)])
            },
        ])
    }
}

/// An array of `items`, or nil (the member left out) when there are none.
private func list<T>(_ items: [T]?, _ element: (T) -> JSONValue) -> JSONValue? {
    guard let items, !items.isEmpty else { return nil }
    return .array(items.map(element))
}

extension LifecycleFilter {
    /// The same conditions as S3 keeps them: one condition on its own, several inside `And`
    /// (conditions given both beside and inside `And` are merged, `And`'s winning).
    public var normalized: LifecycleFilter {
        Self.of(
            prefix: and?.prefix ?? prefix, tags: (tag.map { [$0] } ?? []) + (and?.tags ?? []),
            objectSizeGreaterThan: and?.objectSizeGreaterThan ?? objectSizeGreaterThan,
            objectSizeLessThan: and?.objectSizeLessThan ?? objectSizeLessThan)
    }

    /// A filter of these conditions as S3 keeps them: one on its own, several inside `And`.
    package static func of(prefix: String?, tags: [LifecycleTag], objectSizeGreaterThan: Int64?, objectSizeLessThan: Int64?) -> LifecycleFilter {
        let count = (prefix == nil ? 0 : 1) + tags.count + (objectSizeGreaterThan == nil ? 0 : 1) + (objectSizeLessThan == nil ? 0 : 1)
        guard count > 1 else {
            return LifecycleFilter(prefix: prefix, tag: tags.first, objectSizeGreaterThan: objectSizeGreaterThan, objectSizeLessThan: objectSizeLessThan)
        }
        return LifecycleFilter(
            and: LifecycleFilterAnd(
                prefix: prefix, tags: tags.isEmpty ? nil : tags, objectSizeGreaterThan: objectSizeGreaterThan, objectSizeLessThan: objectSizeLessThan))
    }

    var document: JSONValue {
        .object(omittingNil: [
            "Prefix": prefix.map(JSONValue.string),
            "Tag": tag?.document,
            "ObjectSizeGreaterThan": objectSizeGreaterThan.map(JSONValue.integer),
            "ObjectSizeLessThan": objectSizeLessThan.map(JSONValue.integer),
            "And": and.map { and in
                .object(omittingNil: [
                    "Prefix": and.prefix.map(JSONValue.string),
                    "Tags": list(and.tags) { $0.document },
                    "ObjectSizeGreaterThan": and.objectSizeGreaterThan.map(JSONValue.integer),
                    "ObjectSizeLessThan": and.objectSizeLessThan.map(JSONValue.integer),
                ])
            },
        ])
    }
}

extension LifecycleTag {
    var document: JSONValue { .object([("Key", .string(key)), ("Value", .string(value))]) }
}

extension LifecycleDate {
    var document: JSONValue { .string(text) }
}
