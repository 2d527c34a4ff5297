import Foundation
import JSONToolkit

/// An S3 bucket lifecycle configuration, convertible between the JSON that
/// `aws s3api put-bucket-lifecycle-configuration --lifecycle-configuration file://policy.json` takes
/// (and `get-bucket-lifecycle-configuration` prints) and the XML that S3 speaks.
///
/// Supported rule members: `ID`, `Status`, `Filter` (`Prefix`, `Tag`, `ObjectSizeGreaterThan`, `ObjectSizeLessThan`,
/// `And`), the legacy rule-level `Prefix`, `Transitions` (`Days` or `Date`, `StorageClass`), `Expiration` (`Days`,
/// `Date` or `ExpiredObjectDeleteMarker`), `NoncurrentVersionTransitions`, `NoncurrentVersionExpiration`
/// (`NoncurrentDays`, `NewerNoncurrentVersions`) and `AbortIncompleteMultipartUpload` (`DaysAfterInitiation`).
/// Unknown members are refused rather than silently dropped.
public struct S3LifecycleConfiguration: Sendable, Equatable {
    /// A key/value object tag.
    public struct Tag: Sendable, Equatable {
        /// The tag key.
        public var key: String
        /// The tag value.
        public var value: String
        /// Creates a tag.
        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }
    }

    /// Which objects a rule applies to; several conditions are combined with `And`.
    public struct Filter: Sendable, Equatable {
        /// Only keys starting with this.
        public var prefix: String?
        /// Only objects carrying all these tags.
        public var tags: [Tag]
        /// Only objects larger than this many bytes.
        public var objectSizeGreaterThan: Int64?
        /// Only objects smaller than this many bytes.
        public var objectSizeLessThan: Int64?
        /// Creates a filter; an empty one matches every object.
        public init(prefix: String? = nil, tags: [Tag] = [], objectSizeGreaterThan: Int64? = nil, objectSizeLessThan: Int64? = nil) {
            self.prefix = prefix
            self.tags = tags
            self.objectSizeGreaterThan = objectSizeGreaterThan
            self.objectSizeLessThan = objectSizeLessThan
        }
        var conditionCount: Int {
            (prefix == nil ? 0 : 1) + tags.count + (objectSizeGreaterThan == nil ? 0 : 1) + (objectSizeLessThan == nil ? 0 : 1)
        }
    }

    /// A move to another storage class after a number of days or on a date.
    public struct Transition: Sendable, Equatable {
        /// Days after creation (or use `date`).
        public var days: Int?
        /// An ISO 8601 date, e.g. `2030-01-01T00:00:00Z` (or use `days`).
        public var date: String?
        /// The target class, e.g. `GLACIER`, `STANDARD_IA`, `DEEP_ARCHIVE`.
        public var storageClass: String
        /// Creates a transition.
        public init(days: Int? = nil, date: String? = nil, storageClass: String) {
            self.days = days
            self.date = date
            self.storageClass = storageClass
        }
    }

    /// When current versions expire.
    public struct Expiration: Sendable, Equatable {
        /// Days after creation.
        public var days: Int?
        /// An ISO 8601 date.
        public var date: String?
        /// Whether to remove delete markers that have no noncurrent versions left.
        public var expiredObjectDeleteMarker: Bool?
        /// Creates an expiration.
        public init(days: Int? = nil, date: String? = nil, expiredObjectDeleteMarker: Bool? = nil) {
            self.days = days
            self.date = date
            self.expiredObjectDeleteMarker = expiredObjectDeleteMarker
        }
    }

    /// A move of noncurrent versions to another storage class.
    public struct NoncurrentVersionTransition: Sendable, Equatable {
        /// Days after the version became noncurrent.
        public var noncurrentDays: Int?
        /// The target class.
        public var storageClass: String
        /// How many newer noncurrent versions to keep in place.
        public var newerNoncurrentVersions: Int?
        /// Creates a noncurrent version transition.
        public init(noncurrentDays: Int?, storageClass: String, newerNoncurrentVersions: Int? = nil) {
            self.noncurrentDays = noncurrentDays
            self.storageClass = storageClass
            self.newerNoncurrentVersions = newerNoncurrentVersions
        }
    }

    /// When noncurrent versions expire.
    public struct NoncurrentVersionExpiration: Sendable, Equatable {
        /// Days after the version became noncurrent.
        public var noncurrentDays: Int?
        /// How many newer noncurrent versions to keep.
        public var newerNoncurrentVersions: Int?
        /// Creates a noncurrent version expiration.
        public init(noncurrentDays: Int?, newerNoncurrentVersions: Int? = nil) {
            self.noncurrentDays = noncurrentDays
            self.newerNoncurrentVersions = newerNoncurrentVersions
        }
    }

    /// One lifecycle rule.
    public struct Rule: Sendable, Equatable {
        /// The rule's name, up to 255 characters.
        public var id: String?
        /// "Enabled" or "Disabled".
        public var status: String
        /// Which objects the rule applies to; an empty filter matches all.
        public var filter: Filter?
        /// The legacy rule-level prefix (instead of ``filter``).
        public var prefix: String?
        /// Moves of current versions to other storage classes.
        public var transitions: [Transition]
        /// When current versions expire.
        public var expiration: Expiration?
        /// Moves of noncurrent versions to other storage classes.
        public var noncurrentVersionTransitions: [NoncurrentVersionTransition]
        /// When noncurrent versions expire.
        public var noncurrentVersionExpiration: NoncurrentVersionExpiration?
        /// Days after which incomplete multipart uploads are aborted.
        public var abortIncompleteMultipartUploadDays: Int?

        /// Creates a rule.
        public init(
            id: String? = nil, status: String = "Enabled", filter: Filter? = Filter(), prefix: String? = nil, transitions: [Transition] = [],
            expiration: Expiration? = nil, noncurrentVersionTransitions: [NoncurrentVersionTransition] = [],
            noncurrentVersionExpiration: NoncurrentVersionExpiration? = nil, abortIncompleteMultipartUploadDays: Int? = nil
        ) {
            self.id = id
            self.status = status
            self.filter = filter
            self.prefix = prefix
            self.transitions = transitions
            self.expiration = expiration
            self.noncurrentVersionTransitions = noncurrentVersionTransitions
            self.noncurrentVersionExpiration = noncurrentVersionExpiration
            self.abortIncompleteMultipartUploadDays = abortIncompleteMultipartUploadDays
        }
    }

    /// The rules, in order.
    public var rules: [Rule]

    /// Creates a configuration.
    public init(rules: [Rule]) { self.rules = rules }
}

