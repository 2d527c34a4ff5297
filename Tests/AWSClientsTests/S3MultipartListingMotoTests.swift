import AWSClients
import Foundation
import Testing
import TestSupport

@Suite("S3 multipart listings against moto")
struct S3MultipartListingMotoTests {
    @Test func partsArePagedAndAbortLeavesNoSuchUpload() async throws {
        let f = try await S3Fixture("listparts")
        let key = "uploads/video 1.mp4"
        let upload = try await f.s3.createMultipartUpload(bucket: f.bucket, key: key, storageClass: .standardIA)
        let sizes = [5 * 1024 * 1024, 5 * 1024 * 1024, 1000]
        var uploaded: [S3CompletedPart] = []
        for (i, size) in sizes.enumerated() {
            uploaded.append(try await f.s3.uploadPart(bucket: f.bucket, key: key, uploadID: upload, partNumber: i + 1, body: noise(size, seed: UInt32(i + 7))))
        }
        let firstPage = try await f.s3.listParts(bucket: f.bucket, key: key, uploadID: upload, maxParts: 2)
        #expect(firstPage.parts.map(\.partNumber) == [1, 2])
        #expect(firstPage.isTruncated)
        #expect(firstPage.nextPartNumberMarker == 2)
        let rest = try await f.s3.listParts(bucket: f.bucket, key: key, uploadID: upload, partNumberMarker: firstPage.nextPartNumberMarker)
        #expect(rest.parts.map(\.partNumber) == [3])
        #expect(!rest.isTruncated)
        let all = try await f.s3.listAllParts(bucket: f.bucket, key: key, uploadID: upload, pageSize: 1)
        #expect(all.map(\.completed) == uploaded)
        #expect(all.map(\.size) == sizes.map(Int64.init))

        let listed = try await f.s3.listMultipartUploads(bucket: f.bucket, prefix: "uploads/")
        #expect(listed.map(\.uploadID) == [upload])
        #expect(listed.first?.key == key)

        try await f.s3.abortMultipartUpload(bucket: f.bucket, key: key, uploadID: upload)
        #expect(try await f.s3.listMultipartUploads(bucket: f.bucket).isEmpty)
        let gone = await #expect(throws: AWSError.self) { try await f.s3.listParts(bucket: f.bucket, key: key, uploadID: upload) }
        #expect(gone?.kind == .noSuchUpload)
        let again = await #expect(throws: AWSError.self) { try await f.s3.abortMultipartUpload(bucket: f.bucket, key: key, uploadID: upload) }
        #expect(again?.kind == .noSuchUpload)
        #expect(again?.code == "NoSuchUpload")
        #expect(again?.attempts == 1)
    }

    @Test func uploadsAreListedByPrefix() async throws {
        let f = try await S3Fixture("listuploads")
        var started: [String] = []
        for key in ["u/a", "u/b", "u/b", "u/c", "u/d é"] {
            started.append(try await f.s3.createMultipartUpload(bucket: f.bucket, key: key))
        }
        _ = try await f.s3.createMultipartUpload(bucket: f.bucket, key: "elsewhere")
        let page = try await f.s3.listMultipartUploadsPage(bucket: f.bucket, prefix: "u/")
        #expect(Set(page.uploads.map(\.uploadID)) == Set(started))
        #expect(page.uploads.map(\.key) == ["u/a", "u/b", "u/b", "u/c", "u/d é"])
        #expect(page.uploads.allSatisfy { $0.initiated != nil })
        #expect(!page.isTruncated && page.nextKeyMarker == nil)
        #expect(try await f.s3.listMultipartUploads(bucket: f.bucket).count == 6)
    }

    /// moto ignores `max-uploads`, so the paging is checked against scripted pages in S3's format.
    @Test func uploadsArePagedByKeyAndUploadIDMarkers() async throws {
        @Sendable func page(_ uploads: [(String, String)], next: (String, String)?) -> HTTPResponse {
            var xml = #"<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><EncodingType>url</EncodingType>"#
            for (key, id) in uploads {
                xml += "<Upload><Key>\(key)</Key><UploadId>\(id)</UploadId><StorageClass>STANDARD</StorageClass><Initiated>2024-01-15T10:30:00.000Z</Initiated></Upload>"
            }
            xml += "<IsTruncated>\(next != nil)</IsTruncated>"
            if let next { xml += "<NextKeyMarker>\(next.0)</NextKeyMarker><NextUploadIdMarker>\(next.1)</NextUploadIdMarker>" }
            return HTTPResponse(status: 200, body: Array((xml + "</ListMultipartUploadsResult>").utf8))
        }
        let transport = TransportDouble { request, n in
            let query = request.url.query ?? ""
            switch n {
            case 1:
                #expect(query == "uploads&encoding-type=url&prefix=u%2F")
                return page([("u/a", "1"), ("u/b", "2")], next: ("u/b", "2"))
            case 2:
                #expect(query == "uploads&encoding-type=url&prefix=u%2F&key-marker=u%2Fb&upload-id-marker=2")
                return page([("u/b", "3"), ("u/d+%C3%A9", "4")], next: ("u/d+%C3%A9", "4"))
            default:
                #expect(query.contains("key-marker=u%2Fd%20%C3%A9&upload-id-marker=4"))
                return page([("u/e", "5")], next: nil)
            }
        }
        let uploads = try await scriptedS3(transport).listMultipartUploads(bucket: "b", prefix: "u/")
        #expect(uploads.map(\.uploadID) == ["1", "2", "3", "4", "5"])
        #expect(uploads.map(\.key) == ["u/a", "u/b", "u/b", "u/d é", "u/e"])
        #expect(uploads.allSatisfy { $0.storageClass == "STANDARD" && $0.initiated != nil })
        #expect(transport.requests.count == 3)
    }
}
