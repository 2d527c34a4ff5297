import AWSClients
import Foundation
import Testing
import TestSupport

@Suite("Interoperability with boto3")
struct PeerTests {
    @Test func objectWrittenByUsIsReadByBoto3AndTheOtherWay() async throws {
        try #require(AWSPeer.boto3Available(), "python3 with boto3 is needed: run the tests with scripts/test, which installs it")
        let f = try await S3Fixture("peer")
        var body = [UInt8](repeating: 0, count: 300_000)
        for i in body.indices { body[i] = UInt8(truncatingIfNeeded: i * 31 + i / 7) }
        let ourKey = "peer/ours ü+#%.bin"
        try await f.s3.putObject(bucket: f.bucket, key: ourKey, body: body, contentType: "application/octet-stream")
        let read = try AWSPeer.boto3GetObject(server: f.server, bucket: f.bucket, key: ourKey)
        #expect(read.status == 0, "boto3 failed: \(read.stderr)")
        #expect(read.stdout == body)

        let theirKey = "peer/theirs ü+#%.bin"
        let reversed = Array(body.reversed())
        let wrote = try AWSPeer.boto3PutObject(server: f.server, bucket: f.bucket, key: theirKey, body: reversed)
        #expect(wrote.status == 0, "boto3 failed: \(wrote.stderr)")
        #expect(try await f.s3.getObject(bucket: f.bucket, key: theirKey) == reversed)
    }
}
