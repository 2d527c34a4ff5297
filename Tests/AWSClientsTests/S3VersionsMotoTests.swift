import AWSClients
import Foundation
import Testing
import TestSupport

@Suite("S3 versions and storage classes against moto")
struct S3VersionsMotoTests {
    @Test func versioningCanBeTurnedOnAndSuspended() async throws {
        let f = try await S3Fixture("versioning")
        #expect(try await f.s3.getBucketVersioning(bucket: f.bucket) == nil)
        let unversioned = try await f.s3.putObject(bucket: f.bucket, key: "before", body: [0])
        #expect(unversioned.versionID == nil)
        try await f.s3.putBucketVersioning(bucket: f.bucket, status: .enabled)
        #expect(try await f.s3.getBucketVersioning(bucket: f.bucket) == .enabled)
        let versioned = try await f.s3.putObject(bucket: f.bucket, key: "after", body: [1])
        #expect(versioned.versionID != nil)
        try await f.s3.putBucketVersioning(bucket: f.bucket, status: .suspended)
        #expect(try await f.s3.getBucketVersioning(bucket: f.bucket) == .suspended)
        // An object written before versioning is listed with the version "null".
        let versions = try await listedVersions(f.s3, f.bucket)
        #expect(versions.first { $0.key == "before" }?.versionID == "null")
        let missing = await #expect(throws: AWSError.self) { try await f.s3.getBucketVersioning(bucket: f.bucket + "-none") }
        #expect(missing?.kind == .noSuchBucket)
    }

    @Test func listingVersionsPagesThroughVersionsAndMarkersWithTheirClasses() async throws {
        let f = try await S3Fixture("listversions")
        try await f.s3.putBucketVersioning(bucket: f.bucket, status: .enabled)
        // Three keys with awkward names; "k 1" gets three versions (GLACIER, DEEP_ARCHIVE, STANDARD_IA) and then a delete marker.
        let classes: [S3StorageClass] = [.glacier, .deepArchive, .standardIA]
        var written: [String: [String]] = [:]
        for (i, storageClass) in classes.enumerated() {
            let put = try await f.s3.putObject(bucket: f.bucket, key: "v/k 1+é", body: Array(repeating: UInt8(i), count: i + 1), storageClass: storageClass)
            written["v/k 1+é", default: []].append(try #require(put.versionID))
            try await Task.sleep(for: .milliseconds(5))
        }
        for key in ["v/k&2", "v/k3"] {
            let put = try await f.s3.putObject(bucket: f.bucket, key: key, body: Array(key.utf8))
            written[key] = [try #require(put.versionID)]
        }
        try await f.s3.deleteObject(bucket: f.bucket, key: "v/k 1+é")
        try await f.s3.putObject(bucket: f.bucket, key: "other", body: [7])

        // Pages of two, through both markers.
        let versions = try await listedVersions(f.s3, f.bucket, prefix: "v/", pageSize: 2)
        #expect(versions.count == 6)
        #expect(Set(versions.map(\.key)) == ["v/k 1+é", "v/k&2", "v/k3"])
        #expect(Set(versions.map(\.versionID)).count == 6)
        let first = versions.filter { $0.key == "v/k 1+é" }
        let markers = first.filter(\.isDeleteMarker)
        #expect(markers.count == 1)
        #expect(markers.first?.isLatest == true)
        #expect(markers.first?.size == 0 && markers.first?.storageClass == nil)
        let data = first.filter { !$0.isDeleteMarker }
        #expect(Set(data.map(\.versionID)) == Set(written["v/k 1+é"]!))
        #expect(data.allSatisfy { !$0.isLatest })
        let classOf = Dictionary(uniqueKeysWithValues: data.map { ($0.versionID, $0.storageClass) })
        #expect(classOf[written["v/k 1+é"]![0]] == "GLACIER")
        #expect(classOf[written["v/k 1+é"]![1]] == "DEEP_ARCHIVE")
        #expect(classOf[written["v/k 1+é"]![2]] == "STANDARD_IA")
        #expect(data.first { $0.versionID == written["v/k 1+é"]![2] }?.size == 3)
        #expect(versions.allSatisfy { $0.lastModified != nil })
        #expect(versions.filter { $0.key == "v/k3" }.map(\.isLatest) == [true])

        // One page by hand: the markers name where the next page starts.
        let page = try await f.s3.listObjectVersions(bucket: f.bucket, prefix: "v/", maxKeys: 2)
        #expect(page.entries.count == 2)
        #expect(page.isTruncated)
        #expect(page.nextKeyMarker != nil && page.nextVersionIDMarker != nil)
        let next = try await f.s3.listObjectVersions(
            bucket: f.bucket, prefix: "v/", keyMarker: page.nextKeyMarker, versionIDMarker: page.nextVersionIDMarker, maxKeys: 2)
        #expect(Set(next.entries.map(\.versionID)).isDisjoint(with: page.entries.map(\.versionID)))

        // Delete every version and marker under the prefix: the versions are gone, the other key stays.
        let result = try await f.s3.deleteObjects(bucket: f.bucket, objects: versions.map(\.identifier))
        #expect(result.errors.isEmpty)
        #expect(try await listedVersions(f.s3, f.bucket, prefix: "v/").isEmpty)
        #expect(try await listedKeys(f.s3, f.bucket) == ["other"])
    }

    @Test func listingsCarryStorageClassAndLastModified() async throws {
        let f = try await S3Fixture("classes")
        let start = Date().addingTimeInterval(-60)
        try await f.s3.putObject(bucket: f.bucket, key: "a-standard", body: [1])
        try await f.s3.putObject(bucket: f.bucket, key: "b-ia", body: [1], storageClass: .standardIA)
        try await f.s3.putObject(bucket: f.bucket, key: "c-deep", body: [1], storageClass: .deepArchive)
        try await f.s3.putObjectMultipart(
            bucket: f.bucket, key: "d-glacier-multipart", body: [UInt8](repeating: 5, count: 6 * 1024 * 1024), partSize: 5 * 1024 * 1024,
            storageClass: .glacier)
        let page = try await f.s3.listObjectsV2(bucket: f.bucket)
        #expect(page.objects.map(\.storageClass) == ["STANDARD", "STANDARD_IA", "DEEP_ARCHIVE", "GLACIER"])
        #expect(page.objects.allSatisfy { ($0.lastModified ?? .distantPast) > start })
        #expect(try await f.s3.headObject(bucket: f.bucket, key: "c-deep")?.storageClass == "DEEP_ARCHIVE")
        #expect(S3StorageClass.deepArchive.needsRestoreToRead && !S3StorageClass.standardIA.needsRestoreToRead)

        let bad = await #expect(throws: AWSError.self) {
            try await f.s3.putObject(bucket: f.bucket, key: "x", body: [1], storageClass: "glacier ir")
        }
        #expect(bad?.kind == .invalidRequest)
        #expect(bad?.description.contains("'glacier ir' is not a storage class name") == true)
    }
}
