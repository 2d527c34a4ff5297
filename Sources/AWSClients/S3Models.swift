import Foundation

/// Server-side encryption asked for when writing an S3 object.
public enum S3ServerSideEncryption: Sendable, Equatable, CustomStringConvertible {
    /// SSE-S3: `x-amz-server-side-encryption: AES256`.
    case aes256
    /// SSE-KMS: `aws:kms`, with the bucket's or account's default key when `keyID` is nil.
    case kms(keyID: String?)

    /// Parses `AES256`, `aws:kms` or `aws:kms:<key id or ARN>`.
    public init?(_ text: String) {
        if text.caseInsensitiveCompare("AES256") == .orderedSame {
            self = .aes256
        } else if text == "aws:kms" {
            self = .kms(keyID: nil)
        } else if text.hasPrefix("aws:kms:") {
            self = .kms(keyID: String(text.dropFirst("aws:kms:".count)))
        } else {
            return nil
        }
    }

    /// The request headers that ask for this encryption.
    var headers: [(name: String, value: String)] {
        switch self {
        case .aes256:
            return [("x-amz-server-side-encryption", "AES256")]
        case .kms(let keyID):
            var headers = [(name: "x-amz-server-side-encryption", value: "aws:kms")]
            if let keyID { headers.append(("x-amz-server-side-encryption-aws-kms-key-id", keyID)) }
            return headers
        }
    }

    public var description: String {
        switch self {
        case .aes256: "AES256"
        case .kms(let keyID): keyID.map { "aws:kms:\($0)" } ?? "aws:kms"
        }
    }
}

/// The answer to a successful object write.
public struct S3PutObjectResult: Sendable, Equatable {
    /// The entity tag as S3 returned it (with its quotes).
    public var etag: String?
    /// The version ID, in a versioned bucket.
    public var versionID: String?
}

/// What HEAD tells about an object.
public struct S3ObjectHead: Sendable, Equatable {
    /// The size in bytes.
    public var size: Int64
    /// The entity tag as S3 returned it (with its quotes).
    public var etag: String?
    /// When the object was last written.
    public var lastModified: Date?
    /// `Content-Type`.
    public var contentType: String?
    /// `Content-Encoding`.
    public var contentEncoding: String?
    /// User metadata (`x-amz-meta-*`), by lower-cased name without the prefix.
    public var metadata: [String: String]
    /// `x-amz-server-side-encryption`, e.g. "AES256" or "aws:kms".
    public var serverSideEncryption: String?
    /// `x-amz-server-side-encryption-aws-kms-key-id`: the KMS key of an SSE-KMS object.
    public var serverSideEncryptionKMSKeyID: String? = nil
    /// The storage class, when not STANDARD.
    public var storageClass: String?
    /// The version ID, in a versioned bucket.
    public var versionID: String?
}

/// One object in a listing.
public struct S3ObjectSummary: Sendable, Equatable {
    /// The key.
    public var key: String
    /// The size in bytes.
    public var size: Int64
    /// The entity tag as S3 returned it (with its quotes).
    public var etag: String?
    /// When the object was last written.
    public var lastModified: Date?
    /// The storage class.
    public var storageClass: String?
}

/// One page of a ListObjectsV2 listing.
public struct S3ListObjectsPage: Sendable, Equatable {
    /// The objects of this page, in key order.
    public var objects: [S3ObjectSummary]
    /// The common prefixes (folders) when a delimiter was given.
    public var commonPrefixes: [String]
    /// Whether more pages follow.
    public var isTruncated: Bool
    /// The token for the next page; nil on the last page.
    public var nextContinuationToken: String?
}

/// A key (or one version of it) that DeleteObjects could not delete.
public struct S3DeleteObjectError: Sendable, Equatable, CustomStringConvertible {
    /// The key.
    public var key: String
    /// The S3 error code, e.g. "AccessDenied".
    public var code: String
    /// The S3 message.
    public var message: String
    /// The version asked for, when one was.
    public var versionID: String? = nil
    /// The request ID of the DeleteObjects call that reported the error.
    public var requestID: String? = nil

    /// The object to send again, when a retry may help.
    public var object: S3ObjectIdentifier { S3ObjectIdentifier(key: key, versionID: versionID) }

    public var description: String { "\(key)\(versionID.map { " (version \($0))" } ?? ""): \(code): \(message)" }
}

/// The outcome of deleting many keys.
public struct S3DeleteObjectsResult: Sendable, Equatable {
    /// How many keys (or versions) were asked to be deleted.
    public var requested: Int
    /// The keys that could not be deleted.
    public var errors: [S3DeleteObjectError]
    /// What was deleted; empty in quiet mode, where S3 reports only errors (servers that ignore quiet mode list it anyway).
    public var deleted: [S3DeletedObject] = []
    /// The request ID of each DeleteObjects call made, in order.
    public var requestIDs: [String] = []

    /// The objects that could not be deleted, to send again.
    public var failedObjects: [S3ObjectIdentifier] { errors.map(\.object) }
}

/// A part uploaded to a multipart upload.
public struct S3CompletedPart: Sendable, Equatable {
    /// The part number, 1 … 10000.
    public var partNumber: Int
    /// The part's entity tag as S3 returned it.
    public var etag: String

    /// Creates a part record.
    public init(partNumber: Int, etag: String) {
        self.partNumber = partNumber
        self.etag = etag
    }
}

/// A multipart upload in progress.
public struct S3MultipartUpload: Sendable, Equatable {
    /// The object key.
    public var key: String
    /// The upload ID.
    public var uploadID: String
    /// When the upload was started.
    public var initiated: Date?
    /// The storage class the object will have.
    public var storageClass: String? = nil
}
