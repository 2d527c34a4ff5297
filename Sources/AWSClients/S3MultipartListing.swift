import Foundation
import Logging

/// A part already uploaded to a multipart upload, as ListParts reports it.
public struct S3UploadedPart: Sendable, Equatable {
    /// The part number, 1 … 10000.
    public var partNumber: Int
    /// The part's entity tag (with its quotes).
    public var etag: String
    /// The part's size in bytes.
    public var size: Int64
    /// When the part was uploaded.
    public var lastModified: Date?

    /// The part as ``S3Client/completeMultipartUpload(bucket:key:uploadID:parts:)`` takes it.
    public var completed: S3CompletedPart { S3CompletedPart(partNumber: partNumber, etag: etag) }
}

/// One page of ListParts.
public struct S3ListPartsPage: Sendable, Equatable {
    /// The parts of this page, by part number.
    public var parts: [S3UploadedPart]
    /// Whether more pages follow.
    public var isTruncated: Bool
    /// The part number marker of the next page; nil on the last page.
    public var nextPartNumberMarker: Int?
    /// The storage class the object will have.
    public var storageClass: String?
}

/// One page of ListMultipartUploads.
public struct S3ListMultipartUploadsPage: Sendable, Equatable {
    /// The uploads in progress, by key, then by start time.
    public var uploads: [S3MultipartUpload]
    /// The common prefixes when a delimiter was given.
    public var commonPrefixes: [String]
    /// Whether more pages follow.
    public var isTruncated: Bool
    /// The key marker of the next page; nil on the last page.
    public var nextKeyMarker: String?
    /// The upload ID marker of the next page.
    public var nextUploadIDMarker: String?
}

extension S3Client {
    /// Lists one page of the multipart uploads in progress (ListMultipartUploads), by key.
    ///
    /// - Parameters:
    ///   - prefix: only keys starting with this.
    ///   - keyMarker: the previous page's ``S3ListMultipartUploadsPage/nextKeyMarker``.
    ///   - uploadIDMarker: the previous page's ``S3ListMultipartUploadsPage/nextUploadIDMarker`` (only with `keyMarker`).
    ///   - maxUploads: the page size (S3 caps it at 1000).
    public func listMultipartUploadsPage(
        bucket: String, prefix: String? = nil, delimiter: String? = nil, keyMarker: String? = nil, uploadIDMarker: String? = nil,
        maxUploads: Int? = nil
    ) async throws -> S3ListMultipartUploadsPage {
        var query: [(String, String?)] = [("uploads", nil), ("encoding-type", "url")]
        if let prefix { query.append(("prefix", prefix)) }
        if let delimiter { query.append(("delimiter", delimiter)) }
        if let keyMarker { query.append(("key-marker", keyMarker)) }
        if let uploadIDMarker, keyMarker != nil { query.append(("upload-id-marker", uploadIDMarker)) }
        if let maxUploads { query.append(("max-uploads", String(maxUploads))) }
        let response = try await send("ListMultipartUploads", method: "GET", bucket: bucket, query: query)
        return try parse("ListMultipartUploads", bucket: bucket, response) { try S3ResponseParser.multipartUploadsPage($0) }
    }

    /// Lists one page of the parts uploaded so far to a multipart upload (ListParts).
    ///
    /// - Parameters:
    ///   - partNumberMarker: the previous page's ``S3ListPartsPage/nextPartNumberMarker``.
    ///   - maxParts: the page size (S3 caps it at 1000).
    /// - Throws: ``AWSError`` of kind ``AWSError/Kind/noSuchUpload`` when the upload was completed, aborted, or never existed.
    public func listParts(
        bucket: String, key: String, uploadID: String, partNumberMarker: Int? = nil, maxParts: Int? = nil
    ) async throws -> S3ListPartsPage {
        var query: [(String, String?)] = [("uploadId", uploadID)]
        if let partNumberMarker { query.append(("part-number-marker", String(partNumberMarker))) }
        if let maxParts { query.append(("max-parts", String(maxParts))) }
        let response = try await send(
            "ListParts", method: "GET", bucket: bucket, key: key, query: query, metadata: ["s3.upload_id": "\(uploadID)"])
        return try parse("ListParts", bucket: bucket, key: key, response) { try S3ResponseParser.listPartsPage($0) }
    }

    /// Every part uploaded so far to a multipart upload, paging through ListParts.
    /// - Throws: ``AWSError`` of kind ``AWSError/Kind/noSuchUpload`` when the upload does not exist.
    public func listAllParts(bucket: String, key: String, uploadID: String, pageSize: Int? = nil) async throws -> [S3UploadedPart] {
        var all: [S3UploadedPart] = []
        var marker: Int?
        while true {
            let page = try await listParts(bucket: bucket, key: key, uploadID: uploadID, partNumberMarker: marker, maxParts: pageSize)
            all += page.parts
            guard page.isTruncated, let next = page.nextPartNumberMarker else { return all }
            guard next != marker else {
                throw AWSError.invalidResponse(
                    .s3, operation: "ListParts", reason: "the next page starts where this one did (part \(next))",
                    resource: AWSResource(bucket: bucket, key: key))
            }
            marker = next
        }
    }
}
