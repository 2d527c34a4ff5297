import Foundation
import Logging

/// Part of an object, read with an HTTP `Range`.
public struct S3ObjectRange: Sendable, Equatable {
    /// The bytes, as stored.
    public var body: [UInt8]
    /// The byte positions the body holds (inclusive); shorter than asked when the object ends first.
    public var range: ClosedRange<Int64>
    /// The size of the whole object, when the server said.
    public var objectSize: Int64?
    /// The entity tag of the object (with its quotes).
    public var etag: String?
    /// The version read, in a versioned bucket.
    public var versionID: String?
}

extension S3Client {
    /// Reads the bytes `range` of an object (`Range: bytes=a-b`, both ends included), e.g. one gzip member of a larger object.
    ///
    /// S3 answers 206 with the bytes; a range past the end is cut at the end. A server that ignores `Range` and sends the
    /// whole object (200) is handled by cutting the range out here. As with ``getObject(bucket:key:)``, the bytes are
    /// returned as stored (`response-content-encoding=identity`).
    /// - Parameter versionID: read this version rather than the current one.
    /// - Throws: ``AWSError`` of kind ``AWSError/Kind/notFound`` when there is no such key; code `InvalidRange` (HTTP 416)
    ///   when the range starts at or past the object's end; kind `invalidRequest` for a negative start.
    public func getObject(bucket: String, key: String, range: ClosedRange<Int64>, versionID: String? = nil) async throws -> S3ObjectRange {
        let resource = AWSResource(bucket: bucket, key: key)
        guard range.lowerBound >= 0 else {
            throw AWSError.invalidRequest(.s3, operation: "GetObject", reason: "the range \(range) starts before byte 0", resource: resource)
        }
        var query: [(String, String?)] = [("response-content-encoding", "identity")]
        if let versionID { query.append(("versionId", versionID)) }
        let response = try await send(
            "GetObject", method: "GET", bucket: bucket, key: key, query: query,
            headers: [("Range", "bytes=\(range.lowerBound)-\(range.upperBound)")], metadata: ["s3.range": "\(range.lowerBound)-\(range.upperBound)"])
        let etag = response.header("etag")
        let version = response.header("x-amz-version-id")
        func unexpected(_ reason: String) -> AWSError {
            AWSError.invalidResponse(.s3, operation: "GetObject", reason: reason, requestID: Self.requestID(of: response), resource: resource)
        }
        if response.status == 200 {
            // The whole object: cut the range out.
            let size = Int64(response.body.count)
            guard range.lowerBound < size else {
                throw unexpected("the server ignored the range \(range.lowerBound)-\(range.upperBound) and the object has only \(size) bytes")
            }
            let upper = min(range.upperBound, size - 1)
            return S3ObjectRange(
                body: Array(response.body[Int(range.lowerBound)...Int(upper)]), range: range.lowerBound...upper, objectSize: size, etag: etag,
                versionID: version)
        }
        guard response.status == 206 else { throw unexpected("HTTP \(response.status) to a ranged GET") }
        guard let header = response.header("content-range"), let sent = Self.contentRange(header) else {
            throw unexpected("a 206 answer without a readable Content-Range (\(response.header("content-range") ?? "none"))")
        }
        guard sent.range.lowerBound == range.lowerBound, sent.range.upperBound <= range.upperBound,
            Int64(response.body.count) == sent.range.upperBound - sent.range.lowerBound + 1
        else {
            throw unexpected("asked for bytes \(range.lowerBound)-\(range.upperBound), got \(header) with \(response.body.count) bytes")
        }
        return S3ObjectRange(body: response.body, range: sent.range, objectSize: sent.size, etag: etag, versionID: version)
    }

    /// Parses `bytes a-b/size` (size may be `*`).
    static func contentRange(_ text: String) -> (range: ClosedRange<Int64>, size: Int64?)? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.lowercased().hasPrefix("bytes ") else { return nil }
        let spec = trimmed.dropFirst("bytes ".count)
        let halves = spec.split(separator: "/", maxSplits: 1)
        guard halves.count == 2 else { return nil }
        let bounds = halves[0].split(separator: "-", maxSplits: 1)
        guard bounds.count == 2, let lower = Int64(bounds[0]), let upper = Int64(bounds[1]), lower <= upper else { return nil }
        let size = halves[1] == "*" ? nil : Int64(halves[1])
        if halves[1] != "*" && size == nil { return nil }
        return (lower...upper, size)
    }
}
