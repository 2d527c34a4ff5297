import Foundation
import Logging

extension S3Client {
    /// The smallest part S3 accepts (but for the last part): 5 MiB.
    public static let minimumPartSize = 5 * 1024 * 1024
    /// The most parts one upload may have.
    public static let maximumPartCount = 10_000

    /// Starts a multipart upload and returns its upload ID; `storageClass` nil stores the object in STANDARD.
    public func createMultipartUpload(
        bucket: String, key: String, contentType: String? = nil, metadata: [String: String] = [:], contentEncoding: String? = nil,
        serverSideEncryption: S3ServerSideEncryption? = nil, storageClass: S3StorageClass? = nil
    ) async throws -> String {
        let headers = try objectHeaders(
            "CreateMultipartUpload", bucket: bucket, key: key, contentType: contentType, metadata: metadata,
            contentEncoding: contentEncoding, serverSideEncryption: serverSideEncryption, storageClass: storageClass)
        let response = try await send("CreateMultipartUpload", method: "POST", bucket: bucket, key: key, query: [("uploads", nil)], headers: headers)
        return try parse("CreateMultipartUpload", bucket: bucket, key: key, response) { try S3ResponseParser.uploadID($0) }
    }

    /// Uploads one part (with `Content-MD5`) and returns its record for ``completeMultipartUpload(bucket:key:uploadID:parts:)``.
    public func uploadPart(bucket: String, key: String, uploadID: String, partNumber: Int, body: [UInt8]) async throws -> S3CompletedPart {
        let response = try await send(
            "UploadPart", method: "PUT", bucket: bucket, key: key,
            query: [("partNumber", String(partNumber)), ("uploadId", uploadID)],
            headers: [("Content-MD5", Self.md5Base64(body))], body: body, metadata: ["s3.part": "\(partNumber)"])
        guard let etag = response.header("etag") else {
            throw AWSError.invalidResponse(.s3, operation: "UploadPart", reason: "no ETag for part \(partNumber)", resource: AWSResource(bucket: bucket, key: key))
        }
        return S3CompletedPart(partNumber: partNumber, etag: etag)
    }

    /// Completes an upload from its parts (sorted by part number here).
    @discardableResult
    public func completeMultipartUpload(bucket: String, key: String, uploadID: String, parts: [S3CompletedPart]) async throws -> S3PutObjectResult {
        var xml = XMLWriter()
        xml.open("CompleteMultipartUpload", namespace: s3XMLNamespace)
        for part in parts.sorted(by: { $0.partNumber < $1.partNumber }) {
            xml.open("Part")
            xml.element("PartNumber", String(part.partNumber))
            xml.element("ETag", part.etag)
            xml.close("Part")
        }
        xml.close("CompleteMultipartUpload")
        let response = try await send(
            "CompleteMultipartUpload", method: "POST", bucket: bucket, key: key, query: [("uploadId", uploadID)],
            headers: [("Content-Type", "application/xml")], body: xml.bytes, errorMayHideInSuccess: true)
        let etag = try parse("CompleteMultipartUpload", bucket: bucket, key: key, response) { try S3ResponseParser.completedETag($0) }
        return S3PutObjectResult(etag: etag, versionID: response.header("x-amz-version-id"))
    }

    /// Abandons an upload and frees its parts.
    /// - Throws: ``AWSError`` of kind ``AWSError/Kind/noSuchUpload`` when the upload does not exist (any more): it was
    ///   completed or aborted already. A caller that only wants the upload gone counts that as done.
    public func abortMultipartUpload(bucket: String, key: String, uploadID: String) async throws {
        _ = try await send(
            "AbortMultipartUpload", method: "DELETE", bucket: bucket, key: key, query: [("uploadId", uploadID)],
            metadata: ["s3.upload_id": "\(uploadID)"])
    }

