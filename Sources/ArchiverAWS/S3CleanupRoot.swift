import ArchiverCore
import AWSClients
import Foundation

/// A bucket and prefix as a cleanup root: its objects (ListObjectsV2), deleted with DeleteObjects (up to 1,000 keys a
/// call, with Content-MD5), and its multipart uploads in progress (ListMultipartUploads, ListParts, AbortMultipartUpload).
///
/// Keys given and returned are relative to the prefix; nothing outside the prefix is listed, deleted or aborted.
public struct S3CleanupRoot: CleanupRoot {
    public let client: S3Client
    public let bucket: String
    /// Empty, or ending in `/`.
    public let prefix: String

    public init(client: S3Client, bucket: String, prefix: String) {
        self.client = client
        self.bucket = bucket
        var prefix = prefix.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        if !prefix.isEmpty { prefix += "/" }
        self.prefix = prefix
    }

    public var description: String { "s3://\(bucket)/\(prefix)" }

    public func objects() -> AsyncThrowingStream<[CleanupObject], any Error> {
        let pager = Pager<String, [CleanupObject]> { [client, bucket, prefix] token in
            let page = try await client.listObjectsV2(bucket: bucket, prefix: prefix.isEmpty ? nil : prefix, continuationToken: token, maxKeys: 1000)
            let objects = page.objects.compactMap { summary -> CleanupObject? in
                guard summary.key.hasPrefix(prefix), summary.key.count > prefix.count else { return nil }  // the prefix's own "folder" object
                return CleanupObject(key: String(summary.key.dropFirst(prefix.count)), size: summary.size, lastModified: summary.lastModified)
            }
            return (objects, page.isTruncated ? page.nextContinuationToken : nil)
        }
        return AsyncThrowingStream(unfolding: { try await pager.next() })
    }

    public func delete(_ keys: [String]) async throws -> [String: String] {
        guard !keys.isEmpty else { return [:] }
        let result = try await client.deleteObjectBatch(bucket: bucket, objects: keys.map { S3ObjectIdentifier(key: prefix + $0) }, quiet: true)
        var failures: [String: String] = [:]
        for error in result.errors where error.key.hasPrefix(prefix) {
            failures[String(error.key.dropFirst(prefix.count))] = "\(error.code): \(error.message)" + (error.requestID.map { " (request \($0))" } ?? "")
        }
        return failures
    }

    public func uploads() -> AsyncThrowingStream<[CleanupUpload], any Error> {
        let pager = Pager<(String, String?), [CleanupUpload]> { [client, bucket, prefix] marker in
            let page = try await client.listMultipartUploadsPage(
                bucket: bucket, prefix: prefix.isEmpty ? nil : prefix, keyMarker: marker?.0, uploadIDMarker: marker?.1)
            let uploads = page.uploads.compactMap { upload -> CleanupUpload? in
                guard upload.key.hasPrefix(prefix), upload.key.count > prefix.count else { return nil }
                return CleanupUpload(key: String(upload.key.dropFirst(prefix.count)), uploadID: upload.uploadID, initiated: upload.initiated)
            }
            let next = page.isTruncated ? page.nextKeyMarker.map { ($0, page.nextUploadIDMarker) } : nil
            if let next, next.0 == marker?.0, next.1 == marker?.1 {
                throw AWSError.invalidResponse(
                    .s3, operation: "ListMultipartUploads", reason: "the next page starts where this one did (key marker '\(next.0)')",
                    resource: AWSResource(bucket: bucket))
            }
            return (uploads, next)
        }
        return AsyncThrowingStream(unfolding: { try await pager.next() })
    }

    public func parts(of upload: CleanupUpload) async throws -> CleanupUploadParts? {
        do {
            let parts = try await client.listAllParts(bucket: bucket, key: prefix + upload.key, uploadID: upload.uploadID)
            return CleanupUploadParts(count: parts.count, bytes: parts.reduce(0) { $0 + $1.size })
        } catch let error as AWSError where error.kind == .noSuchUpload {
            return nil
        }
    }

    public func abort(_ upload: CleanupUpload) async throws -> Bool {
        do {
            try await client.abortMultipartUpload(bucket: bucket, key: prefix + upload.key, uploadID: upload.uploadID)
            return true
        } catch let error as AWSError where error.kind == .noSuchUpload {
            return false
        }
    }
}

/// Pulls pages one at a time, each request made with the marker the previous page handed back, until a page hands
/// back none.
private actor Pager<Marker: Sendable, Page: Sendable> {
    private let fetch: @Sendable (Marker?) async throws -> (Page, Marker?)
    private var marker: Marker?
    private var finished = false

    init(fetch: @escaping @Sendable (Marker?) async throws -> (Page, Marker?)) { self.fetch = fetch }

    func next() async throws -> Page? {
        guard !finished else { return nil }
        let (page, next) = try await fetch(marker)
        marker = next
        finished = next == nil
        return page
    }
}
