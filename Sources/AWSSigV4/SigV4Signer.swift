import Foundation

/// Signs HTTP requests with AWS Signature Version 4, with the `Authorization` header (``sign(_:payload:date:)``)
/// or as a presigned URL (``presignedQuery(_:expires:date:payload:)``).
///
/// The signing time is always passed in; the signer never reads the clock. Each stage of the
/// algorithm is public so it can be checked on its own: ``canonicalRequest(_:payloadHash:date:)``,
/// ``stringToSign(canonicalRequest:date:)``, ``signingKey(date:)`` and ``signature(stringToSign:date:)``.
///
///     let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "s3", options: .s3)
///     var request = SigV4Request(method: "PUT", url: objectURL, headers: [("Content-Type", "application/gzip")])
///     signer.sign(&request, payload: .bytes(body), date: clock.now)
public struct SigV4Signer: Sendable {
    /// The rules that differ between services (S3 against everything else).
    public struct Options: Sendable {
        /// Whether the canonical URI is the path encoded once more (`%` becomes `%25`, a space `%20`).
        /// The general AWS rule: `true`; S3: `false` (the path is used as given).
        public var doubleEncodePath: Bool
        /// Whether `.` and `..` segments are resolved and empty segments (`//`) collapsed in the
        /// canonical URI. The general AWS rule: `true`; S3: `false` (object keys may contain them).
        public var normalizePath: Bool
        /// Whether ``SigV4Signer/sign(_:payload:date:)`` adds an `x-amz-content-sha256` header carrying the
        /// payload hash (and signs it). S3 requires it: `true`; other services: `false`.
        public var addContentSHA256Header: Bool
        /// Whether the session token is left out of the signature and only attached to the request
        /// after signing (as a header, or a query parameter when presigning). A few services (AWS IoT)
        /// want this; everything else signs the token: `false`.
        public var omitSessionTokenFromSignature: Bool

        /// Creates options; the defaults are those of ``standard``.
        public init(
            doubleEncodePath: Bool = true,
            normalizePath: Bool = true,
            addContentSHA256Header: Bool = false,
            omitSessionTokenFromSignature: Bool = false
        ) {
            self.doubleEncodePath = doubleEncodePath
            self.normalizePath = normalizePath
            self.addContentSHA256Header = addContentSHA256Header
            self.omitSessionTokenFromSignature = omitSessionTokenFromSignature
        }

        /// The general AWS rules (DynamoDB, DynamoDB Streams, STS, …): double-encoded, normalized path;
        /// no `x-amz-content-sha256` header.
        public static let standard = Options()

        /// The S3 rules: the path as given (single encoding, no normalization) and an
        /// `x-amz-content-sha256` header.
        public static let s3 = Options(doubleEncodePath: false, normalizePath: false, addContentSHA256Header: true)
    }

    /// The name of the signing algorithm, first in the string to sign and the `Authorization` header.
    public static let algorithm = "AWS4-HMAC-SHA256"

    /// The credentials requests are signed with.
    public let credentials: AWSCredentials
    /// The region of the credential scope, e.g. `us-east-1`.
    public let region: String
    /// The service of the credential scope, e.g. `s3`, `dynamodb`, `streams.dynamodb`.
    public let service: String
    /// The service-specific rules in force.
    public let options: Options

    /// Creates a signer for one region and service.
    public init(credentials: AWSCredentials, region: String, service: String, options: Options = .standard) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.options = options
    }

    /// The `X-Amz-Date` rendering of `date`: `yyyyMMdd'T'HHmmss'Z'` in UTC, e.g. `20150830T123600Z`.
    public static func amzDate(_ date: Date) -> String {
        SigV4Date.timestamp(date)
    }

    /// The credential scope for `date`: `yyyyMMdd/region/service/aws4_request`.
    public func credentialScope(date: Date) -> String {
        "\(SigV4Date.dateStamp(date))/\(region)/\(service)/aws4_request"
    }

    /// The string to sign: the algorithm, the timestamp, the credential scope and the hex SHA-256 of
    /// the canonical request, one per line.
    public func stringToSign(canonicalRequest: String, date: Date) -> String {
        [Self.algorithm, SigV4Date.timestamp(date), credentialScope(date: date), sha256HexDigest(canonicalRequest.utf8)]
            .joined(separator: "\n")
    }

    /// The signing key for `date`: HMAC-SHA256 chained over the date stamp, region, service and
    /// `aws4_request`, starting from `"AWS4" + secret access key`.
    public func signingKey(date: Date) -> [UInt8] {
        var key = Array("AWS4\(credentials.secretAccessKey)".utf8)
        for part in [SigV4Date.dateStamp(date), region, service, "aws4_request"] {
            key = hmacSHA256(key: key, message: part)
        }
        return key
    }

    /// The signature: lowercase hex of HMAC-SHA256 of the string to sign under ``signingKey(date:)``.
    public func signature(stringToSign: String, date: Date) -> String {
        hexString(hmacSHA256(key: signingKey(date: date), message: stringToSign))
    }

    /// Signs `request` in place for the `Authorization` header scheme.
    ///
    /// Adds (replacing any earlier ones, so a request can be signed again, e.g. on retry)
    /// `X-Amz-Security-Token` when the credentials carry a token, `X-Amz-Date`, `x-amz-content-sha256`
    /// when ``Options/addContentSHA256Header`` is set, and `Authorization`. Every header of the
    /// request is signed except those in ``unsignedHeaderNames``.
    public func sign(_ request: inout SigV4Request, payload: SigV4Payload, date: Date) {
        let payloadHash = payload.payloadHash
        request.headers = headersForSigning(request.headers, payloadHash: payloadHash, date: date)
        let canonical = canonicalForm(request, canonicalQuery: Self.canonicalQuery(request.query), payloadHash: payloadHash)
        let signature = signature(stringToSign: stringToSign(canonicalRequest: canonical.request, date: date), date: date)
        request.headers.append(
            (
                name: "Authorization",
                value: "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(credentialScope(date: date)), "
                    + "SignedHeaders=\(canonical.signedHeaders), Signature=\(signature)"
            )
        )
    }

    /// `headers` as ``sign(_:payload:date:)`` sends them, without `Authorization`: earlier signing
    /// headers removed, then the token, the date and (for S3) the payload hash appended.
    func headersForSigning(
        _ headers: [(name: String, value: String)], payloadHash: String, date: Date
    ) -> [(name: String, value: String)] {
        var replaced: Set<String> = ["authorization", "x-amz-date", "x-amz-security-token"]
        if options.addContentSHA256Header { replaced.insert("x-amz-content-sha256") }
        var result = headers.filter { !replaced.contains($0.name.lowercased()) }
        if let token = credentials.sessionToken { result.append((name: "X-Amz-Security-Token", value: token)) }
        result.append((name: "X-Amz-Date", value: SigV4Date.timestamp(date)))
        if options.addContentSHA256Header { result.append((name: "x-amz-content-sha256", value: payloadHash)) }
        return result
    }
}

extension SigV4Signer: CustomStringConvertible {
    /// The scope and options of the signer; the credentials appear redacted.
    public var description: String {
        "SigV4Signer(credentials: \(credentials), region: \(region), service: \(service))"
    }
}