/// A lifecycle document that cannot be read; the description names the member at fault.
public struct S3LifecycleError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What is wrong, e.g. `Rules[0].Status: expected "Enabled" or "Disabled"`.
    public var reason: String
    public var description: String { "invalid lifecycle configuration: \(reason)" }
}

// MARK: - JSON

extension S3LifecycleConfiguration {
    /// Reads the JSON of `aws s3api put-bucket-lifecycle-configuration` (`{"Rules": [...]}`).
    public init(json: [UInt8]) throws {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(json))
        } catch {
            throw S3LifecycleError(reason: "not JSON (\(error.localizedDescription))")
        }
        let reader = JSONReader(path: "")
        let top = try reader.object(object, allowed: ["Rules"])
        let rules = try reader.array(top["Rules"], at: "Rules", required: true)
        self.rules = try rules.enumerated().map { index, value in try Self.rule(value, at: "Rules[\(index)]") }
        try validate()
    }

    private static func rule(_ value: Any, at path: String) throws -> Rule {
        let r = JSONReader(path: path)
        let o = try r.object(
            value,
            allowed: [
                "ID", "Status", "Filter", "Prefix", "Transitions", "Expiration", "NoncurrentVersionTransitions",
                "NoncurrentVersionExpiration", "AbortIncompleteMultipartUpload",
            ])
        var rule = Rule(filter: nil)
        rule.id = try r.string(o["ID"], at: "ID")
        guard let status = try r.string(o["Status"], at: "Status") else { throw r.error("Status", "missing") }
        rule.status = status
        rule.prefix = try r.string(o["Prefix"], at: "Prefix")
        if let f = o["Filter"] {
            let fr = r.nested("Filter")
            let fo = try fr.object(f, allowed: ["Prefix", "Tag", "ObjectSizeGreaterThan", "ObjectSizeLessThan", "And"])
            var filter = Filter(
                prefix: try fr.string(fo["Prefix"], at: "Prefix"),
                objectSizeGreaterThan: try fr.int(fo["ObjectSizeGreaterThan"], at: "ObjectSizeGreaterThan").map(Int64.init),
                objectSizeLessThan: try fr.int(fo["ObjectSizeLessThan"], at: "ObjectSizeLessThan").map(Int64.init))
            if let tag = fo["Tag"] { filter.tags.append(try Self.tag(tag, reader: fr.nested("Tag"))) }
            if let and = fo["And"] {
                let ar = fr.nested("And")
                let ao = try ar.object(and, allowed: ["Prefix", "Tags", "ObjectSizeGreaterThan", "ObjectSizeLessThan"])
                if let p = try ar.string(ao["Prefix"], at: "Prefix") { filter.prefix = p }
                for (i, t) in try ar.array(ao["Tags"], at: "Tags").enumerated() { filter.tags.append(try Self.tag(t, reader: ar.nested("Tags[\(i)]"))) }
                if let n = try ar.int(ao["ObjectSizeGreaterThan"], at: "ObjectSizeGreaterThan") { filter.objectSizeGreaterThan = Int64(n) }
                if let n = try ar.int(ao["ObjectSizeLessThan"], at: "ObjectSizeLessThan") { filter.objectSizeLessThan = Int64(n) }
            }
            rule.filter = filter
        }
        for (i, t) in try r.array(o["Transitions"], at: "Transitions").enumerated() {
            let tr = r.nested("Transitions[\(i)]")
            let to = try tr.object(t, allowed: ["Days", "Date", "StorageClass"])
            guard let storageClass = try tr.string(to["StorageClass"], at: "StorageClass") else { throw tr.error("StorageClass", "missing") }
            rule.transitions.append(Transition(days: try tr.int(to["Days"], at: "Days"), date: try tr.string(to["Date"], at: "Date"), storageClass: storageClass))
        }
        if let e = o["Expiration"] {
            let er = r.nested("Expiration")
            let eo = try er.object(e, allowed: ["Days", "Date", "ExpiredObjectDeleteMarker"])
            rule.expiration = Expiration(
                days: try er.int(eo["Days"], at: "Days"), date: try er.string(eo["Date"], at: "Date"),
                expiredObjectDeleteMarker: try er.bool(eo["ExpiredObjectDeleteMarker"], at: "ExpiredObjectDeleteMarker"))
        }
        for (i, t) in try r.array(o["NoncurrentVersionTransitions"], at: "NoncurrentVersionTransitions").enumerated() {
            let tr = r.nested("NoncurrentVersionTransitions[\(i)]")
            let to = try tr.object(t, allowed: ["NoncurrentDays", "StorageClass", "NewerNoncurrentVersions"])
            guard let storageClass = try tr.string(to["StorageClass"], at: "StorageClass") else { throw tr.error("StorageClass", "missing") }
            rule.noncurrentVersionTransitions.append(
                NoncurrentVersionTransition(
                    noncurrentDays: try tr.int(to["NoncurrentDays"], at: "NoncurrentDays"), storageClass: storageClass,
                    newerNoncurrentVersions: try tr.int(to["NewerNoncurrentVersions"], at: "NewerNoncurrentVersions")))
        }
        if let n = o["NoncurrentVersionExpiration"] {
            let nr = r.nested("NoncurrentVersionExpiration")
            let no = try nr.object(n, allowed: ["NoncurrentDays", "NewerNoncurrentVersions"])
            rule.noncurrentVersionExpiration = NoncurrentVersionExpiration(
                noncurrentDays: try nr.int(no["NoncurrentDays"], at: "NoncurrentDays"),
                newerNoncurrentVersions: try nr.int(no["NewerNoncurrentVersions"], at: "NewerNoncurrentVersions"))
        }
        if let a = o["AbortIncompleteMultipartUpload"] {
            let ar = r.nested("AbortIncompleteMultipartUpload")
            let ao = try ar.object(a, allowed: ["DaysAfterInitiation"])
            rule.abortIncompleteMultipartUploadDays = try ar.int(ao["DaysAfterInitiation"], at: "DaysAfterInitiation")
        }
        return rule
    }

    private static func tag(_ value: Any, reader: JSONReader) throws -> Tag {
        let o = try reader.object(value, allowed: ["Key", "Value"])
        guard let key = try reader.string(o["Key"], at: "Key") else { throw reader.error("Key", "missing") }
        return Tag(key: key, value: try reader.string(o["Value"], at: "Value") ?? "")
    }

    /// Checks what S3 would refuse anyway, with clearer messages.
    func validate() throws {
        for (index, rule) in rules.enumerated() {
            let path = "Rules[\(index)]"
            guard rule.status == "Enabled" || rule.status == "Disabled" else {
                throw S3LifecycleError(reason: "\(path).Status: expected \"Enabled\" or \"Disabled\", got \"\(rule.status)\"")
            }
            if rule.filter != nil && rule.prefix != nil {
                throw S3LifecycleError(reason: "\(path): give either Filter or Prefix, not both")
            }
            if rule.transitions.isEmpty && rule.expiration == nil && rule.noncurrentVersionTransitions.isEmpty
                && rule.noncurrentVersionExpiration == nil && rule.abortIncompleteMultipartUploadDays == nil
            {
                throw S3LifecycleError(reason: "\(path): a rule needs at least one action (Transitions, Expiration, NoncurrentVersion…, AbortIncompleteMultipartUpload)")
            }
        }
    }

    /// The JSON that `aws s3api get-bucket-lifecycle-configuration` prints (and `put-…` takes), 4-space indented.
    public func json() -> [UInt8] {
        var rulesJSON: [OrderedJSON] = []
        for rule in rules {
            var o: [(String, OrderedJSON)] = []
            if let e = rule.expiration {
                var eo: [(String, OrderedJSON)] = []
                if let d = e.date { eo.append(("Date", .string(d))) }
                if let d = e.days { eo.append(("Days", .int(d))) }
                if let m = e.expiredObjectDeleteMarker { eo.append(("ExpiredObjectDeleteMarker", .bool(m))) }
                o.append(("Expiration", .object(eo)))
            }
            if let id = rule.id { o.append(("ID", .string(id))) }
            if let p = rule.prefix { o.append(("Prefix", .string(p))) }
            if let f = rule.filter {
                var fo: [(String, OrderedJSON)] = []
                if f.conditionCount > 1 {
                    var ao: [(String, OrderedJSON)] = []
                    if let p = f.prefix { ao.append(("Prefix", .string(p))) }
                    if !f.tags.isEmpty { ao.append(("Tags", .array(f.tags.map { .object([("Key", .string($0.key)), ("Value", .string($0.value))]) }))) }
                    if let n = f.objectSizeGreaterThan { ao.append(("ObjectSizeGreaterThan", .int(Int(n)))) }
                    if let n = f.objectSizeLessThan { ao.append(("ObjectSizeLessThan", .int(Int(n)))) }
                    fo.append(("And", .object(ao)))
                } else {
                    if let p = f.prefix { fo.append(("Prefix", .string(p))) }
                    if let t = f.tags.first { fo.append(("Tag", .object([("Key", .string(t.key)), ("Value", .string(t.value))]))) }
                    if let n = f.objectSizeGreaterThan { fo.append(("ObjectSizeGreaterThan", .int(Int(n)))) }
                    if let n = f.objectSizeLessThan { fo.append(("ObjectSizeLessThan", .int(Int(n)))) }
                }
                o.append(("Filter", .object(fo)))
            }
            o.append(("Status", .string(rule.status)))
            if !rule.transitions.isEmpty {
                o.append(
                    ("Transitions", .array(rule.transitions.map { t in
                        var to: [(String, OrderedJSON)] = []
                        if let d = t.date { to.append(("Date", .string(d))) }
                        if let d = t.days { to.append(("Days", .int(d))) }
                        to.append(("StorageClass", .string(t.storageClass)))
                        return .object(to)
                    })))
            }
            if !rule.noncurrentVersionTransitions.isEmpty {
                o.append(
                    ("NoncurrentVersionTransitions", .array(rule.noncurrentVersionTransitions.map { t in
                        var to: [(String, OrderedJSON)] = []
                        if let d = t.noncurrentDays { to.append(("NoncurrentDays", .int(d))) }
                        to.append(("StorageClass", .string(t.storageClass)))
                        if let n = t.newerNoncurrentVersions { to.append(("NewerNoncurrentVersions", .int(n))) }
                        return .object(to)
                    })))
            }
            if let n = rule.noncurrentVersionExpiration {
                var no: [(String, OrderedJSON)] = []
                if let d = n.noncurrentDays { no.append(("NoncurrentDays", .int(d))) }
                if let v = n.newerNoncurrentVersions { no.append(("NewerNoncurrentVersions", .int(v))) }
                o.append(("NoncurrentVersionExpiration", .object(no)))
            }
            if let d = rule.abortIncompleteMultipartUploadDays {
                o.append(("AbortIncompleteMultipartUpload", .object([("DaysAfterInitiation", .int(d))])))
            }
            rulesJSON.append(.object(o))
        }
        var text = ""
        OrderedJSON.object([("Rules", .array(rulesJSON))]).write(to: &text, indent: 0)
        return Array((text + "\n").utf8)
    }
}

