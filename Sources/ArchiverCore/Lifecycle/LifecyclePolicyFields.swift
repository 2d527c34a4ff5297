import Foundation

/// The fields S3 defines at each place of a policy (`[]` stands for every item of a list), from the model's own
/// coding keys. A field that is not one of them is refused before the policy is decoded: a typo such as
/// `"Expiraton"` would otherwise be passed over, and the rule would silently do less than its author meant.
private let definedFields: [String: [String]] = [
    "": fields(LifecyclePolicy.CodingKeys.self),
    "Rules[]": fields(LifecycleRule.CodingKeys.self),
    "Rules[].Filter": fields(LifecycleFilter.CodingKeys.self),
    "Rules[].Filter.Tag": fields(LifecycleTag.CodingKeys.self),
    "Rules[].Filter.And": fields(LifecycleFilterAnd.CodingKeys.self),
    "Rules[].Filter.And.Tags[]": fields(LifecycleTag.CodingKeys.self),
    "Rules[].Transitions[]": fields(LifecycleTransition.CodingKeys.self),
    "Rules[].Expiration": fields(LifecycleExpiration.CodingKeys.self),
    "Rules[].NoncurrentVersionTransitions[]": fields(NoncurrentVersionTransition.CodingKeys.self),
    "Rules[].NoncurrentVersionExpiration": fields(NoncurrentVersionExpiration.CodingKeys.self),
    "Rules[].AbortIncompleteMultipartUpload": fields(AbortIncompleteMultipartUpload.CodingKeys.self),
]

private func fields<Keys: CodingKey & CaseIterable>(_ keys: Keys.Type) -> [String] { keys.allCases.map(\.stringValue) }

extension LifecyclePolicy {
    /// Throws for the first field S3 does not define here, naming it, the fields there are, and the field meant
    /// when only the case differs. Reads the document as the policy's decoder does (so whatever encoding it takes).
    static func rejectUndefinedFields(_ bytes: [UInt8]) throws {
        try JSONDecoder().decode(FieldNames.self, from: Data(bytes)).reject(at: "", in: [])
    }
}

/// Only the names of a JSON document's object members, to check them against `definedFields`.
private indirect enum FieldNames: Decodable {
    case object([(String, FieldNames)])
    case array([FieldNames])
    case other

    init(from decoder: any Decoder) throws {
        if let object = try? decoder.container(keyedBy: AnyCodingKey.self) {
            self = .object(try object.allKeys.map { ($0.stringValue, try object.decode(FieldNames.self, forKey: $0)) })
        } else if var array = try? decoder.unkeyedContainer() {
            var items: [FieldNames] = []
            while !array.isAtEnd { items.append(try array.decode(FieldNames.self)) }
            self = .array(items)
        } else {
            self = .other
        }
    }

    /// `place` is the key of `definedFields`; `path` where in the policy this is.
    func reject(at place: String, in path: [any CodingKey]) throws {
        switch self {
        case .object(let members):
            guard let defined = definedFields[place] else { return }
            // The object's own fields first, then what is inside them.
            if let (name, _) = members.first(where: { !defined.contains($0.0) }) {
                var hint = ""
                if let close = defined.first(where: { $0.lowercased() == name.lowercased() }) {
                    hint = " (field names are case-sensitive: write \"\(close)\")"
                }
                throw LifecyclePolicyError.invalid(
                    at: policyPath(path + [AnyCodingKey(stringValue: name)]), "unknown field \"\(name)\"\(hint)",
                    fix: "use only the fields S3 defines here: \(defined.joined(separator: ", "))")
            }
            for (name, value) in members {
                try value.reject(at: place.isEmpty ? name : place + "." + name, in: path + [AnyCodingKey(stringValue: name)])
            }
        case .array(let items):
            for (index, item) in items.enumerated() { try item.reject(at: place + "[]", in: path + [AnyCodingKey(intValue: index)]) }
        case .other:
            return
        }
    }
}

/// Any JSON object key or list index.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}
