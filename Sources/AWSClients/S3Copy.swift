import AWSSigV4
import Foundation
import Logging

/// What metadata a copy gets.
public enum S3MetadataDirective: Sendable, Equatable {
    /// The source's Content-Type, Content-Encoding and user metadata (`x-amz-metadata-directive: COPY`).
    case copy
    /// These instead (`REPLACE`); a nil content type is `application/octet-stream`.
    case replace(contentType: String?, contentEncoding: String?, metadata: [String: String])
}

/// The answer to a copy.
public struct S3CopyObjectResult: Sendable, Equatable {
    /// The entity tag of the new object (with its quotes).
    public var etag: String
    /// When the new object was written.
    public var lastModified: Date?
    /// The version ID of the new object, in a versioned bucket.
    public var versionID: String?
    /// The version of the source that was copied.
    public var sourceVersionID: String?
    /// The request ID of the CopyObject call; nil for a multipart copy.
    public var requestID: String?
}

extension S3Client {
    /// The largest source one CopyObject call copies: 5 GiB. Larger objects need ``copyObjectMultipart(sourceBucket:sourceKey:sourceVersionID:bucket:key:metadataDirective:storageClass:serverSideEncryption:partSize:concurrency:)``.
    public static let maximumCopyObjectSize: Int64 = 5 * 1024 * 1024 * 1024

    /// Copies an object inside S3, with one CopyObject call: the bytes never pass through this process.
    ///
    /// Copies sources up to 5 GiB (``maximumCopyObjectSize``); a larger source is refused by S3 with code `InvalidRequest`,
    /// and the error then says to use ``copyObjectMultipart(sourceBucket:sourceKey:sourceVersionID:bucket:key:metadataDirective:storageClass:serverSideEncryption:partSize:concurrency:)``.
    /// - Parameters:
    ///   - sourceVersionID: copy this version rather than the current one.
    ///   - storageClass: the copy's class; nil is STANDARD (the source's class is not carried over).
    /// - Throws: ``AWSError`` of kind ``AWSError/Kind/notFound`` when the source does not exist.
    @discardableResult
    public func copyObject(
        sourceBucket: String, sourceKey: String, sourceVersionID: String? = nil, bucket: String, key: String,
        metadataDirective: S3MetadataDirective = .copy, storageClass: S3StorageClass? = nil,
        serverSideEncryption: S3ServerSideEncryption? = nil
    ) async throws -> S3CopyObjectResult {
        let source = try copySource(sourceBucket, sourceKey, sourceVersionID, operation: "CopyObject", bucket: bucket, key: key)
        var headers: [(name: String, value: String)]
        switch metadataDirective {
        case .copy:
            headers = [("x-amz-metadata-directive", "COPY")]
            if let serverSideEncryption { headers += serverSideEncryption.headers }
            if let storageClass { headers.append(("x-amz-storage-class", try storageClass.headerValue("CopyObject", bucket: bucket, key: key))) }
        case .replace(let contentType, let contentEncoding, let metadata):
            headers = try objectHeaders(
                "CopyObject", bucket: bucket, key: key, contentType: contentType, metadata: metadata, contentEncoding: contentEncoding,
                serverSideEncryption: serverSideEncryption, storageClass: storageClass)
            headers.append(("x-amz-metadata-directive", "REPLACE"))
        }
        headers.append(("x-amz-copy-source", source))
        let response: HTTPResponse
        do {
            response = try await send(
                "CopyObject", method: "PUT", bucket: bucket, key: key, headers: headers,
                metadata: ["s3.source": "\(sourceBucket)/\(sourceKey)"], errorMayHideInSuccess: true)
        } catch let error as AWSError where error.code == "InvalidRequest" && (error.message ?? "").contains("maximum allowable size") {
            throw AWSError.service(
                .s3, operation: "CopyObject", status: error.statusCode ?? 400, code: error.code,
                message: "the source s3://\(sourceBucket)/\(sourceKey) is larger than 5 GiB, the most one CopyObject copies; use copyObjectMultipart (UploadPartCopy) (\(error.message ?? ""))",
                attempts: error.attempts, requestID: error.requestID, resource: error.resource)
        }
        let copied = try parse("CopyObject", bucket: bucket, key: key, response) { try S3ResponseParser.copyResult($0) }
        return S3CopyObjectResult(
            etag: copied.etag, lastModified: copied.lastModified, versionID: response.header("x-amz-version-id"),
            sourceVersionID: response.header("x-amz-copy-source-version-id"), requestID: Self.requestID(of: response))
    }

