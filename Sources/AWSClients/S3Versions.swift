import Foundation
import Logging

/// Whether a bucket keeps versions.
public enum S3VersioningStatus: String, Sendable, Equatable {
    /// Every write keeps the previous version; a delete adds a delete marker.
    case enabled = "Enabled"
    /// New writes replace the "null" version; versions kept so far stay.
    case suspended = "Suspended"
}

/// One version of an object, or a delete marker, in a ListObjectVersions listing.
public struct S3ObjectVersion: Sendable, Equatable {
    /// The key.
    public var key: String
    /// The version ID; "null" for an object written while versioning was off.
    public var versionID: String
    /// Whether this is the current version (or the delete marker that hides the key).
    public var isLatest: Bool
    /// Whether this entry is a delete marker rather than a version with data.
    public var isDeleteMarker: Bool
    /// The size in bytes (0 for a delete marker).
    public var size: Int64
    /// The entity tag as S3 returned it (with its quotes); nil for a delete marker.
    public var etag: String?
    /// When the version (or marker) was written.
    public var lastModified: Date?
    /// The storage class; nil for a delete marker.
    public var storageClass: String?

    /// The version as an object to delete or read.
    public var identifier: S3ObjectIdentifier { S3ObjectIdentifier(key: key, versionID: versionID) }
}

/// One page of a ListObjectVersions listing.
public struct S3ListVersionsPage: Sendable, Equatable {
    /// Versions and delete markers, by key, newest first within a key.
    public var entries: [S3ObjectVersion]
    /// The common prefixes when a delimiter was given.
    public var commonPrefixes: [String]
    /// Whether more pages follow.
    public var isTruncated: Bool
    /// The key marker of the next page; nil on the last page.
    public var nextKeyMarker: String?
    /// The version ID marker of the next page.
    public var nextVersionIDMarker: String?
}

extension S3Client {
    // MARK: Versioning

    /// Turns versioning on (``S3VersioningStatus/enabled``) or suspends it. A bucket cannot go back to unversioned.
    public func putBucketVersioning(bucket: String, status: S3VersioningStatus) async throws {
        var xml = XMLWriter()
        xml.open("VersioningConfiguration", namespace: s3XMLNamespace)
        xml.element("Status", status.rawValue)
        xml.close("VersioningConfiguration")
        let body = xml.bytes
        _ = try await send(
            "PutBucketVersioning", method: "PUT", bucket: bucket, query: [("versioning", nil)],
            headers: [("Content-Type", "application/xml"), ("Content-MD5", Self.md5Base64(body))], body: body,
            metadata: ["s3.versioning": "\(status.rawValue)"])
    }

    /// The bucket's versioning status; nil when versioning was never turned on.
    public func getBucketVersioning(bucket: String) async throws -> S3VersioningStatus? {
        let response = try await send("GetBucketVersioning", method: "GET", bucket: bucket, query: [("versioning", nil)])
        return try parse("GetBucketVersioning", bucket: bucket, response) { try S3ResponseParser.versioningStatus($0) }
    }

    // MARK: Listing versions

    /// Lists one page of versions and delete markers (ListObjectVersions), by key, newest version first.
    ///
    /// - Parameters:
    ///   - prefix: only keys starting with this.
    ///   - delimiter: groups keys sharing the part up to the delimiter into ``S3ListVersionsPage/commonPrefixes``.
    ///   - keyMarker: the previous page's ``S3ListVersionsPage/nextKeyMarker``.
    ///   - versionIDMarker: the previous page's ``S3ListVersionsPage/nextVersionIDMarker`` (only with `keyMarker`).
    ///   - maxKeys: the page size (S3 caps it at 1000).
    public func listObjectVersions(
        bucket: String, prefix: String? = nil, delimiter: String? = nil, keyMarker: String? = nil, versionIDMarker: String? = nil,
        maxKeys: Int? = nil
    ) async throws -> S3ListVersionsPage {
        var query: [(String, String?)] = [("versions", nil), ("encoding-type", "url")]
        if let prefix { query.append(("prefix", prefix)) }
        if let delimiter { query.append(("delimiter", delimiter)) }
        if let keyMarker { query.append(("key-marker", keyMarker)) }
        if let versionIDMarker, keyMarker != nil { query.append(("version-id-marker", versionIDMarker)) }
        if let maxKeys { query.append(("max-keys", String(maxKeys))) }
        let response = try await send("ListObjectVersions", method: "GET", bucket: bucket, query: query)
        return try parse("ListObjectVersions", bucket: bucket, response) { try S3ResponseParser.listVersionsPage($0) }
    }

    /// Every version and delete marker under `prefix`, paging through ListObjectVersions as the stream is read.
    public func listAllObjectVersions(bucket: String, prefix: String? = nil, pageSize: Int? = nil) -> AsyncThrowingStream<S3ObjectVersion, any Error> {
        Pager<S3ObjectVersion, (key: String, versionID: String?)> { marker in
            let page = try await self.listObjectVersions(
                bucket: bucket, prefix: prefix, keyMarker: marker?.key, versionIDMarker: marker?.versionID, maxKeys: pageSize)
            guard page.isTruncated, let nextKey = page.nextKeyMarker else { return (page.entries, nil) }
            if nextKey == marker?.key, page.nextVersionIDMarker == marker?.versionID {
                throw AWSError.invalidResponse(
                    .s3, operation: "ListObjectVersions",
                    reason: "the next page starts where this one did (key marker '\(nextKey)')", resource: AWSResource(bucket: bucket))
            }
            return (page.entries, (nextKey, page.nextVersionIDMarker))
        }.stream
    }
}
