import AWSClients
import ArchiverAWS
import ArchiverCore
import Foundation
import Testing
import TestSupport
@testable import archiver

/// The wiring that turns `--source`, `--archive` and `--to` into parts.
@Suite struct WiringTests {
    @Test func wiringBuildsBothSourceKindsFromTheEnvironment() async throws {
        let server = try await MotoServer.shared()
        let dynamo = DynamoDBClient(settings: server.settings())
        let table = MotoServer.uniqueName("wiring")
        let created = try await dynamo.createTable(
            table, keySchema: [DynamoDBKeyElement(attributeName: "SK", keyType: "RANGE"), DynamoDBKeyElement(attributeName: "PK", keyType: "HASH")],
            attributeDefinitions: [DynamoDBAttributeDefinition(attributeName: "PK", attributeType: "S"), DynamoDBAttributeDefinition(attributeName: "SK", attributeType: "N")],
            streamViewType: "NEW_AND_OLD_IMAGES")
        var environment = server.awsEnvironment()
        environment["AWS_CONFIG_FILE"] = "/nonexistent/aws-config"
        environment["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/aws-credentials"
        let wiring = Wiring(environment: environment)
        let byTable = try await wiring.source(try SourceSpec("dynamodb:\(table)"))
        let arn = try #require(created.latestStreamARN)
        #expect(byTable.id == "dynamodb-stream:\(arn)")
        #expect(byTable.keyOrder == ["PK", "SK"])
        let byStream = try await wiring.source(try SourceSpec("dynamodb-stream:\(arn)"))
        #expect(byStream.id == byTable.id)
        let target = try wiring.restoreTarget(RestoreTargetSpec("dynamodb:\(table)"))
        #expect(target.location == "dynamodb:\(table)")
    }

    @Test func wiringBuildsAnS3StoreOrSaysWhatIsMissing() throws {
        let noCredentials = ["HOME": "/nonexistent", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"]
        #expect(throws: ArchiveLocationError.self) { try Wiring(environment: noCredentials).store(ArchiveLocation("s3://bucket/svc")) }
        do {
            _ = try Wiring(environment: noCredentials).store(ArchiveLocation("s3://bucket/svc"))
        } catch let error as ArchiveLocationError {
            #expect(error.description.contains("s3://bucket/svc/") && error.description.contains("credentials"), "\(error)")
        }
        var environment = noCredentials
        environment["AWS_ACCESS_KEY_ID"] = "AKIAEXAMPLE"
        environment["AWS_SECRET_ACCESS_KEY"] = "secret"
        environment["AWS_DEFAULT_REGION"] = "eu-west-1"
        let store = try Wiring(environment: environment).store(ArchiveLocation("s3://bucket/svc"))
        #expect(store is S3ArchiveStore)
        #expect(store.location == "s3://bucket/svc/")
    }

    @Test func aFolderArchiveRefusesEncryption() throws {
        let folder = TemporaryFolder("sse-folder")
        defer { folder.remove() }
        let error = #expect(throws: ArchiveLocationError.self) {
            _ = try Wiring(environment: [:]).store(.folder(folder("archive")), serverSideEncryption: .aes256)
        }
        #expect(error?.description.contains("s3://") == true, "\(String(describing: error))")
    }
}