    /// The multipart uploads in progress under `prefix`, every page
    /// (see ``listMultipartUploadsPage(bucket:prefix:delimiter:keyMarker:uploadIDMarker:maxUploads:)``).
    public func listMultipartUploads(bucket: String, prefix: String? = nil) async throws -> [S3MultipartUpload] {
        var all: [S3MultipartUpload] = []
        var keyMarker: String?
        var uploadIDMarker: String?
        while true {
            let page = try await listMultipartUploadsPage(bucket: bucket, prefix: prefix, keyMarker: keyMarker, uploadIDMarker: uploadIDMarker)
            all += page.uploads
            guard page.isTruncated, let next = page.nextKeyMarker else { return all }
            if next == keyMarker && page.nextUploadIDMarker == uploadIDMarker {
                throw AWSError.invalidResponse(
                    .s3, operation: "ListMultipartUploads", reason: "the next page starts where this one did (key marker '\(next)')",
                    resource: AWSResource(bucket: bucket))
            }
            keyMarker = next
            uploadIDMarker = page.nextUploadIDMarker
        }
    }

    /// Writes a large object as a multipart upload: parts of `partSize` bytes (at least 5 MiB; grown if the body
    /// would need more than 10,000 parts), up to `concurrency` in flight. On any failure, or cancellation,
    /// the upload is aborted and the error rethrown.
    @discardableResult
    public func putObjectMultipart(
        bucket: String, key: String, body: [UInt8], partSize: Int = 8 * 1024 * 1024, concurrency: Int = 4,
        contentType: String? = nil, metadata: [String: String] = [:], contentEncoding: String? = nil,
        serverSideEncryption: S3ServerSideEncryption? = nil, storageClass: S3StorageClass? = nil
    ) async throws -> S3PutObjectResult {
        guard partSize >= Self.minimumPartSize else {
            throw AWSError.invalidRequest(
                .s3, operation: "PutObjectMultipart", reason: "part size \(partSize) is below the 5 MiB S3 minimum",
                resource: AWSResource(bucket: bucket, key: key))
        }
        let size = max(partSize, (body.count + Self.maximumPartCount - 1) / Self.maximumPartCount)
        let ranges = stride(from: 0, to: max(body.count, 1), by: size).map { $0..<min($0 + size, body.count) }
        let uploadID = try await createMultipartUpload(
            bucket: bucket, key: key, contentType: contentType, metadata: metadata, contentEncoding: contentEncoding,
            serverSideEncryption: serverSideEncryption, storageClass: storageClass)
        return try await completingParts(bucket: bucket, key: key, uploadID: uploadID, count: ranges.count, concurrency: concurrency) { number in
            try await self.uploadPart(bucket: bucket, key: key, uploadID: uploadID, partNumber: number, body: Array(body[ranges[number - 1]]))
        }
    }

    /// Makes parts 1…`count` of an upload with `part`, at most `concurrency` at a time, then completes the upload;
    /// on any failure aborts it (in a task of its own, so that a cancelled caller still frees the parts) and rethrows.
    func completingParts(
        bucket: String, key: String, uploadID: String, count: Int, concurrency: Int,
        part: @escaping @Sendable (Int) async throws -> S3CompletedPart
    ) async throws -> S3PutObjectResult {
        do {
            let parts = try await withThrowingTaskGroup(of: S3CompletedPart.self) { group in
                var parts: [S3CompletedPart] = []
                var next = 0
                func addNext() {
                    next += 1
                    let number = next
                    group.addTask { try await part(number) }
                }
                while next < count && next < max(1, concurrency) { addNext() }
                while let done = try await group.next() {
                    parts.append(done)
                    if next < count { addNext() }
                }
                return parts
            }
            return try await completeMultipartUpload(bucket: bucket, key: key, uploadID: uploadID, parts: parts)
        } catch {
            let client = self
            http.logger.notice(
                "aborting multipart upload after a failure",
                metadata: ["aws.service": "S3", "s3.bucket": "\(bucket)", "s3.key": "\(key)", "s3.upload_id": "\(uploadID)", "error": "\(error)"])
            _ = await Task { try? await client.abortMultipartUpload(bucket: bucket, key: key, uploadID: uploadID) }.value
            throw error
        }
    }
}