// MARK: - XML

extension S3LifecycleConfiguration {
    /// The `<LifecycleConfiguration>` document S3 expects in PutBucketLifecycleConfiguration.
    public func xml() -> [UInt8] {
        var x = XMLWriter()
        x.open("LifecycleConfiguration", namespace: s3XMLNamespace)
        for rule in rules {
            x.open("Rule")
            if let e = rule.expiration {
                x.open("Expiration")
                if let d = e.date { x.element("Date", d) }
                if let d = e.days { x.element("Days", String(d)) }
                if let m = e.expiredObjectDeleteMarker { x.element("ExpiredObjectDeleteMarker", m ? "true" : "false") }
                x.close("Expiration")
            }
            if let id = rule.id { x.element("ID", id) }
            if let p = rule.prefix { x.element("Prefix", p) }
            if let f = rule.filter {
                x.open("Filter")
                func conditions() {
                    if let p = f.prefix { x.element("Prefix", p) }
                    for t in f.tags {
                        x.open("Tag")
                        x.element("Key", t.key)
                        x.element("Value", t.value)
                        x.close("Tag")
                    }
                    if let n = f.objectSizeGreaterThan { x.element("ObjectSizeGreaterThan", String(n)) }
                    if let n = f.objectSizeLessThan { x.element("ObjectSizeLessThan", String(n)) }
                }
                if f.conditionCount > 1 {
                    x.open("And")
                    conditions()
                    x.close("And")
                } else {
                    conditions()
                }
                x.close("Filter")
            }
            x.element("Status", rule.status)
            for t in rule.transitions {
                x.open("Transition")
                if let d = t.date { x.element("Date", d) }
                if let d = t.days { x.element("Days", String(d)) }
                x.element("StorageClass", t.storageClass)
                x.close("Transition")
            }
            for t in rule.noncurrentVersionTransitions {
                x.open("NoncurrentVersionTransition")
                if let d = t.noncurrentDays { x.element("NoncurrentDays", String(d)) }
                x.element("StorageClass", t.storageClass)
                if let n = t.newerNoncurrentVersions { x.element("NewerNoncurrentVersions", String(n)) }
                x.close("NoncurrentVersionTransition")
            }
            if let n = rule.noncurrentVersionExpiration {
                x.open("NoncurrentVersionExpiration")
                if let d = n.noncurrentDays { x.element("NoncurrentDays", String(d)) }
                if let v = n.newerNoncurrentVersions { x.element("NewerNoncurrentVersions", String(v)) }
                x.close("NoncurrentVersionExpiration")
            }
            if let d = rule.abortIncompleteMultipartUploadDays {
                x.open("AbortIncompleteMultipartUpload")
                x.element("DaysAfterInitiation", String(d))
                x.close("AbortIncompleteMultipartUpload")
            }
            x.close("Rule")
        }
        x.close("LifecycleConfiguration")
        return x.bytes
    }

