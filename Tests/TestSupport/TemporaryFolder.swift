import Foundation

/// A fresh folder under the system's temporary folder, removed by `remove()`.
public struct TemporaryFolder: Sendable {
    public let path: String

    public init(_ label: String = "test") {
        let base = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        path = "\(base)/archiver-\(label)-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// `path/relative`.
    public func callAsFunction(_ relative: String) -> String { path + "/" + relative }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// Every regular file below the folder, as paths relative to it, sorted.
    public func files(under relative: String = "") -> [String] {
        let root = relative.isEmpty ? path : path + "/" + relative
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        var result: [String] = []
        while let name = walker.nextObject() as? String {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + name, isDirectory: &isFolder), !isFolder.boolValue {
                result.append(name)
            }
        }
        return result.sorted()
    }
}

/// Where the package's files are, found from this source file.
public enum PackagePaths {
    /// The package root.
    public static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// `fixtures/<name>`.
    public static func fixture(_ name: String) -> String { root + "/fixtures/" + name }

    /// The JSON policies in lifecycle/.
    public static func lifecycleExampleFiles() throws -> [String] {
        let folder = root + "/lifecycle"
        return try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".json") }.sorted().map { folder + "/" + $0 }
    }
}
