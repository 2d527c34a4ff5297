/// A bucket's lifecycle configuration, as the `<LifecycleConfiguration>` XML document S3 takes and returns.
/// What the rules mean (and the JSON the aws CLI speaks) is the caller's business.
extension S3Client {
    /// Replaces the bucket's lifecycle rules with a `<LifecycleConfiguration>` document (PutBucketLifecycleConfiguration,
    /// with `Content-MD5`).
    public func putBucketLifecycleConfiguration(bucket: String, xml: [UInt8]) async throws {
        _ = try await send(
            "PutBucketLifecycleConfiguration", method: "PUT", bucket: bucket, query: [("lifecycle", nil)],
            headers: [("Content-Type", "application/xml"), ("Content-MD5", Self.md5Base64(xml))], body: xml)
    }

    /// The bucket's `<LifecycleConfiguration>` document as S3 returns it (GetBucketLifecycleConfiguration); nil when
    /// the bucket has none.
    public func getBucketLifecycleConfiguration(bucket: String) async throws -> [UInt8]? {
        do {
            return try await send("GetBucketLifecycleConfiguration", method: "GET", bucket: bucket, query: [("lifecycle", nil)]).body
        } catch let error as AWSError where error.code == "NoSuchLifecycleConfiguration" {
            return nil
        }
    }

    /// Removes all lifecycle rules of the bucket.
    public func deleteBucketLifecycle(bucket: String) async throws {
        _ = try await send("DeleteBucketLifecycle", method: "DELETE", bucket: bucket, query: [("lifecycle", nil)])
    }
}
