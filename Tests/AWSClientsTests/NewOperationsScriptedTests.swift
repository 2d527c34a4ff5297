import AWSClients
import Foundation
import Testing

/// Answers moto cannot give: retries, damaged bodies, servers that ignore ranges, errors inside 200 answers.
@Suite("New operations against scripted answers")
struct NewOperationsScriptedTests {
    @Test func sendMessageBatchIsRetriedAfterServiceUnavailable() async throws {
        let ok = #"{"Successful":[{"Id":"a","MessageId":"m-1","MD5OfMessageBody":"0cc175b9c0f1b6a831c399e269772661"}],"Failed":[]}"#
        let transport = TransportDouble { _, n in
            switch n {
            case 1: return HTTPResponse(status: 503, body: Array(#"{"__type":"com.amazonaws.sqs#ServiceUnavailable","message":"busy"}"#.utf8))
            case 2: throw HTTPTransportError(.connection, "connection reset")
            default: return HTTPResponse(status: 200, headers: ["x-amzn-RequestId": "r-3"], body: Array(ok.utf8))
            }
        }
        let sleeps = SleepRecorder()
        let sqs = scriptedSQS(transport, sleeps: sleeps)
        let result = try await sqs.sendMessageBatch(queueURL: "http://127.0.0.1:9/1/q", entries: [SQSSendEntry(id: "a", body: "a")])
        #expect(result.successful.map(\.messageID) == ["m-1"])
        #expect(result.requestID == "r-3")
        #expect(transport.requests.count == 3)
        #expect(sleeps.sleeps.count == 2)
        #expect(Set(transport.requests.map(\.body)).count == 1)
        let request = transport.requests[0]
        #expect(request.header("X-Amz-Target") == "AmazonSQS.SendMessageBatch")
        #expect(request.header("Content-Type") == "application/x-amz-json-1.0")
        #expect(request.header("Authorization")?.contains("/us-east-1/sqs/aws4_request") == true)
        #expect(String(decoding: request.body, as: UTF8.self) == #"{"QueueUrl":"http://127.0.0.1:9/1/q","Entries":[{"Id":"a","MessageBody":"a"}]}"#)
    }

    @Test func queueErrorsStopAtOnceWithTheirCode() async throws {
        let transport = TransportDouble { _, _ in
            HTTPResponse(
                status: 400, headers: ["x-amzn-query-error": "AWS.SimpleQueueService.NonExistentQueue;Sender", "x-amzn-RequestId": "r-9"],
                body: Array(#"{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}"#.utf8))
        }
        let error = await #expect(throws: AWSError.self) {
            try await scriptedSQS(transport).receiveMessages(queueURL: "http://127.0.0.1:9/1/gone")
        }
        #expect(error?.kind == .queueDoesNotExist)
        #expect(error?.attempts == 1)
        #expect(error?.requestID == "r-9")
        #expect(error?.description == "SQS ReceiveMessage failed: QueueDoesNotExist: the queue 'http://127.0.0.1:9/1/gone' does not exist (HTTP 400, request ID r-9)")
    }

    @Test func damagedMessageBodiesAreDetected() async throws {
        let transport = TransportDouble { request, _ in
            if request.header("X-Amz-Target") == "AmazonSQS.ReceiveMessage" {
                return HTTPResponse(
                    status: 200, body: Array(#"{"Messages":[{"MessageId":"m","ReceiptHandle":"r","Body":"tampered","MD5OfBody":"0cc175b9c0f1b6a831c399e269772661"}]}"#.utf8))
            }
            return HTTPResponse(status: 200, body: Array(#"{"Successful":[{"Id":"a","MessageId":"m","MD5OfMessageBody":"00000000000000000000000000000000"}]}"#.utf8))
        }
        let sqs = scriptedSQS(transport)
        let received = await #expect(throws: AWSError.self) { try await sqs.receiveMessages(queueURL: "http://127.0.0.1:9/1/q") }
        #expect(received?.kind == .invalidResponse)
        #expect(received?.description.contains("does not match its MD5") == true)
        let sent = await #expect(throws: AWSError.self) {
            try await sqs.sendMessageBatch(queueURL: "http://127.0.0.1:9/1/q", entries: [SQSSendEntry(id: "a", body: "a")])
        }
        #expect(sent?.kind == .invalidResponse)
    }

    @Test func senderFaultIsReadAsABooleanOrAString() async throws {
        let transport = TransportDouble { _, _ in
            HTTPResponse(
                status: 200,
                body: Array(#"{"Successful":[],"Failed":[{"Id":"a","SenderFault":true,"Code":"X","Message":"x"},{"Id":"b","SenderFault":"false","Code":"InternalError","Message":"y"}]}"#.utf8))
        }
        let result = try await scriptedSQS(transport).deleteMessageBatch(
            queueURL: "http://127.0.0.1:9/1/q", entries: [SQSDeleteEntry(id: "a", receiptHandle: "1"), SQSDeleteEntry(id: "b", receiptHandle: "2")])
        #expect(result.failed.map(\.senderFault) == [true, false])
    }

    @Test func aServerThatIgnoresTheRangeStillYieldsTheSlice() async throws {
        let body = noise(1000)
        let transport = TransportDouble { request, _ in
            #expect(request.header("Range") == "bytes=100-199")
            return HTTPResponse(status: 200, headers: ["Content-Length": "1000", "ETag": "\"e\""], body: body)
        }
        let part = try await scriptedS3(transport).getObject(bucket: "b", key: "k", range: 100...199)
        #expect(part.body == Array(body[100...199]))
        #expect(part.range == 100...199)
        #expect(part.objectSize == 1000)
    }

    @Test func aRangeAnswerThatDoesNotMatchIsRefused() async throws {
        let transport = TransportDouble { _, _ in
            HTTPResponse(status: 206, headers: ["Content-Range": "bytes 0-9/1000", "Content-Length": "10"], body: Array(repeating: 1, count: 10))
        }
        let error = await #expect(throws: AWSError.self) { try await scriptedS3(transport).getObject(bucket: "b", key: "k", range: 100...109) }
        #expect(error?.kind == .invalidResponse)
        #expect(error?.description.contains("asked for bytes 100-109, got bytes 0-9/1000") == true)
        let negative = await #expect(throws: AWSError.self) { try await scriptedS3(transport).getObject(bucket: "b", key: "k", range: -1...5) }
        #expect(negative?.kind == .invalidRequest)
    }

    @Test func copyErrorsHiddenInA200AreFailuresAndSlowDownIsRetried() async throws {
        let transport = TransportDouble { request, n in
            #expect(request.header("x-amz-copy-source") == "src/dir/a%20b%2Bc.bin?versionId=v%2B1")
            #expect(request.header("x-amz-metadata-directive") == "COPY")
            #expect(request.header("x-amz-storage-class") == "DEEP_ARCHIVE")
            switch n {
            case 1: return HTTPResponse(status: 200, body: s3ErrorXML("SlowDown", "Please reduce your request rate."))
            default:
                return HTTPResponse(
                    status: 200, headers: ["x-amz-version-id": "new", "x-amz-copy-source-version-id": "v+1", "x-amz-request-id": "copy-2"],
                    body: Array(#"<CopyObjectResult><LastModified>2024-01-15T10:30:00.000Z</LastModified><ETag>"abc"</ETag></CopyObjectResult>"#.utf8))
            }
        }
        let sleeps = SleepRecorder()
        let result = try await scriptedS3(transport, sleeps: sleeps).copyObject(
            sourceBucket: "src", sourceKey: "dir/a b+c.bin", sourceVersionID: "v+1", bucket: "dst", key: "copy", storageClass: .deepArchive)
        #expect(result.etag == "\"abc\"")
        #expect(result.versionID == "new")
        #expect(result.sourceVersionID == "v+1")
        #expect(result.requestID == "copy-2")
        #expect(result.lastModified == Date(timeIntervalSince1970: 1_705_314_600))
        #expect(transport.requests.count == 2)
        #expect(sleeps.sleeps.count == 1)
    }

    @Test func aSourceOverFiveGiBPointsToTheMultipartCopy() async throws {
        let transport = TransportDouble { _, _ in
            HTTPResponse(
                status: 400,
                body: s3ErrorXML("InvalidRequest", "The specified copy source is larger than the maximum allowable size for a copy source: 5368709120"))
        }
        let error = await #expect(throws: AWSError.self) {
            try await scriptedS3(transport).copyObject(sourceBucket: "src", sourceKey: "huge", bucket: "dst", key: "huge")
        }
        #expect(error?.code == "InvalidRequest")
        #expect(error?.requestID == "req-1")
        #expect(error?.description.contains("larger than 5 GiB, the most one CopyObject copies; use copyObjectMultipart") == true)
        #expect(transport.requests.count == 1)
    }

    @Test func abortOfAFinishedUploadIsNoSuchUpload() async throws {
        let transport = TransportDouble { _, _ in
            HTTPResponse(status: 404, body: s3ErrorXML("NoSuchUpload", "The specified upload does not exist."))
        }
        let error = await #expect(throws: AWSError.self) {
            try await scriptedS3(transport).abortMultipartUpload(bucket: "b", key: "k", uploadID: "u")
        }
        #expect(error?.kind == .noSuchUpload)
        #expect(error?.attempts == 1)
    }

    @Test func newServicesResolveTheirEndpoints() throws {
        let environment = [
            "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "AWS_REGION": "eu-west-1",
            "AWS_ENDPOINT_URL_SQS": "http://localhost:9324", "AWS_ENDPOINT_URL_EVENTBRIDGE": "http://localhost:4010",
        ]
        let settings = try AWSSettings.resolve(environment: environment, homeDirectory: "/nonexistent")
        #expect(settings.endpoint(for: .sqs).absoluteString == "http://localhost:9324")
        #expect(settings.endpoint(for: .eventBridge).absoluteString == "http://localhost:4010")
        let plain = try AWSSettings.resolve(environment: ["AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "AWS_REGION": "eu-west-1"], homeDirectory: "/nonexistent")
        #expect(plain.endpoint(for: .sqs).absoluteString == "https://sqs.eu-west-1.amazonaws.com")
        #expect(plain.endpoint(for: .eventBridge).absoluteString == "https://events.eu-west-1.amazonaws.com")
        #expect(AWSService.eventBridge.signingName == "events")
        #expect(AWSService.sqs.signingName == "sqs")
    }
}
