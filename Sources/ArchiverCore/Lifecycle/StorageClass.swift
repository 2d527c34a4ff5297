import Foundation

/// An S3 storage class, as lifecycle rules name them.
///
/// Objects start in `STANDARD`; lifecycle transitions only go down this list (S3's "waterfall"):
/// STANDARD → STANDARD_IA → INTELLIGENT_TIERING → ONEZONE_IA → GLACIER_IR → GLACIER → DEEP_ARCHIVE.
public enum StorageClass: String, Codable, Sendable, CaseIterable, Comparable {
    case standard = "STANDARD"
    case standardIA = "STANDARD_IA"
    case intelligentTiering = "INTELLIGENT_TIERING"
    case oneZoneIA = "ONEZONE_IA"
    case glacierIR = "GLACIER_IR"
    case glacier = "GLACIER"
    case deepArchive = "DEEP_ARCHIVE"

    /// The classes a lifecycle rule can move objects to (everything but STANDARD).
    public static let transitionTargets: [StorageClass] = allCases.filter { $0 != .standard }

    /// The position in the waterfall: a transition goes only to a larger rank.
    public var rank: Int { Self.allCases.firstIndex(of: self)! }

    public static func < (lhs: StorageClass, rhs: StorageClass) -> Bool { lhs.rank < rhs.rank }

    /// The infrequent-access classes: S3 moves nothing into them before 30 days, and keeps objects in
    /// them at least 30 days before a later transition.
    public var isInfrequentAccess: Bool { self == .standardIA || self == .oneZoneIA }

    /// The Glacier classes S3 moves objects under 128 KB into when the bucket's
    /// `TransitionDefaultMinimumObjectSize` is `varies_by_storage_class`.
    public var takesSmallObjects: Bool { self == .glacier || self == .deepArchive }

    /// What people call it.
    public var displayName: String {
        switch self {
        case .standard: "S3 Standard"
        case .standardIA: "S3 Standard-IA"
        case .intelligentTiering: "S3 Intelligent-Tiering"
        case .oneZoneIA: "S3 One Zone-IA"
        case .glacierIR: "S3 Glacier Instant Retrieval"
        case .glacier: "S3 Glacier Flexible Retrieval"
        case .deepArchive: "S3 Glacier Deep Archive"
        }
    }

    /// Reads a storage class name, saying which names there are when it is not one.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let storageClass = StorageClass(rawValue: text) else {
            var fix = "use one of " + Self.transitionTargets.map(\.rawValue).joined(separator: ", ")
            if let close = Self.allCases.first(where: { $0.rawValue == text.uppercased().replacingOccurrences(of: "-", with: "_") }) {
                fix = "write \"\(close.rawValue)\" (S3 storage class names are upper case with underscores)"
            }
            throw LifecyclePolicyError.invalid(at: policyPath(decoder.codingPath), "unknown storage class \"\(text)\"", fix: fix)
        }
        self = storageClass
    }

    /// Why a transition cannot go to STANDARD, or nil.
    static func notATarget(_ storageClass: StorageClass, at location: String) -> LifecyclePolicyError? {
        guard storageClass == .standard else { return nil }
        return LifecyclePolicyError.invalid(
            at: location, "a transition to STANDARD", fix: "objects start in STANDARD; a transition names where they go next: use one of "
                + transitionTargets.map(\.rawValue).joined(separator: ", "))
    }
}
