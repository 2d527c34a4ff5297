import AWSClients
import Foundation
import Testing
import TestSupport

@Suite("Signatures checked by moto")
struct AuthMotoTests {
    @Test func rightKeyWorksAndWrongSecretFailsAtOnce() async throws {
        // Four unauthenticated actions: create the user, its policy and key, and the bucket; then moto checks signatures.
        let server = try await MotoServer.start(environment: ["INITIAL_NO_AUTH_ACTION_COUNT": "4"])
        defer { server.stop() }
        let credentials = try await MotoIAM(server: server).createUserWithAccessKey(userName: "archiver-test")
        let bucket = MotoServer.uniqueName("auth")
        try await S3Client(settings: server.settings(credentials: credentials)).createBucket(bucket)

        let good = S3Client(settings: server.settings(credentials: credentials))
        try await good.putObject(bucket: bucket, key: "signed/object-1_a.b~c", body: Array("ok".utf8), metadata: ["m": "v"])
        #expect(try await good.getObject(bucket: bucket, key: "signed/object-1_a.b~c") == Array("ok".utf8))
        // moto checks the query as it decodes it: a prefix of unreserved characters.
        let page = try await good.listObjectsV2(bucket: bucket, prefix: "signed", maxKeys: 10)
        #expect(page.objects.count == 1)
        let dynamo = DynamoDBClient(settings: server.settings(credentials: credentials))
        let table = MotoServer.uniqueName("authtable")
        try await dynamo.createTable(
            table, keySchema: [.init(attributeName: "id", keyType: "HASH")], attributeDefinitions: [.init(attributeName: "id", attributeType: "S")],
            streamViewType: "NEW_AND_OLD_IMAGES")
        try await dynamo.putItem(table: table, itemJSON: Array(#"{"id":{"S":"x"}}"#.utf8))

        let wrongSecret = "definitely-not-the-secret-\(UUID().uuidString)"
        let wrong = AWSCredentials(accessKeyID: credentials.accessKeyID, secretAccessKey: wrongSecret)
        let transport = RecordingTransport(base: NIOHTTPTransport.shared())
        let bad = S3Client(settings: server.settings(credentials: wrong), transport: transport)
        let error = await #expect(throws: AWSError.self) {
            try await bad.putObject(bucket: bucket, key: "signed/object-2", body: Array("no".utf8))
        }
        #expect(error?.attempts == 1)
        #expect(transport.requests.count == 1)
        #expect(error?.kind == .invalidCredentials)
        #expect(error?.statusCode == 403)
        let message = error.map { "\($0)" } ?? ""
        #expect(message.contains("SignatureDoesNotMatch"))
        #expect(!message.contains(wrongSecret))
        #expect(!message.contains(credentials.secretAccessKey))

        let badDynamo = DynamoDBClient(settings: server.settings(credentials: wrong))
        let dynamoError = await #expect(throws: AWSError.self) { try await badDynamo.describeTable(table) }
        #expect(dynamoError?.kind == .invalidCredentials, "\(String(describing: dynamoError))")
        #expect(dynamoError?.attempts == 1)
    }
}
