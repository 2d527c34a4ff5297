import ArchiverCore
import AWSClients
import Foundation
import Logging

/// An archive in an S3 bucket, under an optional prefix: `s3://bucket/prefix/YYYY/MM/DD/<name>.json.gz`.
///
/// Keys given to and returned by the store are relative to the prefix, so the same keys work for a folder
/// and for a bucket. Objects are stored as `Content-Type: application/gzip` with no `Content-Encoding`
/// (an HTTP stack would otherwise decompress them on read), with `Content-MD5` so S3 checks the bytes,
/// and with the record's metadata as `x-amz-meta-*`. A 200 from PutObject means the object is durable.
public struct S3ArchiveStore: ArchiveStore {
    /// The bucket.
    public let bucket: String
    /// The key prefix: empty or ending in `/`.
    public let prefix: String
    /// The S3 client.
    public let client: S3Client
    /// How many PUTs may be in flight at once.
    public var concurrency: Int
    /// Bodies larger than this go up as multipart uploads.
    public var multipartThreshold: Int
    /// Server-side encryption asked for on every write (single PUTs and multipart uploads); nil leaves the
    /// bucket's default encryption.
    public var serverSideEncryption: S3ServerSideEncryption?

    public init(
        client: S3Client, bucket: String, prefix: String, concurrency: Int = 64, multipartThreshold: Int = 16 * 1024 * 1024,
        serverSideEncryption: S3ServerSideEncryption? = nil
    ) {
        self.client = client
        self.serverSideEncryption = serverSideEncryption
        self.bucket = bucket
        var prefix = prefix.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        if !prefix.isEmpty { prefix += "/" }
        self.prefix = prefix
        self.concurrency = max(1, concurrency)
        self.multipartThreshold = max(S3Client.minimumPartSize, multipartThreshold)
    }

    public var location: String { "s3://\(bucket)/\(prefix)" }

    static let contentType = "application/gzip"

    // MARK: Writing

    public func put(_ objects: [ArchiveObject]) async -> [Int: ArchiveStoreError] {
        var failures: [Int: ArchiveStoreError] = [:]
        await withTaskGroup(of: (Int, ArchiveStoreError?).self) { group in
            var next = 0
            func addNext() {
                let index = next
                let object = objects[index]
                next += 1
                group.addTask { (index, await self.putOne(object)) }
            }
            while next < objects.count && next < concurrency { addNext() }
            while let (index, failure) = await group.next() {
                if let failure { failures[index] = failure }
                if next < objects.count { addNext() }
            }
        }
        return failures
    }

    private func putOne(_ object: ArchiveObject) async -> ArchiveStoreError? {
        if let problem = validateArchiveKey(object.key) {
            return .rejected("refused to write '\(object.key)': \(problem)")
        }
        let key = prefix + object.key
        if key.utf8.count > 1024 {
            return .rejected("refused to write '\(object.key)': with the prefix '\(prefix)' the key is longer than S3's 1024 bytes")
        }
        let metadata = Self.storableMetadata(object.metadata)
        do {
            if object.body.count > multipartThreshold {
                try await client.putObjectMultipart(
                    bucket: bucket, key: key, body: object.body, contentType: Self.contentType, metadata: metadata,
                    serverSideEncryption: serverSideEncryption)
            } else {
                try await client.putObject(
                    bucket: bucket, key: key, body: object.body, contentType: Self.contentType, metadata: metadata,
                    serverSideEncryption: serverSideEncryption)
            }
            return nil
        } catch {
            return Self.storeError(error, writing: true)
        }
    }

