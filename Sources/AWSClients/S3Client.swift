import AWSSigV4
import Crypto
import Foundation
import Logging

/// An S3 client over the REST-XML API: objects, listings, batch deletes, multipart uploads, lifecycle rules.
///
/// Keys are sent in the path encoded with `awsURIEncode(key, encodeSlash: false)`, exactly as signed.
/// Buckets are addressed path-style or virtual-hosted as configured; names that cannot be a host name
/// (dots over HTTPS, upper case, underscores) always go path-style.
public struct S3Client: Sendable {
    /// The HTTP layer: signing, retries, logging.
    public let http: AWSHTTPClient
    /// The S3 endpoint, e.g. `https://s3.eu-west-1.amazonaws.com` or `http://127.0.0.1:5000`.
    public let endpoint: URL
    /// How buckets are addressed.
    public let addressingStyle: S3AddressingStyle

    /// Creates a client over an HTTP layer.
    public init(http: AWSHTTPClient, endpoint: URL, addressingStyle: S3AddressingStyle) {
        self.http = http
        self.endpoint = endpoint
        self.addressingStyle = addressingStyle
    }

    /// Creates a client from resolved settings.
    public init(
        settings: AWSSettings, transport: any HTTPTransport = NIOHTTPTransport.shared(), retryPolicy: RetryPolicy = .standard,
        logger: Logger = Logger(label: "archiver.aws.s3")
    ) {
        self.init(
            http: AWSHTTPClient(settings: settings, transport: transport, retryPolicy: retryPolicy, logger: logger),
            endpoint: settings.endpoint(for: .s3), addressingStyle: settings.s3AddressingStyle)
    }

    // MARK: Buckets

    /// Whether the bucket exists and is reachable with these credentials (false on 404).
    public func bucketExists(_ bucket: String) async throws -> Bool {
        do {
            _ = try await send("HeadBucket", method: "HEAD", bucket: bucket)
            return true
        } catch let error as AWSError where error.statusCode == 404 {
            return false
        }
    }

    // MARK: Objects

    /// Writes an object in one request, with `Content-MD5` so S3 checks the bytes it received.
    ///
    /// - Parameters:
    ///   - contentType: defaults to `application/octet-stream`.
    ///   - metadata: user metadata sent as `x-amz-meta-<name>`; names and values must be ASCII.
    ///   - contentEncoding: e.g. `gzip`, stored and returned as `Content-Encoding`.
    ///   - serverSideEncryption: SSE-S3 or SSE-KMS; nil leaves the bucket default.
    ///   - storageClass: e.g. ``S3StorageClass/standardIA``; nil stores in STANDARD.
    @discardableResult
    public func putObject(
        bucket: String, key: String, body: [UInt8], contentType: String? = nil, metadata: [String: String] = [:],
        contentEncoding: String? = nil, serverSideEncryption: S3ServerSideEncryption? = nil, storageClass: S3StorageClass? = nil
    ) async throws -> S3PutObjectResult {
        var headers = try objectHeaders(
            "PutObject", bucket: bucket, key: key, contentType: contentType, metadata: metadata,
            contentEncoding: contentEncoding, serverSideEncryption: serverSideEncryption, storageClass: storageClass)
        headers.append(("Content-MD5", Self.md5Base64(body)))
        let response = try await send("PutObject", method: "PUT", bucket: bucket, key: key, headers: headers, body: body)
        return S3PutObjectResult(etag: response.header("etag"), versionID: response.header("x-amz-version-id"))
    }