    /// Reads a `<LifecycleConfiguration>` document as S3 returns it.
    public init(xml: [UInt8]) throws {
        let root: XMLTree
        do {
            root = try XMLTree.parse(xml)
        } catch {
            throw S3LifecycleError(reason: "\(error)")
        }
        guard root.name == "LifecycleConfiguration" else {
            throw S3LifecycleError(reason: "expected <LifecycleConfiguration>, got <\(root.name)>")
        }
        func int(_ node: XMLTree, _ name: String) -> Int? { node.int(name) }
        self.rules = root.children("Rule").map { r in
            var rule = Rule(filter: nil)
            rule.id = r.string("ID")
            rule.status = r.string("Status")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            rule.prefix = r.string("Prefix")
            if let f = r.child("Filter") {
                let conditions = f.child("And") ?? f
                rule.filter = Filter(
                    prefix: conditions.string("Prefix"),
                    tags: conditions.children("Tag").map { Tag(key: $0.string("Key") ?? "", value: $0.string("Value") ?? "") },
                    objectSizeGreaterThan: conditions.string("ObjectSizeGreaterThan").flatMap { Int64($0) },
                    objectSizeLessThan: conditions.string("ObjectSizeLessThan").flatMap { Int64($0) })
            }
            rule.transitions = r.children("Transition").map {
                Transition(days: int($0, "Days"), date: $0.string("Date"), storageClass: $0.string("StorageClass") ?? "")
            }
            if let e = r.child("Expiration") {
                rule.expiration = Expiration(days: int(e, "Days"), date: e.string("Date"), expiredObjectDeleteMarker: e.bool("ExpiredObjectDeleteMarker"))
            }
            rule.noncurrentVersionTransitions = r.children("NoncurrentVersionTransition").map {
                NoncurrentVersionTransition(
                    noncurrentDays: int($0, "NoncurrentDays"), storageClass: $0.string("StorageClass") ?? "",
                    newerNoncurrentVersions: int($0, "NewerNoncurrentVersions"))
            }
            if let n = r.child("NoncurrentVersionExpiration") {
                rule.noncurrentVersionExpiration = NoncurrentVersionExpiration(
                    noncurrentDays: int(n, "NoncurrentDays"), newerNoncurrentVersions: int(n, "NewerNoncurrentVersions"))
            }
            if let a = r.child("AbortIncompleteMultipartUpload") { rule.abortIncompleteMultipartUploadDays = int(a, "DaysAfterInitiation") }
            return rule
        }
    }
}