    /// Metadata S3 can carry: printable ASCII names and values; others are left out (the record holds everything).
    static func storableMetadata(_ metadata: [String: String]) -> [String: String] {
        metadata.filter { name, value in
            !name.isEmpty && name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: ":") }
                && value.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7f }
        }
    }

    /// What an S3 failure means for the archive: wait, dead-letter this object, or stop for a human.
    public static func storeError(_ error: any Error, writing: Bool = false) -> ArchiveStoreError {
        if let error = error as? ArchiveStoreError { return error }
        guard let error = error as? AWSError else {
            if error is CancellationError { return .unavailable("cancelled") }
            return .unavailable("S3: \(error)")
        }
        let message = error.description
        switch error.kind {
        case .throttled, .transport, .invalidResponse:
            return .unavailable(message)
        case .noSuchBucket, .accessDenied, .invalidCredentials:
            return .failed(message)
        case .invalidRequest:
            return writing ? .rejected(message) : .failed(message)
        default:
            break
        }
        if let status = error.statusCode {
            if status >= 500 || status == 429 || status == 408 { return .unavailable(message) }
            if status == 401 || status == 403 { return .failed(message) }
            if status >= 400 { return writing ? .rejected(message) : .failed(message) }
        }
        return .unavailable(message)
    }

    // MARK: Reading

    public func get(_ key: String) async throws -> [UInt8] {
        guard validateArchiveKey(key) == nil else { throw ArchiveStoreError.notFound(key) }
        do {
            return try await client.getObject(bucket: bucket, key: prefix + key)
        } catch let error as AWSError where error.kind == .notFound {
            throw ArchiveStoreError.notFound(key)
        } catch {
            throw Self.storeError(error)
        }
    }

    public func get(_ key: String, range: Range<Int64>) async throws -> [UInt8] {
        guard validateArchiveKey(key) == nil else { throw ArchiveStoreError.notFound(key) }
        guard range.lowerBound >= 0, !range.isEmpty else { return [] }
        do {
            return try await client.getObject(bucket: bucket, key: prefix + key, range: range.lowerBound...(range.upperBound - 1)).body
        } catch let error as AWSError where error.kind == .notFound {
            throw ArchiveStoreError.notFound(key)
        } catch let error as AWSError where error.code == "InvalidRange" {
            // The range starts at or past the end: nothing of the object is there.
            return []
        } catch {
            throw Self.storeError(error)
        }
    }

    public func head(_ key: String) async throws -> StoredObject? {
        guard validateArchiveKey(key) == nil else { return nil }
        let head: S3ObjectHead?
        do {
            head = try await client.headObject(bucket: bucket, key: prefix + key)
        } catch {
            throw Self.storeError(error)
        }
        guard let head else { return nil }
        return StoredObject(key: key, size: head.size, lastModified: head.lastModified, etag: Self.md5ETag(head.etag))
    }

    /// The ETag as MD5 hex, without quotes; nil for a multipart ETag (`<hash>-<parts>`), which is not an MD5 of the bytes.
    public static func md5ETag(_ etag: String?) -> String? {
        guard var etag else { return nil }
        etag = etag.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
        if etag.hasPrefix("W/") { return nil }
        guard etag.count == 32, etag.allSatisfy(\.isHexDigit) else { return nil }
        return etag.lowercased()
    }

    public func list(prefix relative: String) -> AsyncThrowingStream<[StoredObject], any Error> {
        let client = self.client
        let bucket = self.bucket
        let root = self.prefix
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    var token: String? = nil
                    repeat {
                        try Task.checkCancellation()
                        let page = try await client.listObjectsV2(bucket: bucket, prefix: root + relative, continuationToken: token, maxKeys: 1000)
                        let objects: [StoredObject] = page.objects.compactMap { summary in
                            guard summary.key.hasPrefix(root) else { return nil }
                            let key = String(summary.key.dropFirst(root.count))
                            // Keys no archive would write (hidden segments, `..`) are not archive objects.
                            guard validateArchiveKey(key) == nil else { return nil }
                            return StoredObject(key: key, size: summary.size, lastModified: summary.lastModified, etag: Self.md5ETag(summary.etag))
                        }
                        if !objects.isEmpty { continuation.yield(objects) }
                        token = page.isTruncated ? page.nextContinuationToken : nil
                    } while token != nil
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: Self.storeError(error))
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    // MARK: Deleting

    public func delete(_ keys: [String]) async throws {
        let full = keys.filter { validateArchiveKey($0) == nil }.map { prefix + $0 }
        guard !full.isEmpty else { return }
        let result: S3DeleteObjectsResult
        do {
            result = try await client.deleteObjects(bucket: bucket, keys: full)
        } catch {
            throw Self.storeError(error)
        }
        if let first = result.errors.first {
            throw ArchiveStoreError.failed(
                "S3 could not delete \(result.errors.count) of \(keys.count) objects in bucket '\(bucket)', e.g. \(first)")
        }
    }
}
