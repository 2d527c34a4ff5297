import AWSClients
import ArchiverCore
import Foundation
import JSONToolkit

/// A lifecycle policy as S3's `<LifecycleConfiguration>` XML: what PutBucketLifecycleConfiguration takes and
/// GetBucketLifecycleConfiguration returns.
package enum BucketLifecycleXML {
    /// The document to send: the policy's JSON (`LifecyclePolicy.document`) element for element, in the same order,
    /// each list written as its items one after another.
    package static func xml(_ policy: LifecyclePolicy) -> [UInt8] {
        var writer = XMLWriter()
        writer.open("LifecycleConfiguration", namespace: s3XMLNamespace)
        if case .object(let members) = policy.document { write(members, to: &writer) }
        writer.close("LifecycleConfiguration")
        return writer.bytes
    }

    /// What each list's items are called in S3's XML.
    private static let itemNames = [
        "Rules": "Rule", "Transitions": "Transition", "NoncurrentVersionTransitions": "NoncurrentVersionTransition", "Tags": "Tag",
    ]

    private static func write(_ members: [(String, JSONValue)], to writer: inout XMLWriter) {
        for (name, value) in members {
            if case .array(let items) = value {
                for item in items { write(item, named: itemNames[name] ?? name, to: &writer) }
            } else {
                write(value, named: name, to: &writer)
            }
        }
    }

    private static func write(_ value: JSONValue, named name: String, to writer: inout XMLWriter) {
        switch value {
        case .object(let members):
            writer.open(name)
            write(members, to: &writer)
            writer.close(name)
        case .string(let text), .number(let text): writer.element(name, text)
        case .bool(let flag): writer.element(name, flag ? "true" : "false")
        case .array, .null: break  // a lifecycle document has neither here
        }
    }

    /// The policy in a document S3 returned. Not validated: a bucket may hold rules archiver would refuse (a tag
    /// filter, say); elements this model does not know are passed over.
    package static func policy(_ xml: [UInt8]) throws -> LifecyclePolicy {
        let root: XMLTree
        do {
            root = try XMLTree.parse(xml)
        } catch {
            throw LifecycleXMLError(reason: "\(error)")
        }
        guard root.name == "LifecycleConfiguration" else {
            throw LifecycleXMLError(reason: "expected <LifecycleConfiguration>, got <\(root.name)>")
        }
        return LifecyclePolicy(rules: try root.children("Rule").enumerated().map { index, element in try rule(element, at: "Rule[\(index)]") })
    }

    private static func rule(_ r: XMLTree, at path: String) throws -> LifecycleRule {
        let statusText = r.string("Status")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard let status = LifecycleRule.Status(rawValue: statusText) else {
            throw LifecycleXMLError(reason: "\(path).Status: expected \"Enabled\" or \"Disabled\", got \"\(statusText)\"")
        }
        var rule = LifecycleRule(id: r.string("ID"), status: status, filter: nil, prefix: r.string("Prefix"))
        if let f = r.child("Filter") {
            let conditions = f.child("And") ?? f
            rule.filter = LifecycleFilter.of(
                prefix: conditions.string("Prefix"),
                tags: conditions.children("Tag").map { LifecycleTag(key: $0.string("Key") ?? "", value: $0.string("Value") ?? "") },
                objectSizeGreaterThan: conditions.string("ObjectSizeGreaterThan").flatMap { Int64($0) },
                objectSizeLessThan: conditions.string("ObjectSizeLessThan").flatMap { Int64($0) })
        }
        let transitions = try r.children("Transition").enumerated().map { index, t in
            let at = "\(path).Transition[\(index)]"
            guard let storageClass = try storageClass(t, at: at) else { throw LifecycleXMLError(reason: "\(at): no StorageClass") }
            return LifecycleTransition(date: try date(t, at: at), days: t.int("Days"), storageClass: storageClass)
        }
        rule.transitions = transitions.isEmpty ? nil : transitions
        if let e = r.child("Expiration") {
            rule.expiration = LifecycleExpiration(
                date: try date(e, at: "\(path).Expiration"), days: e.int("Days"), expiredObjectDeleteMarker: e.bool("ExpiredObjectDeleteMarker"))
        }
        let noncurrent = try r.children("NoncurrentVersionTransition").enumerated().map { index, t in
            NoncurrentVersionTransition(
                noncurrentDays: t.int("NoncurrentDays"), storageClass: try storageClass(t, at: "\(path).NoncurrentVersionTransition[\(index)]"),
                newerNoncurrentVersions: t.int("NewerNoncurrentVersions"))
        }
        rule.noncurrentVersionTransitions = noncurrent.isEmpty ? nil : noncurrent
        if let n = r.child("NoncurrentVersionExpiration") {
            rule.noncurrentVersionExpiration = NoncurrentVersionExpiration(
                noncurrentDays: n.int("NoncurrentDays"), newerNoncurrentVersions: n.int("NewerNoncurrentVersions"))
        }
        rule.abortIncompleteMultipartUpload = r.child("AbortIncompleteMultipartUpload")?.int("DaysAfterInitiation")
            .map { AbortIncompleteMultipartUpload(daysAfterInitiation: $0) }
        return rule
    }

    private static func date(_ element: XMLTree, at path: String) throws -> LifecycleDate? {
        guard let text = element.string("Date") else { return nil }
        do {
            return try LifecycleDate(text)
        } catch {
            throw LifecycleXMLError(reason: "\(path).Date: \"\(text)\" is not an ISO-8601 date-time")
        }
    }

    private static func storageClass(_ element: XMLTree, at path: String) throws -> StorageClass? {
        guard let text = element.string("StorageClass") else { return nil }
        guard let storageClass = StorageClass(rawValue: text) else {
            throw LifecycleXMLError(reason: "\(path).StorageClass: \"\(text)\" is not a storage class archiver knows")
        }
        return storageClass
    }
}

/// A `<LifecycleConfiguration>` document that cannot be read.
struct LifecycleXMLError: Error, CustomStringConvertible {
    var reason: String
    var description: String { "invalid lifecycle configuration: \(reason)" }
}
