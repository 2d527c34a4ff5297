/// An S3 storage class, as sent in `x-amz-storage-class` and returned in listings (`STANDARD_IA`, `DEEP_ARCHIVE`, …).
///
/// Any name S3 may add later can be written as a string literal; the constants are the classes S3 documents today.
public struct S3StorageClass: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The name S3 uses, e.g. "GLACIER".
    public let rawValue: String

    /// A storage class by its S3 name.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// A storage class by its S3 name.
    public init(stringLiteral value: String) { self.rawValue = value }

    /// S3 Standard, the default.
    public static let standard = S3StorageClass(rawValue: "STANDARD")
    /// S3 Standard-Infrequent Access (30-day minimum).
    public static let standardIA = S3StorageClass(rawValue: "STANDARD_IA")
    /// S3 One Zone-Infrequent Access (30-day minimum).
    public static let onezoneIA = S3StorageClass(rawValue: "ONEZONE_IA")
    /// S3 Intelligent-Tiering.
    public static let intelligentTiering = S3StorageClass(rawValue: "INTELLIGENT_TIERING")
    /// S3 Glacier Instant Retrieval (90-day minimum).
    public static let glacierInstantRetrieval = S3StorageClass(rawValue: "GLACIER_IR")
    /// S3 Glacier Flexible Retrieval (90-day minimum); objects must be restored before they are read.
    public static let glacier = S3StorageClass(rawValue: "GLACIER")
    /// S3 Glacier Deep Archive (180-day minimum); objects must be restored before they are read.
    public static let deepArchive = S3StorageClass(rawValue: "DEEP_ARCHIVE")
    /// Reduced Redundancy (deprecated).
    public static let reducedRedundancy = S3StorageClass(rawValue: "REDUCED_REDUNDANCY")
    /// S3 Express One Zone (directory buckets).
    public static let expressOnezone = S3StorageClass(rawValue: "EXPRESS_ONEZONE")

    /// Whether objects of this class must be restored before a GET can read them (GLACIER, DEEP_ARCHIVE).
    /// They can still be listed and deleted at once, without a restore.
    public var needsRestoreToRead: Bool { self == .glacier || self == .deepArchive }

    public var description: String { rawValue }

    /// The header value, or an error naming the class when it cannot be a storage class name.
    func headerValue(_ operation: String, bucket: String, key: String?) throws -> String {
        let valid = !rawValue.isEmpty && rawValue.utf8.allSatisfy {
            ($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "_")
        }
        guard valid else {
            throw AWSError.invalidRequest(
                .s3, operation: operation,
                reason: "'\(rawValue)' is not a storage class name; use an upper-case S3 name such as STANDARD_IA, GLACIER or DEEP_ARCHIVE",
                resource: AWSResource(bucket: bucket, key: key))
        }
        return rawValue
    }
}