// MARK: - Client

extension S3Client {
    /// Replaces the bucket's lifecycle rules (PutBucketLifecycleConfiguration, with `Content-MD5`).
    public func putBucketLifecycleConfiguration(bucket: String, configuration: S3LifecycleConfiguration) async throws {
        do {
            try configuration.validate()
        } catch let error as S3LifecycleError {
            throw AWSError.invalidRequest(.s3, operation: "PutBucketLifecycleConfiguration", reason: error.description, resource: AWSResource(bucket: bucket))
        }
        try await putBucketLifecycleConfiguration(bucket: bucket, xml: configuration.xml())
    }

    /// Replaces the bucket's lifecycle rules with a ready `<LifecycleConfiguration>` document.
    public func putBucketLifecycleConfiguration(bucket: String, xml: [UInt8]) async throws {
        _ = try await send(
            "PutBucketLifecycleConfiguration", method: "PUT", bucket: bucket, query: [("lifecycle", nil)],
            headers: [("Content-Type", "application/xml"), ("Content-MD5", Self.md5Base64(xml))], body: xml)
    }

    /// The bucket's lifecycle rules; nil when it has none.
    public func getBucketLifecycleConfiguration(bucket: String) async throws -> S3LifecycleConfiguration? {
        let response: HTTPResponse
        do {
            response = try await send("GetBucketLifecycleConfiguration", method: "GET", bucket: bucket, query: [("lifecycle", nil)])
        } catch let error as AWSError where error.code == "NoSuchLifecycleConfiguration" {
            return nil
        }
        do {
            return try S3LifecycleConfiguration(xml: response.body)
        } catch {
            throw AWSError.invalidResponse(.s3, operation: "GetBucketLifecycleConfiguration", reason: "\(error)", resource: AWSResource(bucket: bucket))
        }
    }

