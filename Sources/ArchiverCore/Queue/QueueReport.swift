import Foundation
import JSONToolkit

/// `queue report`: one CSV line per finished entry in the columns of an S3 Batch Operations completion report
/// (`Report_CSV_20180820`: Bucket, Key, VersionId, TaskStatus, ErrorCode, HTTPStatusCode, ResultMessage), without a
/// header line as S3 writes them, so that what already reads those reports reads these.
///
/// A completed entry is `succeeded` (HTTP status 200 for an S3 root), a parked one `failed` with its last error's
/// code, HTTP status and message. For a folder root the bucket is empty and the key is the file's or folder's path.
/// Entries still waiting or running are not finished and are left out.
public enum QueueReport {
    /// The states a report covers.
    public static func states(failedOnly: Bool) -> [QueueState] { failedOnly ? [.parked] : [.completed, .parked] }

    /// The CSV line of one entry (no line break).
    public static func line(_ entry: QueueEntry) -> String {
        var bucket = ""
        var key = entry.deletionTarget?.path ?? ""
        let isS3: Bool
        switch entry.rootLocation {
        case .s3(let name, let prefix)?:
            bucket = name
            key = prefix + key
            isS3 = true
        case .folder(let path)?:
            key = key.isEmpty ? "" : path + "/" + key
            isS3 = false
        case nil:
            isS3 = false
        }
        let succeeded = entry.state == .completed
        let status = succeeded ? "succeeded" : "failed"
        let code = succeeded ? "" : (entry.lastErrorCode ?? "")
        let http = succeeded ? (isS3 ? "200" : "") : (entry.errors.last?.httpStatus.map(String.init) ?? "")
        let message: String
        if succeeded {
            message = "\(entry.action) completed: \(entry.outcome?.serialized ?? "{}")"
        } else {
            message = entry.lastError ?? ""
        }
        return [bucket, key, "", status, code, http, message].map(csvField).joined(separator: ",")
    }

    /// RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes doubled.
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
