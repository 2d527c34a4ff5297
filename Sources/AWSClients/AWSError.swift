/// A failed AWS call: the service and operation, what went wrong (an AWS error code and message with its
/// HTTP status, or a transport failure), and how many attempts were made.
///
/// Match the cases that callers handle through ``kind``:
/// ```swift
/// catch let error as AWSError where error.kind == .conditionalCheckFailed { … }
/// ```
/// The description is one sentence, e.g.
/// `S3 PutObject failed: NoSuchBucket: the bucket 'x' does not exist (HTTP 404)`. It never contains credentials.
public struct AWSError: Error, Sendable, CustomStringConvertible {
    private enum Failure: Sendable {
        /// AWS answered with an error.
        case service(status: Int, code: String?, message: String?)
        /// No usable HTTP response: connection failure, timeout.
        case transport(String)
        /// The response body was shorter or longer than its Content-Length.
        case truncated(expected: Int, received: Int)
        /// A successful response that could not be understood.
        case invalidResponse(String)
        /// The request was refused before sending (e.g. an invalid argument).
        case invalidRequest(String)
    }

    /// What kind of failure this is, for matching in code.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case notFound, noSuchBucket, noSuchUpload, conditionalCheckFailed, expiredIterator, trimmedDataAccess, queueDoesNotExist
            case resourceNotFound, resourceInUse, throttled, invalidCredentials, accessDenied
            case service, transport, invalidResponse, invalidRequest
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// S3: the object does not exist (`NoSuchKey`, or 404 to a HEAD).
        public static let notFound = Kind(.notFound)
        /// S3: the bucket does not exist (`NoSuchBucket`).
        public static let noSuchBucket = Kind(.noSuchBucket)
        /// S3: the multipart upload does not exist (`NoSuchUpload`).
        public static let noSuchUpload = Kind(.noSuchUpload)
        /// DynamoDB: a condition expression was false (`ConditionalCheckFailedException`).
        public static let conditionalCheckFailed = Kind(.conditionalCheckFailed)
        /// DynamoDB Streams: the shard iterator has expired (`ExpiredIteratorException`); get a new one.
        public static let expiredIterator = Kind(.expiredIterator)
        /// DynamoDB Streams: the records asked for are past the 24 h retention (`TrimmedDataAccessException`).
        public static let trimmedDataAccess = Kind(.trimmedDataAccess)
        /// SQS: the queue does not exist (`QueueDoesNotExist`, `AWS.SimpleQueueService.NonExistentQueue`).
        public static let queueDoesNotExist = Kind(.queueDoesNotExist)
        /// DynamoDB / Streams / EventBridge: the table, index, stream, event bus or rule does not exist (`ResourceNotFoundException`).
        public static let resourceNotFound = Kind(.resourceNotFound)
        /// DynamoDB: the table is being created, updated or deleted (`ResourceInUseException`).
        public static let resourceInUse = Kind(.resourceInUse)
        /// The service throttled the request and retries ran out.
        public static let throttled = Kind(.throttled)
        /// The credentials were refused: wrong secret, unknown access key, expired token.
        public static let invalidCredentials = Kind(.invalidCredentials)
        /// The credentials are valid but not allowed to do this.
        public static let accessDenied = Kind(.accessDenied)
        /// Any other error answered by the service.
        public static let service = Kind(.service)
        /// No usable response: the connection failed, timed out, or the body was cut short.
        public static let transport = Kind(.transport)
        /// A successful response that could not be understood.
        public static let invalidResponse = Kind(.invalidResponse)
        /// The request was refused before sending because an argument is invalid.
        public static let invalidRequest = Kind(.invalidRequest)