    /// Removes all lifecycle rules of the bucket.
    public func deleteBucketLifecycle(bucket: String) async throws {
        _ = try await send("DeleteBucketLifecycle", method: "DELETE", bucket: bucket, query: [("lifecycle", nil)])
    }
}

// MARK: - Helpers

/// Reads loosely typed JSON (from JSONSerialization) with errors naming the member at fault.
private struct JSONReader {
    var path: String

    func nested(_ name: String) -> JSONReader { JSONReader(path: path.isEmpty ? name : "\(path).\(name)") }

    func error(_ name: String, _ problem: String) -> S3LifecycleError {
        S3LifecycleError(reason: "\(path.isEmpty ? name : "\(path).\(name)"): \(problem)")
    }

    func object(_ value: Any?, allowed: Set<String>) throws -> [String: Any] {
        guard let o = value as? [String: Any] else { throw S3LifecycleError(reason: "\(path.isEmpty ? "document" : path): expected an object") }
        if let unknown = o.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw error(unknown, "unknown or unsupported member (allowed: \(allowed.sorted().joined(separator: ", ")))")
        }
        return o
    }

    func array(_ value: Any?, at name: String, required: Bool = false) throws -> [Any] {
        guard let value else {
            if required { throw error(name, "missing") }
            return []
        }
        guard let a = value as? [Any] else { throw error(name, "expected an array") }
        return a
    }

    func string(_ value: Any?, at name: String) throws -> String? {
        guard let value else { return nil }
        guard let s = value as? String else { throw error(name, "expected a string") }
        return s
    }

    func int(_ value: Any?, at name: String) throws -> Int? {
        guard let value else { return nil }
        if let n = value as? NSNumber, !(value is Bool), n.doubleValue == Double(n.intValue) { return n.intValue }
        if let n = value as? Int { return n }
        throw error(name, "expected a whole number")
    }

    func bool(_ value: Any?, at name: String) throws -> Bool? {
        guard let value else { return nil }
        guard let b = value as? Bool else { throw error(name, "expected true or false") }
        return b
    }
}

/// JSON with members in a chosen order, printed like the AWS CLI (4-space indent).
private indirect enum OrderedJSON {
    case object([(String, OrderedJSON)])
    case array([OrderedJSON])
    case string(String)
    case int(Int)
    case bool(Bool)

    func write(to out: inout String, indent: Int) {
        let pad = String(repeating: " ", count: indent + 4)
        let end = String(repeating: " ", count: indent)
        switch self {
        case .object(let members):
            if members.isEmpty { out += "{}"; return }
            out += "{\n"
            for (i, (key, value)) in members.enumerated() {
                out += pad + Self.quoted(key) + ": "
                value.write(to: &out, indent: indent + 4)
                out += i == members.count - 1 ? "\n" : ",\n"
            }
            out += end + "}"
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += pad
                item.write(to: &out, indent: indent + 4)
                out += i == items.count - 1 ? "\n" : ",\n"
            }
            out += end + "]"
        case .string(let s): out += Self.quoted(s)
        case .int(let n): out += String(n)
        case .bool(let b): out += b ? "true" : "false"
        }
    }

    static func quoted(_ s: String) -> String {
        var out = ""
        writeJSONString(s, to: &out)
        return out
    }
}
