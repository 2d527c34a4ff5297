import Foundation

/// Readers of the S3 documents of batch deletes, versions, copies and multipart listings.
extension S3ResponseParser {
    /// `<DeleteResult>`: each `<Deleted>` and `<Error>` entry (request ID and requested count are the caller's to fill in).
    static func deleteResult(_ root: XMLTree) throws -> S3DeleteObjectsResult {
        try expect(root, "DeleteResult")
        var result = S3DeleteObjectsResult(requested: 0, errors: [])
        for item in root.children {
            switch item.name {
            case "Deleted":
                result.deleted.append(
                    S3DeletedObject(
                        key: item.string("Key") ?? "", versionID: nonEmpty(item.string("VersionId")),
                        deleteMarker: item.bool("DeleteMarker") ?? false, deleteMarkerVersionID: nonEmpty(item.string("DeleteMarkerVersionId"))))
            case "Error":
                result.errors.append(
                    S3DeleteObjectError(
                        key: item.string("Key") ?? "", code: item.string("Code") ?? "", message: item.string("Message") ?? "",
                        versionID: nonEmpty(item.string("VersionId"))))
            default:
                continue
            }
        }
        return result
    }

    /// `<ListVersionsResult>`: versions and delete markers in document order (key order, newest version first).
    static func listVersionsPage(_ root: XMLTree) throws -> S3ListVersionsPage {
        try expect(root, "ListVersionsResult")
        let encoded = root.string("EncodingType")?.lowercased() == "url"
        func decoded(_ text: String) -> String { encoded ? urlDecoded(text) : text }
        var entries: [S3ObjectVersion] = []
        for item in root.children where item.name == "Version" || item.name == "DeleteMarker" {
            guard let key = item.string("Key") else { throw XMLTreeError(reason: "\(item.name) without Key") }
            let isMarker = item.name == "DeleteMarker"
            entries.append(
                S3ObjectVersion(
                    key: decoded(key), versionID: nonEmpty(item.string("VersionId")) ?? "null", isLatest: item.bool("IsLatest") ?? false,
                    isDeleteMarker: isMarker,
                    size: isMarker ? 0 : Int64(item.string("Size")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0,
                    etag: item.string("ETag"), lastModified: item.string("LastModified").flatMap(AWSDates.iso8601),
                    storageClass: isMarker ? nil : item.string("StorageClass")))
        }
        let prefixes = root.children("CommonPrefixes").compactMap { $0.string("Prefix").map(decoded) }
        let truncated = root.bool("IsTruncated") ?? false
        return S3ListVersionsPage(
            entries: entries, commonPrefixes: prefixes, isTruncated: truncated,
            nextKeyMarker: truncated ? nonEmpty(root.string("NextKeyMarker")).map(decoded) : nil,
            nextVersionIDMarker: truncated ? nonEmpty(root.string("NextVersionIdMarker")) : nil)
    }

    /// `<VersioningConfiguration>`: nil when versioning was never turned on.
    static func versioningStatus(_ root: XMLTree) throws -> S3VersioningStatus? {
        // S3 names the root VersioningConfiguration; some emulators say GetBucketVersioningResponse.
        try expect(root, "VersioningConfiguration", "GetBucketVersioningResponse")
        guard let status = nonEmpty(root.string("Status")?.trimmingCharacters(in: .whitespacesAndNewlines)) else { return nil }
        guard let known = S3VersioningStatus(rawValue: status) else { throw XMLTreeError(reason: "unknown versioning status '\(status)'") }
        return known
    }

    /// `<CopyObjectResult>` or `<CopyPartResult>`: the new ETag and its date.
    static func copyResult(_ root: XMLTree) throws -> (etag: String, lastModified: Date?) {
        try expect(root, "CopyObjectResult", "CopyPartResult")
        guard let etag = nonEmpty(root.string("ETag")) else { throw XMLTreeError(reason: "\(root.name) without ETag") }
        return (etag, root.string("LastModified").flatMap(AWSDates.iso8601))
    }

    /// `<ListPartsResult>`.
    static func listPartsPage(_ root: XMLTree) throws -> S3ListPartsPage {
        // S3 names the root ListPartsResult; some emulators say ListPartsResponse.
        try expect(root, "ListPartsResult", "ListPartsResponse")
        let parts = try root.children("Part").map { item -> S3UploadedPart in
            guard let number = item.int("PartNumber"), let etag = item.string("ETag") else {
                throw XMLTreeError(reason: "Part without PartNumber or ETag")
            }
            return S3UploadedPart(
                partNumber: number, etag: etag, size: Int64(item.string("Size")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0,
                lastModified: item.string("LastModified").flatMap(AWSDates.iso8601))
        }
        let truncated = root.bool("IsTruncated") ?? false
        return S3ListPartsPage(
            parts: parts, isTruncated: truncated, nextPartNumberMarker: truncated ? root.int("NextPartNumberMarker") : nil,
            storageClass: nonEmpty(root.string("StorageClass")))
    }

    /// `<ListMultipartUploadsResult>`.
    static func multipartUploadsPage(_ root: XMLTree) throws -> S3ListMultipartUploadsPage {
        try expect(root, "ListMultipartUploadsResult")
        let encoded = root.string("EncodingType")?.lowercased() == "url"
        func decoded(_ text: String) -> String { encoded ? urlDecoded(text) : text }
        let uploads = try root.children("Upload").map { item -> S3MultipartUpload in
            guard let key = item.string("Key"), let id = nonEmpty(item.string("UploadId")) else {
                throw XMLTreeError(reason: "Upload without Key or UploadId")
            }
            return S3MultipartUpload(
                key: decoded(key), uploadID: id, initiated: item.string("Initiated").flatMap(AWSDates.iso8601),
                storageClass: nonEmpty(item.string("StorageClass")))
        }
        let truncated = root.bool("IsTruncated") ?? false
        return S3ListMultipartUploadsPage(
            uploads: uploads, commonPrefixes: root.children("CommonPrefixes").compactMap { $0.string("Prefix").map(decoded) },
            isTruncated: truncated, nextKeyMarker: truncated ? nonEmpty(root.string("NextKeyMarker")).map(decoded) : nil,
            nextUploadIDMarker: truncated ? nonEmpty(root.string("NextUploadIdMarker")) : nil)
    }

    private static func nonEmpty(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return text
    }
}
