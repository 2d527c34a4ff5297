import ArchiverCore
import AWSClients
import Foundation

/// The lifecycle configuration of an S3 archive's bucket: what S3 itself applies (tiers, expiry, stale uploads).
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

    /// Reads a policy file (or the default) as S3 takes it, validated both as a policy and as S3's lifecycle document.
    /// - Returns: the JSON bytes and where they came from.
    public static func policyJSON(path: String?, workingFolder: String = "") throws -> (json: [UInt8], source: String) {
        let bytes: [UInt8]
        let source: String
        if let path {
            _ = try LifecyclePolicy.load(path: path)
            bytes = try FileSystem.readFile(path)
            source = path
        } else {
            let candidate = workingFolder.isEmpty ? LifecyclePolicy.defaultPath : workingFolder + "/" + LifecyclePolicy.defaultPath
            if FileSystem.exists(candidate) {
                _ = try LifecyclePolicy.load(path: candidate)
                bytes = try FileSystem.readFile(candidate)
                source = LifecyclePolicy.defaultPath
            } else {
                bytes = Array(LifecyclePolicy.defaultJSON.utf8)
                source = "built-in default (\(LifecyclePolicy.defaultPath))"
            }
        }
        do {
            _ = try S3LifecycleConfiguration(json: bytes)
        } catch let error as S3LifecycleError {
            throw LifecycleBucketError("\(source): \(error)")
        }
        return (bytes, source)
    }

    /// How many rules the bucket has now (0 when none).
    public func currentRuleCount() async throws -> Int {
        do {
            return try await client.getBucketLifecycleConfiguration(bucket: bucket)?.rules.count ?? 0
        } catch {
            throw LifecycleBucketError("\(error)")
        }
    }

    /// Replaces the bucket's whole lifecycle configuration with `json` (PutBucketLifecycleConfiguration).
    public func apply(json: [UInt8]) async throws {
        let configuration: S3LifecycleConfiguration
        do {
            configuration = try S3LifecycleConfiguration(json: json)
        } catch {
            throw LifecycleBucketError("\(error)")
        }
        do {
            try await client.putBucketLifecycleConfiguration(bucket: bucket, configuration: configuration)
        } catch {
            throw LifecycleBucketError("\(error)")
        }
    }

    /// The bucket's lifecycle configuration as JSON (`{"Rules": [...]}`), or nil when it has none.
    public func show() async throws -> [UInt8]? {
        do {
            return try await client.getBucketLifecycleConfiguration(bucket: bucket)?.json()
        } catch {
            throw LifecycleBucketError("\(error)")
        }
    }
}

/// A bucket lifecycle operation that failed; says why (never a credential).
public struct LifecycleBucketError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
