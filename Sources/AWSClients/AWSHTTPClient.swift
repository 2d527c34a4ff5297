import AWSSigV4
import Crypto
import Foundation
import JSONToolkit
import Logging

/// Sends signed AWS requests and retries them according to a ``RetryPolicy``.
///
/// Each attempt is signed afresh (new date) and sent through the ``HTTPTransport``. Error answers are decoded
/// (S3/IAM XML `<Error><Code>`, JSON `__type`) into ``AWSError``; retryable ones are retried after a jittered
/// backoff, through the injected ``sleep`` so tests need not wait. Logs carry `aws.service`, `aws.operation`,
/// `http.status`, `retry.attempt` and the request's own metadata; never headers or credentials.
///
/// Like the AWS SDKs, every attempt carries `amz-sdk-invocation-id` (one id per call, the same on each of its
/// retries) and `amz-sdk-request: attempt=N; max=M`, unsigned, so a proxy or server log can tell retries apart.
public struct AWSHTTPClient: Sendable {
    /// Waits for a duration (injected so retry tests are instant).
    public typealias Sleeper = @Sendable (Duration) async throws -> Void

    /// The credentials that sign every request.
    public var credentials: AWSCredentials
    /// The region in the signature scope.
    public var region: String
    /// What sends the bytes.
    public var transport: any HTTPTransport
    /// When to retry and how long to wait.
    public var retryPolicy: RetryPolicy
    /// Where to log.
    public var logger: Logger
    /// How to wait between attempts.
    public var sleep: Sleeper
    /// The clock for signature dates.
    public var now: @Sendable () -> Date

    /// Creates a client.
    public init(
        credentials: AWSCredentials,
        region: String,
        transport: any HTTPTransport = NIOHTTPTransport.shared(),
        retryPolicy: RetryPolicy = .standard,
        logger: Logger = Logger(label: "archiver.aws"),
        sleep: @escaping Sleeper = { try await Task.sleep(for: $0) },
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.credentials = credentials
        self.region = region
        self.transport = transport
        self.retryPolicy = retryPolicy
        self.logger = logger
        self.sleep = sleep
        self.now = now
    }

    /// Creates a client from resolved settings.
    public init(settings: AWSSettings, transport: any HTTPTransport = NIOHTTPTransport.shared(), retryPolicy: RetryPolicy = .standard, logger: Logger = Logger(label: "archiver.aws")) {
        self.init(credentials: settings.credentials, region: settings.region, transport: transport, retryPolicy: retryPolicy, logger: logger)
    }

    /// Sends the request, retrying as the policy allows, and returns the successful (2xx) response.
    /// - Throws: ``AWSError`` for error answers, transport failures once retries run out, and cancellation.
    public func send(_ request: AWSRequest) async throws -> HTTPResponse {
        let url = try request.url()
        let payload: SigV4Payload
        switch request.payloadSigning {
        case .hashBody: payload = .sha256Hex(Self.hex(SHA256.hash(data: request.body)))
        case .precomputed(let hash): payload = .sha256Hex(hash)
        case .unsigned: payload = .unsigned
        }
        var metadata = request.logMetadata
        metadata["aws.service"] = "\(request.service)"
        metadata["aws.operation"] = "\(request.operation)"
        var generator = SystemRandomNumberGenerator()
        let invocationID = UUID().uuidString.lowercased()
        var attempt = 0
        while true {
            attempt += 1
            try Task.checkCancellation()
            let outcome = try await attemptOnce(request, url: url, payload: payload, attempt: attempt, invocationID: invocationID)
            guard case .failure(let failure, let retryable) = outcome else {
                guard case .success(let response) = outcome else { continue }
                logger.debug("AWS request succeeded", metadata: metadata.merging(["http.status": "\(response.status)", "retry.attempt": "\(attempt)"]) { $1 })
                return response
            }
            var meta = metadata
            meta["retry.attempt"] = "\(attempt)"
            if let status = failure.statusCode { meta["http.status"] = "\(status)" }
            if let code = failure.code { meta["aws.error_code"] = "\(code)" }
            guard retryable, attempt < retryPolicy.maxAttempts else {
                logger.debug("AWS request failed", metadata: meta)
                throw failure.with(attempts: attempt)
            }
            let delay = retryPolicy.delay(afterAttempt: attempt, using: &generator)
            meta["retry.delay_ms"] = "\(Int(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000))"
            meta["error"] = "\(failure.code ?? failure.message ?? "")"
            logger.notice("AWS request failed, retrying", metadata: meta)
            try await sleep(delay)
        }
    }

    /// What one attempt gave: a response, or a failure and whether it may be retried.
    enum Attempt {
        case success(HTTPResponse)
        case failure(AWSError, retryable: Bool)
    }

    /// Sends the request once.
    func attemptOnce(_ request: AWSRequest, url: URL, payload: SigV4Payload, attempt: Int, invocationID: String) async throws -> Attempt {
        // (Written with a Result rather than a do/catch around a deferred `let`: the optimizer of
        // Swift 6.3 crashes on that shape here.)
        var wire = signed(request, url: url, payload: payload)
        // Added after signing, as the SDKs do: they differ between attempts and are no part of the signature.
        wire.headers.append(("amz-sdk-invocation-id", invocationID))
        wire.headers.append(("amz-sdk-request", "attempt=\(attempt); max=\(retryPolicy.maxAttempts)"))
        let sent = await sendCatching(wire)
        guard case .success(let response) = sent else {
            guard case .failure(let thrown) = sent, let error = thrown as? HTTPTransportError else {
                if case .failure(let other) = sent { throw other }
                throw CancellationError()
            }
            if error.kind == .cancelled { throw CancellationError() }
            let failure = AWSError.transport(request.service, operation: request.operation, reason: error.reason, attempts: attempt, resource: request.resource)
            return .failure(failure, retryable: error.isRetryable)
        }
        guard let error = checkedFailure(response, request: request, attempt: attempt) else { return .success(response) }
        let retryable = error.kind == .transport || (error.statusCode.map { retryPolicy.isRetryable(status: $0, code: error.code) } ?? false)
        return .failure(error, retryable: retryable)
    }