    /// Copies an object of any size inside S3 as a multipart upload whose parts are copied server-side (UploadPartCopy).
    ///
    /// Reads the source's size, type and metadata with HEAD; each part is copied only if the source still has the ETag
    /// HEAD saw (`x-amz-copy-source-if-match`), so a source rewritten meanwhile fails the copy instead of mixing versions.
    /// On any failure, or cancellation, the upload is aborted and the error rethrown. An empty source is copied with
    /// CopyObject.
    /// - Parameters:
    ///   - partSize: bytes per part, at least 5 MiB and at most 5 GiB; grown when the source would need more than 10,000 parts.
    ///   - concurrency: parts copied at once.
    @discardableResult
    public func copyObjectMultipart(
        sourceBucket: String, sourceKey: String, sourceVersionID: String? = nil, bucket: String, key: String,
        metadataDirective: S3MetadataDirective = .copy, storageClass: S3StorageClass? = nil,
        serverSideEncryption: S3ServerSideEncryption? = nil, partSize: Int64 = 512 * 1024 * 1024, concurrency: Int = 4
    ) async throws -> S3CopyObjectResult {
        let resource = AWSResource(bucket: bucket, key: key)
        guard partSize >= Int64(Self.minimumPartSize), partSize <= Self.maximumCopyObjectSize else {
            throw AWSError.invalidRequest(
                .s3, operation: "CopyObjectMultipart", reason: "part size \(partSize) is outside S3's 5 MiB to 5 GiB", resource: resource)
        }
        let source = try copySource(sourceBucket, sourceKey, sourceVersionID, operation: "UploadPartCopy", bucket: bucket, key: key)
        guard let head = try await headObject(bucket: sourceBucket, key: sourceKey, versionID: sourceVersionID) else {
            throw AWSError.service(
                .s3, operation: "HeadObject", status: 404, code: "NoSuchKey", message: nil,
                resource: AWSResource(bucket: sourceBucket, key: sourceKey))
        }
        if head.size == 0 {
            return try await copyObject(
                sourceBucket: sourceBucket, sourceKey: sourceKey, sourceVersionID: sourceVersionID, bucket: bucket, key: key,
                metadataDirective: metadataDirective, storageClass: storageClass, serverSideEncryption: serverSideEncryption)
        }
        let (contentType, contentEncoding, metadata): (String?, String?, [String: String])
        switch metadataDirective {
        case .copy: (contentType, contentEncoding, metadata) = (head.contentType, head.contentEncoding, head.metadata)
        case .replace(let type, let encoding, let given): (contentType, contentEncoding, metadata) = (type, encoding, given)
        }
        let count = Int64(Self.maximumPartCount)
        let size = max(partSize, (head.size + count - 1) / count)
        let ranges = stride(from: Int64(0), to: head.size, by: Int(size)).map { $0...(min($0 + size, head.size) - 1) }
        let uploadID = try await createMultipartUpload(
            bucket: bucket, key: key, contentType: contentType, metadata: metadata, contentEncoding: contentEncoding,
            serverSideEncryption: serverSideEncryption, storageClass: storageClass)
        let done = try await completingParts(bucket: bucket, key: key, uploadID: uploadID, count: ranges.count, concurrency: concurrency) { number in
            try await self.uploadPartCopy(
                bucket: bucket, key: key, uploadID: uploadID, partNumber: number, copySource: source, range: ranges[number - 1], ifMatch: head.etag)
        }
        return S3CopyObjectResult(etag: done.etag ?? "", lastModified: nil, versionID: done.versionID, sourceVersionID: head.versionID, requestID: nil)
    }

    /// Copies bytes `range` of the source into part `partNumber` of an upload (UploadPartCopy).
    func uploadPartCopy(
        bucket: String, key: String, uploadID: String, partNumber: Int, copySource: String, range: ClosedRange<Int64>, ifMatch: String?
    ) async throws -> S3CompletedPart {
        var headers: [(name: String, value: String)] = [
            ("x-amz-copy-source", copySource), ("x-amz-copy-source-range", "bytes=\(range.lowerBound)-\(range.upperBound)"),
        ]
        if let ifMatch { headers.append(("x-amz-copy-source-if-match", ifMatch)) }
        let response = try await send(
            "UploadPartCopy", method: "PUT", bucket: bucket, key: key, query: [("partNumber", String(partNumber)), ("uploadId", uploadID)],
            headers: headers, metadata: ["s3.part": "\(partNumber)"], errorMayHideInSuccess: true)
        let copied = try parse("UploadPartCopy", bucket: bucket, key: key, response) { try S3ResponseParser.copyResult($0) }
        return S3CompletedPart(partNumber: partNumber, etag: copied.etag)
    }

    /// The `x-amz-copy-source` value: `bucket/key` percent-encoded (slashes kept), then `?versionId=`.
    private func copySource(_ bucket: String, _ key: String, _ versionID: String?, operation: String, bucket target: String, key targetKey: String) throws -> String {
        guard !bucket.isEmpty, !bucket.contains("/"), !key.isEmpty else {
            throw AWSError.invalidRequest(
                .s3, operation: operation, reason: "invalid copy source bucket '\(bucket)' and key '\(key)'",
                resource: AWSResource(bucket: target, key: targetKey))
        }
        var value = awsURIEncode(bucket, encodeSlash: true) + "/" + awsURIEncode(key, encodeSlash: false)
        if let versionID { value += "?versionId=" + awsURIEncode(versionID, encodeSlash: true) }
        return value
    }
}
