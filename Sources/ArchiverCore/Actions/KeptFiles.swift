/// Where `keep: true` files go in the archive: beside the deleted record's object, under a name that says where
/// each came from, so that `restore --with-files` can put them back.
///
///     2024/01/15/UPLOAD#7.103000.1100….manual.json.gz                       the record
///     2024/01/15/UPLOAD#7.103000.1100….manual.files/uploads/videos/7.mp4    a kept file: root 'uploads', key 'videos/7.mp4'
///
/// The kept names have five or more segments, so `ls`, `restore --prefix` and the archive's own listing of records
/// (four segments ending in `.json.gz`) never take them for records; `sync` copies them with their month. In the
/// path, `%` is written `%25` and a segment's leading `.` is written `%2E` (the archive's names never start a
/// segment with a dot); nothing else changes.
public enum KeptFiles {
    /// The folder of a record's kept files: its key with `.json.gz` replaced by `.files/`.
    public static func folder(record: String) -> String {
        let stem = record.hasSuffix(ArchiveKey.suffix) ? String(record.dropLast(ArchiveKey.suffix.count)) : record
        return stem + ".files/"
    }

    /// The archive key of a kept file, or why the file cannot be kept under a valid archive name (a segment over
    /// 255 bytes, a key over 1,024, a control character): such a file is never deleted.
    public static func key(record: String, root: String, path: String) -> Result<String, ActionFailure> {
        let encoded = path.split(separator: "/", omittingEmptySubsequences: false).map { segment -> String in
            var text = segment.replacingPercent
            if text.hasPrefix(".") { text = "%2E" + text.dropFirst() }
            return text
        }.joined(separator: "/")
        let key = folder(record: record) + root + "/" + encoded
        if let problem = validateArchiveKey(key) {
            return .failure(ActionFailure(
                code: "cannot-keep",
                message: "\(TargetCheck.quoted(path)) cannot be kept in the archive (\(problem)); it was not deleted. Delete it by hand, or turn keep off for this rule and retry",
                permanent: true))
        }
        return .success(key)
    }

    /// The root's name and the path of a kept file, from its key relative to the record's folder (`uploads/videos/7.mp4`).
    public static func origin(of relative: String) -> (root: String, path: String)? {
        guard let slash = relative.firstIndex(of: "/") else { return nil }
        let root = String(relative[..<slash])
        let encoded = relative[relative.index(after: slash)...]
        guard !root.isEmpty, !encoded.isEmpty else { return nil }
        var bytes: [UInt8] = []
        var utf8 = Array(encoded.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%"), utf8.count >= 2, let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return (root, String(decoding: bytes, as: UTF8.self))
    }
}

extension Substring {
    fileprivate var replacingPercent: String {
        var out = ""
        for character in self { out += character == "%" ? "%25" : String(character) }
        return out
    }
}

extension KeptFiles {
    /// The files kept for the record archived at `record`: each one's archive key, and the root's name and the path it
    /// came from.
    public static func list(record: String, in store: any ArchiveStore) async throws -> [(archiveKey: String, root: String, path: String)] {
        let folder = folder(record: record)
        var files: [(archiveKey: String, root: String, path: String)] = []
        for try await page in store.list(prefix: folder) {
            for object in page where object.key.hasPrefix(folder) {
                guard let origin = origin(of: String(object.key.dropFirst(folder.count))) else { continue }
                files.append((object.key, origin.root, origin.path))
            }
        }
        return files
    }
}