    /// The transport's answer or what it threw.
    private func sendCatching(_ request: HTTPRequest) async -> Result<HTTPResponse, any Error> {
        do {
            return .success(try await transport.send(request))
        } catch {
            return .failure(error)
        }
    }

    /// The request with Host, date, token, content hash and Authorization added.
    func signed(_ request: AWSRequest, url: URL, payload: SigV4Payload) -> HTTPRequest {
        var sigRequest = SigV4Request(
            method: request.method, path: request.wirePath, query: request.query,
            headers: [("Host", AWSRequest.hostHeader(for: url))] + request.headers.filter { $0.name.lowercased() != "host" })
        let signer = SigV4Signer(
            credentials: credentials, region: region, service: request.service.signingName,
            options: request.service == .s3 ? .s3 : .standard)
        signer.sign(&sigRequest, payload: payload, date: now())
        return HTTPRequest(method: request.method, url: url, headers: sigRequest.headers, body: request.body)
    }

    /// The failure a response stands for, or `nil` when it is a success.
    private func checkedFailure(_ response: HTTPResponse, request: AWSRequest, attempt: Int) -> AWSError? {
        let requestID = response.header("x-amz-request-id") ?? response.header("x-amzn-requestid")
        if (200..<300).contains(response.status) {
            if request.method != "HEAD", response.status != 204, let lengthText = response.header("content-length"),
                let expected = Int(lengthText.trimmingCharacters(in: .whitespaces)), expected != response.body.count,
                (response.header("content-encoding") ?? "identity").lowercased() == "identity"
            {
                return .truncated(request.service, operation: request.operation, expected: expected, received: response.body.count, attempts: attempt, resource: request.resource)
            }
            if request.errorMayHideInSuccess, let hidden = AWSErrorBody.xmlError(response.body), hidden.isError {
                return .service(
                    request.service, operation: request.operation, status: response.status, code: hidden.code ?? "InternalError",
                    message: redacted(hidden.message), attempts: attempt, requestID: hidden.requestID ?? requestID, resource: request.resource)
            }
            return nil
        }
        let decoded: AWSErrorBody
        switch request.service {
        case .s3, .iam: decoded = AWSErrorBody.xmlError(response.body) ?? AWSErrorBody()
        case .dynamoDB, .dynamoDBStreams, .sqs, .eventBridge:
            // JSON as a rule; some front ends (and emulators) answer authentication failures in XML.
            decoded = response.body.first == UInt8(ascii: "<")
                ? (AWSErrorBody.xmlError(response.body) ?? AWSErrorBody())
                : AWSErrorBody.jsonError(response.body, typeHeader: response.header("x-amzn-errortype"))
        }
        var message = decoded.message
        if (300..<400).contains(response.status) {
            // S3 answers a request sent to the wrong region with a redirect naming the bucket's region.
            if let region = response.header("x-amz-bucket-region"), region != self.region {
                message = "the bucket is in region \(region), not \(self.region); set AWS_REGION=\(region)"
            } else {
                let target = response.header("location").map { " to \($0)" } ?? ""
                message = "the request was redirected\(target); check the region and endpoint" + (message.map { " (\($0))" } ?? "")
            }
        }
        return .service(
            request.service, operation: request.operation, status: response.status, code: decoded.code,
            message: redacted(message), attempts: attempt, requestID: decoded.requestID ?? requestID, resource: request.resource)
    }

    private func redacted(_ message: String?) -> String? {
        guard var message else { return nil }
        for secret in [credentials.secretAccessKey, credentials.sessionToken ?? ""] where secret.count >= 4 {
            message = message.replacingOccurrences(of: secret, with: "<redacted>")
        }
        return message
    }

    static func hex(_ digest: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The code, message and request ID of an AWS error body.
struct AWSErrorBody: Sendable {
    var code: String?
    var message: String?
    var requestID: String?
    var isError = false

    /// An XML error: `<Error><Code>…</Code><Message>…</Message></Error>` (S3) or `<ErrorResponse><Error>…` (query APIs).
    static func xmlError(_ body: [UInt8]) -> AWSErrorBody? {
        guard !body.isEmpty, let root = try? XMLTree.parse(body) else { return nil }
        let error = root.name == "Error" ? root : (root.child("Error") ?? root.child("Errors")?.child("Error"))
        guard let error else { return nil }
        return AWSErrorBody(
            code: error.string("Code"), message: error.string("Message"),
            requestID: error.string("RequestId") ?? root.string("RequestId"), isError: true)
    }

    /// A JSON 1.0 error: `{"__type": "com.amazonaws.dynamodb.v20120810#Code", "message": "…"}`.
    static func jsonError(_ body: [UInt8], typeHeader: String?) -> AWSErrorBody {
        var result = AWSErrorBody()
        if let object = try? JSONValue.parse(body) {
            result.code = object["__type"]?.stringValue ?? object["code"]?.stringValue
            result.message = object["message"]?.stringValue ?? object["Message"]?.stringValue
        }
        if result.code == nil { result.code = typeHeader }
        if let code = result.code {
            // "prefix#Code" and "Code:extra" forms.
            var short = Substring(code)
            if let hash = short.lastIndex(of: "#") { short = short[short.index(after: hash)...] }
            if let colon = short.firstIndex(of: ":") { short = short[..<colon] }
            result.code = String(short)
        }
        result.isError = result.code != nil
        return result
    }
}
