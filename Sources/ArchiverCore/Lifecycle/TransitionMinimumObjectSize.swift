/// Which small objects S3 lifecycle declines to move: the bucket's `TransitionDefaultMinimumObjectSize`
/// (`aws s3api put-bucket-lifecycle-configuration --transition-default-minimum-object-size …`).
///
/// Since September 2024 S3 applies `all_storage_classes_128K` unless told otherwise: an object smaller than
/// 128 KB is never transitioned, however old. A gzipped deleted record is usually a few hundred bytes, so
/// under the default policy almost every archive object stays in S3 Standard until it expires — which is
/// also the cheaper place for it (Standard-IA bills every object as at least 128 KB; Glacier adds about
/// 40 KB of overhead per object, and each transition is a billed request). A rule with an
/// `ObjectSizeGreaterThan` or `ObjectSizeLessThan` filter replaces this default for its own objects.
public enum TransitionMinimumObjectSize: String, Codable, Sendable, CaseIterable {
    /// Objects under 128 KB move to no storage class (S3's default).
    case allStorageClasses128K = "all_storage_classes_128K"
    /// Objects under 128 KB move to GLACIER and DEEP_ARCHIVE only.
    case variesByStorageClass = "varies_by_storage_class"

    /// 128 KB, in bytes (S3 counts a KB as 1024 bytes).
    public static let smallObjectLimit: Int64 = 128 * 1024

    /// Whether S3 moves an object of `size` bytes to `storageClass` under this setting.
    public func allows(size: Int64, into storageClass: StorageClass) -> Bool {
        if size >= Self.smallObjectLimit { return true }
        switch self {
        case .allStorageClasses128K: return false
        case .variesByStorageClass: return storageClass.takesSmallObjects
        }
    }
}
