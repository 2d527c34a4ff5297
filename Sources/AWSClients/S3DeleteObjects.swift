import Foundation
import Logging

/// An object, or one version of it, to act on.
public struct S3ObjectIdentifier: Sendable, Hashable, CustomStringConvertible {
    /// The key.
    public var key: String
    /// The version; nil means the current one (in a versioned bucket, deleting it adds a delete marker).
    /// "null" names the version of an object written while versioning was off.
    public var versionID: String?

    /// Creates an identifier.
    public init(key: String, versionID: String? = nil) {
        self.key = key
        self.versionID = versionID
    }

    public var description: String { versionID.map { "\(key) (version \($0))" } ?? key }
}

/// A key (or version) that DeleteObjects reported as deleted.
public struct S3DeletedObject: Sendable, Equatable {
    /// The key.
    public var key: String
    /// The version deleted, when one was named.
    public var versionID: String?
    /// Whether the deletion created a delete marker (versioned bucket, no version named), or removed one.
    public var deleteMarker: Bool
    /// The version ID of the delete marker created or removed.
    public var deleteMarkerVersionID: String?
}

extension S3Client {
    /// The most keys one DeleteObjects call takes.
    public static let maximumDeleteObjectsBatch = 1000

    /// Deletes objects or versions with one DeleteObjects call per 1000, one call after another.
    ///
    /// Every call carries `Content-MD5`, which S3 requires for DeleteObjects (and which S3-compatible servers that do
    /// not know the newer `x-amz-checksum-*` headers accept). A key that does not exist counts as deleted. Keys that
    /// fail are reported in ``S3DeleteObjectsResult/errors`` (with the request ID of their call) and
    /// ``S3DeleteObjectsResult/failedObjects`` gives them back for a retry.
    ///
    /// When a call fails as a whole, the error is thrown and the result of the calls before it is lost; to keep every
    /// outcome, call ``deleteObjectBatch(bucket:objects:quiet:)`` with at most 1000 objects at a time.
    /// - Parameter quiet: S3 then reports only the failures (a smaller answer), and ``S3DeleteObjectsResult/deleted`` stays
    ///   empty (servers that ignore quiet mode list the deletions anyway).
    public func deleteObjects(bucket: String, objects: [S3ObjectIdentifier], quiet: Bool = true) async throws -> S3DeleteObjectsResult {
        var total = S3DeleteObjectsResult(requested: objects.count, errors: [])
        var start = 0
        while start < objects.count {
            let batch = Array(objects[start..<min(start + Self.maximumDeleteObjectsBatch, objects.count)])
            start += batch.count
            let result = try await deleteObjectBatch(bucket: bucket, objects: batch, quiet: quiet)
            total.errors += result.errors
            total.deleted += result.deleted
            total.requestIDs += result.requestIDs
        }
        return total
    }

    /// Deletes up to 1000 objects or versions with exactly one DeleteObjects call (with `Content-MD5`), and reports each
    /// key's outcome and the call's request ID.
    /// - Throws: ``AWSError`` of kind ``AWSError/Kind/invalidRequest`` for no objects, more than 1000, or an empty key;
    ///   other ``AWSError``s when the call fails as a whole.
    public func deleteObjectBatch(bucket: String, objects: [S3ObjectIdentifier], quiet: Bool = true) async throws -> S3DeleteObjectsResult {
        let resource = AWSResource(bucket: bucket)
        guard (1...Self.maximumDeleteObjectsBatch).contains(objects.count) else {
            throw AWSError.invalidRequest(
                .s3, operation: "DeleteObjects",
                reason: "one DeleteObjects call takes 1 to \(Self.maximumDeleteObjectsBatch) keys, not \(objects.count); split the keys into batches",
                resource: resource)
        }
        if let index = objects.firstIndex(where: { $0.key.isEmpty }) {
            throw AWSError.invalidRequest(.s3, operation: "DeleteObjects", reason: "key \(index + 1) of the batch is empty", resource: resource)
        }
        var xml = XMLWriter()
        xml.open("Delete", namespace: s3XMLNamespace)
        xml.element("Quiet", quiet ? "true" : "false")
        for object in objects {
            xml.open("Object")
            xml.element("Key", object.key)
            if let version = object.versionID { xml.element("VersionId", version) }
            xml.close("Object")
        }
        xml.close("Delete")
        let body = xml.bytes
        let response = try await send(
            "DeleteObjects", method: "POST", bucket: bucket, query: [("delete", nil)],
            headers: [("Content-Type", "application/xml"), ("Content-MD5", Self.md5Base64(body))], body: body,
            metadata: ["s3.keys": "\(objects.count)"])
        let requestID = Self.requestID(of: response)
        var result = try parse("DeleteObjects", bucket: bucket, response) { try S3ResponseParser.deleteResult($0) }
        result.requested = objects.count
        for index in result.errors.indices { result.errors[index].requestID = requestID }
        result.requestIDs = requestID.map { [$0] } ?? []
        if let first = result.errors.first {
            http.logger.debug(
                "DeleteObjects left keys behind",
                metadata: [
                    "aws.service": "S3", "s3.bucket": "\(bucket)", "s3.keys": "\(objects.count)", "s3.failed_keys": "\(result.errors.count)",
                    "aws.error_code": "\(first.code)", "aws.request_id": "\(requestID ?? "")",
                ])
        }
        return result
    }

    /// The request ID of an S3 answer (`x-amz-request-id`; some emulators send `x-amzn-requestid`).
    static func requestID(of response: HTTPResponse) -> String? {
        response.header("x-amz-request-id") ?? response.header("x-amzn-requestid")
    }
}