        public var description: String { base.rawValue }
    }

    private let failure: Failure
    /// The service called.
    public let service: AWSService
    /// The operation called, e.g. "PutObject".
    public let operation: String
    /// How many attempts were made before giving up (1 when the error was not retryable).
    public let attempts: Int
    /// The request ID AWS gave, when known.
    public let requestID: String?
    /// What the call was about, for messages: e.g. `bucket 'b'`, `s3://b/k`, `table 't'`.
    public let resource: AWSResource?

    private init(failure: Failure, service: AWSService, operation: String, attempts: Int, requestID: String?, resource: AWSResource?) {
        self.failure = failure
        self.service = service
        self.operation = operation
        self.attempts = attempts
        self.requestID = requestID
        self.resource = resource
    }

    /// An error answered by the service.
    public static func service(
        _ service: AWSService, operation: String, status: Int, code: String?, message: String?,
        attempts: Int = 1, requestID: String? = nil, resource: AWSResource? = nil
    ) -> AWSError {
        AWSError(
            failure: .service(status: status, code: code, message: message), service: service, operation: operation,
            attempts: attempts, requestID: requestID, resource: resource)
    }

    /// A failure to get any usable response.
    public static func transport(
        _ service: AWSService, operation: String, reason: String, attempts: Int = 1, resource: AWSResource? = nil
    ) -> AWSError {
        AWSError(failure: .transport(reason), service: service, operation: operation, attempts: attempts, requestID: nil, resource: resource)
    }

    /// A response body whose length does not match its Content-Length.
    public static func truncated(
        _ service: AWSService, operation: String, expected: Int, received: Int, attempts: Int = 1, resource: AWSResource? = nil
    ) -> AWSError {
        AWSError(
            failure: .truncated(expected: expected, received: received), service: service, operation: operation,
            attempts: attempts, requestID: nil, resource: resource)
    }

    /// A successful response that could not be understood.
    public static func invalidResponse(
        _ service: AWSService, operation: String, reason: String, requestID: String? = nil, resource: AWSResource? = nil
    ) -> AWSError {
        AWSError(failure: .invalidResponse(reason), service: service, operation: operation, attempts: 1, requestID: requestID, resource: resource)
    }

    /// A request refused before sending.
    public static func invalidRequest(_ service: AWSService, operation: String, reason: String, resource: AWSResource? = nil) -> AWSError {
        AWSError(failure: .invalidRequest(reason), service: service, operation: operation, attempts: 0, requestID: nil, resource: resource)
    }

    /// The same error with another attempt count.
    func with(attempts: Int) -> AWSError {
        AWSError(failure: failure, service: service, operation: operation, attempts: attempts, requestID: requestID, resource: resource)
    }

    /// The HTTP status of the error response, if there was one.
    // `@inline(never)` on these accessors: inlined into async callers, they crash Swift 6.3's optimizer
    // (an ownership-verifier failure in CopyPropagation).
    public var statusCode: Int? {
        @inline(never) get {
            switch failure {
            case .service(let status, _, _): return status
            default: return nil
            }
        }
    }

    /// The AWS error code, e.g. "NoSuchBucket" or "ConditionalCheckFailedException".
    public var code: String? {
        @inline(never) get {
            switch failure {
            case .service(_, let code, _): return code
            default: return nil
            }
        }
    }

    /// The message AWS gave with the error (or the reason of a local failure).
    public var message: String? {
        switch failure {
        case .service(_, _, let message): message
        case .transport(let reason), .invalidResponse(let reason), .invalidRequest(let reason): reason
        case .truncated(let expected, let received): "response body has \(received) bytes, Content-Length said \(expected)"
        }
    }

    /// What kind of failure this is.
    public var kind: Kind {
        @inline(never) get { computedKind }
    }

    private var computedKind: Kind {
        switch failure {
        case .transport, .truncated: return .transport
        case .invalidResponse: return .invalidResponse
        case .invalidRequest: return .invalidRequest
        case .service(let status, let code, _):
            switch code {
            case "NoSuchKey": return .notFound
            case "NoSuchBucket": return .noSuchBucket
            case "NoSuchUpload": return .noSuchUpload
            case "ConditionalCheckFailedException": return .conditionalCheckFailed
            case "ExpiredIteratorException": return .expiredIterator
            case "TrimmedDataAccessException": return .trimmedDataAccess
            case "ResourceNotFoundException": return .resourceNotFound
            case "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue": return .queueDoesNotExist
            case "ResourceInUseException": return .resourceInUse
            case let code? where RetryPolicy.throttlingErrorCodes.contains(code): return .throttled
            case let code? where Self.credentialErrorCodes.contains(code): return .invalidCredentials
            case "AccessDenied", "AccessDeniedException", "AllAccessDisabled": return .accessDenied
            case "NotFound" where service == .s3, nil where service == .s3 && status == 404: return .notFound
            case "Forbidden" where service == .s3, nil where service == .s3 && status == 403: return .accessDenied
            default: return status == 429 ? .throttled : .service
            }
        }
    }

    static let credentialErrorCodes: Set<String> = [
        "SignatureDoesNotMatch", "InvalidSignatureException", "InvalidAccessKeyId", "UnrecognizedClientException",
        "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired", "InvalidToken",
        "AuthFailure", "MissingAuthenticationToken", "MissingAuthenticationTokenException", "IncompleteSignature",
        "IncompleteSignatureException",
    ]

    /// A clear sentence, e.g. `S3 PutObject failed: NoSuchBucket: the bucket 'x' does not exist (HTTP 404)`.
    public var description: String {
        var text = "\(service) \(operation) failed: "
        switch failure {
        case .service(let status, let code, let message):
            if let code { text += "\(code): " }
            text += explanation(code: code, message: message, status: status)
            text += " (HTTP \(status)"
            if let requestID { text += ", request ID \(requestID)" }
            text += ")"
        case .transport(let reason):
            text += reason
            if let resource { text += " (\(resource))" }
        case .truncated(let expected, let received):
            text += "the response was cut short: \(received) of \(expected) bytes"
        case .invalidResponse(let reason):
            text += "unexpected response: \(reason)"
        case .invalidRequest(let reason):
            text += reason
        }
        if attempts > 1 { text += " after \(attempts) attempts" }
        return text
    }

    private func explanation(code: String?, message: String?, status: Int) -> String {
        let given = message.flatMap { $0.isEmpty ? nil : $0 }
        switch code {
        case "NoSuchBucket":
            if let bucket = resource?.bucket { return "the bucket '\(bucket)' does not exist" }
        case "NoSuchKey":
            if let bucket = resource?.bucket, let key = resource?.key { return "no object '\(key)' in bucket '\(bucket)'" }
        case nil, "NotFound":
            if service == .s3, status == 404 {
                if let bucket = resource?.bucket, let key = resource?.key { return "no object '\(key)' in bucket '\(bucket)'" }
                if given == nil { return "not found" }
            }
        case "SignatureDoesNotMatch", "InvalidSignatureException":
            return "the request signature does not match; check AWS_SECRET_ACCESS_KEY"
                + (given.map { " (\(Self.firstSentence($0)))" } ?? "")
        case "InvalidAccessKeyId", "UnrecognizedClientException", "InvalidClientTokenId":
            return "the access key ID is not known; check AWS_ACCESS_KEY_ID" + (given.map { " (\(Self.firstSentence($0)))" } ?? "")
        case "ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired":
            return "the session token has expired; refresh the credentials (AWS_SESSION_TOKEN)"
        case "ResourceNotFoundException":
            if let table = resource?.table { return "table '\(table)' not found" + (given.map { " (\($0))" } ?? "") }
            if let stream = resource?.stream { return "stream '\(stream)' not found" + (given.map { " (\($0))" } ?? "") }
            if let bus = resource?.eventBus { return "event bus '\(bus)' or its rule not found" + (given.map { " (\($0))" } ?? "") }
        case "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue":
            if let queue = resource?.queue { return "the queue '\(queue)' does not exist" }
        case "ConditionalCheckFailedException":
            if let table = resource?.table {
                return operation == "PutItem"
                    ? "the condition was not met: the item already exists in table '\(table)'"
                    : "the condition was not met for the item in table '\(table)'"
            }
        default:
            break
        }
        if let given { return given }
        if code == nil, service == .s3, status == 403 { return "access denied" }
        return "no message"
    }

    private static func firstSentence(_ text: String) -> String {
        guard let dot = text.firstIndex(of: ".") else { return text }
        return String(text[...dot])
    }
}

/// What an AWS call was about, named in error messages.
public struct AWSResource: Sendable, Hashable, CustomStringConvertible {
    /// The S3 bucket.
    public var bucket: String?
    /// The S3 key.
    public var key: String?
    /// The DynamoDB table.
    public var table: String?
    /// The DynamoDB stream ARN.
    public var stream: String?
    /// The SQS queue: its name or URL.
    public var queue: String?
    /// The EventBridge event bus: its name or ARN.
    public var eventBus: String?

    /// Creates a resource description; every part is optional.
    public init(
        bucket: String? = nil, key: String? = nil, table: String? = nil, stream: String? = nil, queue: String? = nil, eventBus: String? = nil
    ) {
        self.bucket = bucket
        self.key = key
        self.table = table
        self.stream = stream
        self.queue = queue
        self.eventBus = eventBus
    }

    public var description: String {
        if let bucket, let key { return "s3://\(bucket)/\(key)" }
        if let bucket { return "bucket '\(bucket)'" }
        if let table { return "table '\(table)'" }
        if let stream { return "stream '\(stream)'" }
        if let queue { return "queue '\(queue)'" }
        if let eventBus { return "event bus '\(eventBus)'" }
        return "request"
    }
}
