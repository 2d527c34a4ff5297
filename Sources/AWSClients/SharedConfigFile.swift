import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A parsed AWS shared configuration file: `~/.aws/config` or `~/.aws/credentials`.
///
/// The format is the INI dialect the AWS CLI and SDKs read:
/// - `[section]` headers; in the config file, named profiles are `[profile name]` (the default
///   profile may be `[default]` or `[profile default]`), and `[services name]` holds per-service settings;
///   in the credentials file, profiles are plain `[name]`.
/// - `key = value` lines (`:` is accepted too); lines starting with `#` or `;` are comments.
/// - A key with an empty value followed by indented `key = value` lines is a nested section, e.g.
///   ```
///   s3 =
///     addressing_style = path
///   ```
///   which is stored here as the key `s3.addressing_style`.
///
/// Keys are lower-cased; values are trimmed. Later duplicates win.
public struct SharedConfigFile: Sendable, Equatable {
    /// The kind of shared file, which decides how profile sections are named.
    public enum Kind: Sendable, Equatable {
        /// `~/.aws/config`: `[profile name]` and `[default]`.
        case config
        /// `~/.aws/credentials`: `[name]`.
        case credentials
    }

    /// Which file this is.
    public let kind: Kind
    /// Sections by their header text with runs of spaces collapsed, e.g. `"default"`, `"profile dev"`, `"services local"`.
    public private(set) var sections: [String: [String: String]]

    /// Parses the text of a shared file.
    public init(parsing text: String, kind: Kind) {
        self.kind = kind
        var sections: [String: [String: String]] = [:]
        var current: String?
        var lastKey: String?
        var nestedParent: String?
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
        for rawLine in lines {
            let line = String(rawLine)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
            let indented = line.first == " " || line.first == "\t"
            if !indented, trimmed.hasPrefix("["), trimmed.hasSuffix("]") {
                let name = trimmed.dropFirst().dropLast().split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
                current = name
                if sections[name] == nil { sections[name] = [:] }
                lastKey = nil
                nestedParent = nil
                continue
            }
            guard let section = current else { continue }  // keys before any section are ignored
            if indented, let parent = nestedParent {
                if let (k, v) = Self.keyValue(trimmed) { sections[section]?["\(parent).\(k)"] = v }
                continue
            }
            if indented, let key = lastKey {
                // A continuation line of a plain value.
                let old = sections[section]?[key] ?? ""
                sections[section]?[key] = old.isEmpty ? trimmed : old + "\n" + trimmed
                continue
            }
            guard let (k, v) = Self.keyValue(trimmed) else { continue }
            sections[section]?[k] = v
            lastKey = k
            nestedParent = v.isEmpty ? k : nil
        }
        self.sections = sections
    }

    /// Reads and parses the file at `path`; `nil` when there is no file there.
    public init?(contentsOfFile path: String, kind: Kind) throws {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        // Read through a file handle: `/dev/null` (a common way to say "no file") is not a regular file.
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw AWSSettingsError(.unreadableFile(path: path, reason: String(cString: strerror(errno))))
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.readToEnd() ?? Data()
        } catch {
            throw AWSSettingsError(.unreadableFile(path: path, reason: error.localizedDescription))
        }
        self.init(parsing: String(decoding: data, as: UTF8.self), kind: kind)
    }

    /// The settings of the named profile, or `nil` when the file has no such profile.
    public func profile(_ name: String) -> [String: String]? {
        switch kind {
        case .credentials:
            return sections[name]
        case .config:
            if let s = sections["profile \(name)"] { return s }
            if name == "default" { return sections["default"] }
            return nil
        }
    }

    /// The settings of a `[services name]` section of the config file.
    public func services(_ name: String) -> [String: String]? {
        kind == .config ? sections["services \(name)"] : nil
    }

    private static func keyValue(_ line: String) -> (String, String)? {
        guard let sep = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else { return nil }
        let key = line[..<sep].trimmingCharacters(in: .whitespaces).lowercased()
        let value = line[line.index(after: sep)...].trimmingCharacters(in: .whitespaces)
        return key.isEmpty ? nil : (key, value)
    }
}
