import Foundation

/// The charge S3 makes for deleting an object before its storage class's minimum storage duration: the remaining
/// days are billed as if stored. Estimated from the class, the size and the age (us-east-1 list prices per
/// GB-month; a bucket elsewhere differs by a few percent). Standard and Intelligent-Tiering have no minimum here.
public enum EarlyDeletion {
    /// (minimum days, US dollars per GB-month) by storage class.
    public static let minimums: [String: (days: Double, pricePerGBMonth: Double)] = [
        "STANDARD_IA": (30, 0.0125),
        "ONEZONE_IA": (30, 0.01),
        "GLACIER_IR": (90, 0.004),
        "GLACIER": (90, 0.0036),
        "DEEP_ARCHIVE": (180, 0.00099),
    ]

    /// The estimated charge (US dollars) for deleting `size` bytes of `storageClass` stored since `since`, at `now`;
    /// 0 when the minimum has passed or the class has none.
    public static func charge(storageClass: String?, size: Int64, since: Date, now: Date) -> Double {
        guard let storageClass, let minimum = minimums[storageClass] else { return 0 }
        let ageDays = max(0, now.timeIntervalSince(since) / 86_400)
        let remaining = max(0, minimum.days - ageDays)
        return Double(size) / 1_073_741_824 * minimum.pricePerGBMonth * remaining / 30
    }
}