    /// Reads a whole object, byte for byte as stored.
    ///
    /// The request asks S3 to answer with `Content-Encoding: identity` (`response-content-encoding=identity`), because
    /// an HTTP stack may otherwise decompress objects stored with `Content-Encoding: gzip` (libcurl under URLSession
    /// does; ``NIOHTTPTransport`` does not).
    /// If a server ignores that and the body arrives decompressed anyway, this throws rather than return other bytes;
    /// store compressed archives with a `Content-Type` such as `application/gzip` and no `Content-Encoding` to avoid it.
    /// - Throws: ``AWSError`` of kind ``AWSError/Kind/notFound`` when there is no such key.
    public func getObject(bucket: String, key: String) async throws -> [UInt8] {
        let response = try await send(
            "GetObject", method: "GET", bucket: bucket, key: key, query: [("response-content-encoding", "identity")])
        if let encoding = response.header("content-encoding")?.lowercased(), encoding != "identity",
            let length = response.header("content-length").flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }),
            length != response.body.count
        {
            throw AWSError.invalidResponse(
                .s3, operation: "GetObject",
                reason: "the object has Content-Encoding '\(encoding)' and the HTTP stack decoded it (\(length) bytes sent, \(response.body.count) received); the stored bytes cannot be returned",
                requestID: response.header("x-amz-request-id"), resource: AWSResource(bucket: bucket, key: key))
        }
        return response.body
    }

    /// The size, ETag, dates and metadata of an object (or of one version of it); nil when there is no such key (or bucket).
    public func headObject(bucket: String, key: String, versionID: String? = nil) async throws -> S3ObjectHead? {
        let response: HTTPResponse
        do {
            response = try await send("HeadObject", method: "HEAD", bucket: bucket, key: key, query: versionID.map { [("versionId", $0)] } ?? [])
        } catch let error as AWSError where error.kind == .notFound {
            return nil
        }
        var metadata: [String: String] = [:]
        for (name, value) in response.headers where name.hasPrefix("x-amz-meta-") {
            metadata[String(name.dropFirst("x-amz-meta-".count))] = value
        }
        return S3ObjectHead(
            size: Int64(response.header("content-length") ?? "") ?? 0,
            etag: response.header("etag"),
            lastModified: response.header("last-modified").flatMap(AWSDates.rfc1123),
            contentType: response.header("content-type"),
            contentEncoding: response.header("content-encoding"),
            metadata: metadata,
            serverSideEncryption: response.header("x-amz-server-side-encryption"),
            serverSideEncryptionKMSKeyID: response.header("x-amz-server-side-encryption-aws-kms-key-id"),
            storageClass: response.header("x-amz-storage-class"),
            versionID: response.header("x-amz-version-id"))
    }

    /// Lists one page of objects (ListObjectsV2), keys in order.
    ///
    /// - Parameters:
    ///   - prefix: only keys starting with this.
    ///   - delimiter: groups keys sharing the part up to the delimiter into ``S3ListObjectsPage/commonPrefixes``.
    ///   - continuationToken: the previous page's ``S3ListObjectsPage/nextContinuationToken``.
    ///   - startAfter: only keys after this one.
    ///   - maxKeys: the page size (S3 caps it at 1000).
    public func listObjectsV2(
        bucket: String, prefix: String? = nil, delimiter: String? = nil, continuationToken: String? = nil,
        startAfter: String? = nil, maxKeys: Int? = nil
    ) async throws -> S3ListObjectsPage {
        var query: [(String, String?)] = [("list-type", "2"), ("encoding-type", "url")]
        if let prefix { query.append(("prefix", prefix)) }
        if let delimiter { query.append(("delimiter", delimiter)) }
        if let continuationToken { query.append(("continuation-token", continuationToken)) }
        if let startAfter { query.append(("start-after", startAfter)) }
        if let maxKeys { query.append(("max-keys", String(maxKeys))) }
        let response = try await send("ListObjectsV2", method: "GET", bucket: bucket, query: query)
        return try parse("ListObjectsV2", bucket: bucket, response) { try S3ResponseParser.listObjectsPage($0) }
    }

    /// Every object under `prefix` (after `startAfter`, when given), paging through ListObjectsV2 as the stream is
    /// read: a reader that stops early fetches no further page.
    public func listAllObjects(bucket: String, prefix: String? = nil, startAfter: String? = nil, pageSize: Int? = nil) -> AsyncThrowingStream<S3ObjectSummary, any Error> {
        Pager<S3ObjectSummary, String> { token in
            let page = try await self.listObjectsV2(
                bucket: bucket, prefix: prefix, continuationToken: token, startAfter: token == nil ? startAfter : nil, maxKeys: pageSize)
            return (page.objects, page.isTruncated ? page.nextContinuationToken : nil)
        }.stream
    }

    /// Deletes keys in batches of 1000 (DeleteObjects in quiet mode, with `Content-MD5`), reporting the keys that failed.
    /// Keys that do not exist count as deleted. See ``deleteObjects(bucket:objects:quiet:)`` for versions and per-key results.
    public func deleteObjects(bucket: String, keys: [String]) async throws -> S3DeleteObjectsResult {
        try await deleteObjects(bucket: bucket, objects: keys.map { S3ObjectIdentifier(key: $0) }, quiet: true)
    }

    /// Deletes one object; deleting a missing key succeeds.
    public func deleteObject(bucket: String, key: String) async throws {
        _ = try await send("DeleteObject", method: "DELETE", bucket: bucket, key: key)
    }

    // MARK: Request plumbing

    /// Sends one S3 request for a bucket (and key), addressed per ``addressingStyle``: for operations this client
    /// does not wrap (tests create and delete buckets with it).
    package func send(
        _ operation: String, method: String, bucket: String, key: String? = nil, query: [(String, String?)] = [],
        headers: [(name: String, value: String)] = [], body: [UInt8] = [], metadata: Logger.Metadata = [:],
        errorMayHideInSuccess: Bool = false
    ) async throws -> HTTPResponse {
        let resource = AWSResource(bucket: bucket, key: key)
        try Self.validate(operation, bucket: bucket, key: key, resource: resource)
        let (base, path) = location(bucket: bucket, key: key)
        var meta = metadata
        meta["s3.bucket"] = "\(bucket)"
        if let key { meta["s3.key"] = "\(key)" }
        let request = AWSRequest(
            service: .s3, operation: operation, method: method, endpoint: base, path: path, query: Self.query(query),
            headers: headers, body: body, payloadSigning: .hashBody, resource: resource, logMetadata: meta,
            errorMayHideInSuccess: errorMayHideInSuccess)
        return try await http.send(request)
    }

    /// Parses a response body, turning parse failures into an ``AWSError`` of kind `invalidResponse`.
    func parse<T>(_ operation: String, bucket: String, key: String? = nil, _ response: HTTPResponse, _ body: (XMLTree) throws -> T) throws -> T {
        do {
            return try body(try XMLTree.parse(response.body))
        } catch {
            throw AWSError.invalidResponse(
                .s3, operation: operation, reason: "\(error)", requestID: response.header("x-amz-request-id"),
                resource: AWSResource(bucket: bucket, key: key))
        }
    }

    /// The endpoint and encoded path for a bucket and optional key.
    func location(bucket: String, key: String?) -> (URL, String) {
        let keyPath = key.map { "/" + awsURIEncode($0, encodeSlash: false) }
        if usesVirtualHost(bucket), let host = endpoint.host(percentEncoded: true) {
            var text = "\(endpoint.scheme ?? "https")://\(bucket).\(host)"
            if let port = endpoint.port { text += ":\(port)" }
            text += endpoint.path(percentEncoded: true)
            if let url = URL(string: text) { return (url, keyPath ?? "/") }
        }
        return (endpoint, "/" + awsURIEncode(bucket, encodeSlash: true) + (keyPath ?? ""))
    }

    private func usesVirtualHost(_ bucket: String) -> Bool {
        guard addressingStyle == .virtual, let host = endpoint.host(percentEncoded: false)?.lowercased() else { return false }
        // An IP address or localhost cannot take a bucket label in front.
        if host == "localhost" || host.contains(":") || host.split(separator: ".").allSatisfy({ $0.allSatisfy(\.isNumber) }) {
            return false
        }
        let isHTTPS = endpoint.scheme?.lowercased() == "https"
        guard (3...63).contains(bucket.count), !(isHTTPS && bucket.contains(".")) else { return false }
        return bucket.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
        }
    }

    private static func validate(_ operation: String, bucket: String, key: String?, resource: AWSResource) throws {
        if bucket.isEmpty || bucket.contains("/") {
            throw AWSError.invalidRequest(.s3, operation: operation, reason: "invalid bucket name '\(bucket)'", resource: resource)
        }
        guard let key else { return }
        if key.isEmpty {
            throw AWSError.invalidRequest(.s3, operation: operation, reason: "empty object key", resource: resource)
        }
        // HTTP clients remove "." and ".." path segments, which would change the key sent.
        if key.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0 == "." || $0 == ".." }) {
            throw AWSError.invalidRequest(
                .s3, operation: operation, reason: "object keys with '.' or '..' path segments are not supported ('\(key)')", resource: resource)
        }
    }

    /// Headers shared by PutObject and CreateMultipartUpload.
    func objectHeaders(
        _ operation: String, bucket: String, key: String, contentType: String?, metadata: [String: String], contentEncoding: String?,
        serverSideEncryption: S3ServerSideEncryption?, storageClass: S3StorageClass? = nil
    ) throws -> [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = [("Content-Type", contentType ?? "application/octet-stream")]
        if let contentEncoding { headers.append(("Content-Encoding", contentEncoding)) }
        for (name, value) in metadata.sorted(by: { $0.key < $1.key }) {
            let validName = !name.isEmpty && name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: ":") }
            let validValue = value.utf8.allSatisfy { ($0 >= 0x20 && $0 < 0x7f) || $0 == 0x09 }
            guard validName, validValue else {
                throw AWSError.invalidRequest(
                    .s3, operation: operation, reason: "metadata '\(name)' must be printable ASCII in name and value",
                    resource: AWSResource(bucket: bucket, key: key))
            }
            headers.append(("x-amz-meta-\(name.lowercased())", value))
        }
        if let serverSideEncryption { headers += serverSideEncryption.headers }
        if let storageClass { headers.append(("x-amz-storage-class", try storageClass.headerValue(operation, bucket: bucket, key: key))) }
        return headers
    }

    /// Builds an encoded query string; a nil value is a bare name (`?delete`).
    static func query(_ items: [(String, String?)]) -> String {
        items.map { name, value in
            let n = awsURIEncode(name, encodeSlash: true)
            return value.map { "\(n)=\(awsURIEncode($0, encodeSlash: true))" } ?? n
        }.joined(separator: "&")
    }

    /// Base64 of the MD5 of `body`, for `Content-MD5`.
    static func md5Base64(_ body: [UInt8]) -> String {
        Data(Insecure.MD5.hash(data: body)).base64EncodedString()
    }
}
