import AWSClients
import ArchiverCore

/// The lifecycle configuration of an S3 archive's bucket: what S3 itself applies (tiers, expiry, stale uploads).
///
/// The policy is `LifecyclePolicy`, read and validated by the core; this adds only the XML S3 speaks
/// (`BucketLifecycleXML`).
public struct BucketLifecycle: Sendable {
    /// The bucket.
    public let bucket: String
    /// The archive's prefix in the bucket ("" or ending in `/`).
    public let prefix: String
    let client: S3Client

    /// For the bucket of an `s3://` location, through `client`.
    public init(location: ArchiveLocation, client: S3Client) throws {
        guard case .s3(let bucket, let prefix) = location else {
            throw ArchiveLocationError("'\(location)' is not an S3 archive; bucket lifecycle rules need s3://bucket")
        }
        self.bucket = bucket
        self.prefix = prefix
        self.client = client
    }

    /// The bucket's lifecycle configuration (GetBucketLifecycleConfiguration), or nil when it has none. Not
    /// validated: the bucket may hold rules archiver would refuse.
    public func configuration() async throws -> LifecyclePolicy? {
        let xml: [UInt8]?
        do {
            xml = try await client.getBucketLifecycleConfiguration(bucket: bucket)
        } catch {
            throw LifecycleBucketError("\(error)")
        }
        guard let xml else { return nil }
        do {
            return try BucketLifecycleXML.policy(xml)
        } catch {
            let invalid = AWSError.invalidResponse(
                .s3, operation: "GetBucketLifecycleConfiguration", reason: "\(error)", resource: AWSResource(bucket: bucket))
            throw LifecycleBucketError("\(invalid)")
        }
    }

    /// How many rules the bucket has now (0 when none).
    public func currentRuleCount() async throws -> Int {
        try await configuration()?.rules.count ?? 0
    }

    /// Replaces the bucket's whole lifecycle configuration with `policy` (PutBucketLifecycleConfiguration).
    /// - Throws: `LifecyclePolicyError` when the policy is not valid; `LifecycleBucketError` when S3 refuses it.
    public func apply(_ policy: LifecyclePolicy) async throws {
        try policy.validate()
        do {
            try await client.putBucketLifecycleConfiguration(bucket: bucket, xml: BucketLifecycleXML.xml(policy))
        } catch {
            throw LifecycleBucketError("\(error)")
        }
    }

    /// The bucket's lifecycle configuration as the aws CLI prints it (`LifecyclePolicy.json()`), or nil when it has none.
    public func show() async throws -> [UInt8]? {
        try await configuration()?.json()
    }
}

/// A bucket lifecycle operation that failed; says why (never a credential).
public struct LifecycleBucketError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
