import JSONToolkit

/// `roots:` the only places deletion actions may touch, by name:
///
/// ```yaml
/// roots:
///   uploads: s3://user-content/uploads/
///   files: /srv/app/files/
/// ```
public struct RootsConfiguration: Sendable, Equatable {
    /// In the order written.
    public var roots: [NamedRoot]

    public init(_ roots: [NamedRoot] = []) { self.roots = roots }

    /// Reads the section (absent: no roots).
    public init(reading value: ConfigurationValue?) throws {
        roots = []
        guard let value else { return }
        let mapping = try value.mapping()
        for name in mapping.keys {
            guard let entry = mapping.value(name) else { throw mapping.invalid("root '\(name)' names no place; write s3://bucket/prefix/ or an absolute folder") }
            guard Self.isValidName(name) else {
                throw entry.invalid("'\(name)' is not a root name (letters, digits, '-' and '_', starting with a letter or digit)")
            }
            do {
                roots.append(NamedRoot(name: name, location: try RootLocation(try entry.nonEmptyString())))
            } catch let error as RootError {
                throw entry.invalid(error.description)
            }
        }
        for (index, root) in roots.enumerated() {
            for other in roots[..<index] where root.location.overlapsRoot(other.location) {
                throw mapping.invalid("roots '\(other.name)' (\(other.location)) and '\(root.name)' (\(root.location)) overlap; give each place one name")
            }
        }
        try mapping.finish(allow: mapping.keys)
    }

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.utf8.first, isASCIIAlphanumeric(first), name.utf8.count <= 64 else { return false }
        return name.utf8.allSatisfy { isASCIIAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }

    /// The root named `name`.
    public subscript(name: String) -> RootLocation? { roots.first { $0.name == name }?.location }

    public var names: [String] { roots.map(\.name) }

    /// What `config check` prints.
    public var described: JSONValue {
        .object(roots.map { ($0.name, .string($0.location.description)) })
    }
}

extension RootLocation {
    /// Whether two roots share anything.
    func overlapsRoot(_ other: RootLocation) -> Bool {
        switch (self, other) {
        case (.s3(let a, let p), .s3(let b, let q)): a == b && (p.hasPrefix(q) || q.hasPrefix(p))
        case (.folder(let a), .folder(let b)): (a + "/").hasPrefix(b + "/") || (b + "/").hasPrefix(a + "/")
        default: false
        }
    }
}
