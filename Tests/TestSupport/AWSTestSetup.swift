import AWSClients
import Foundation

// Setting up and taking down what tests need on moto_server: buckets and tables. archiver itself never creates
// or deletes a bucket or a table, so these live here, over the clients' generic request API.

extension S3Client {
    /// Creates a bucket in the client's region. A bucket already owned by the caller is not an error.
    public func createBucket(_ bucket: String) async throws {
        var body: [UInt8] = []
        if http.region != "us-east-1" {
            body = Array("""
                <CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">\
                <LocationConstraint>\(http.region)</LocationConstraint></CreateBucketConfiguration>
                """.utf8)
        }
        do {
            _ = try await send("CreateBucket", method: "PUT", bucket: bucket, headers: body.isEmpty ? [] : [("Content-Type", "application/xml")], body: body)
        } catch let error as AWSError where error.code == "BucketAlreadyOwnedByYou" {
            return
        }
    }

    /// Deletes an empty bucket.
    public func deleteBucket(_ bucket: String) async throws {
        _ = try await send("DeleteBucket", method: "DELETE", bucket: bucket)
    }
}

extension DynamoDBClient {
    /// Creates an on-demand table, with a stream when `streamViewType` is given (e.g. "NEW_AND_OLD_IMAGES").
    @discardableResult
    public func createTable(
        _ table: String, keySchema: [DynamoDBKeyElement], attributeDefinitions: [DynamoDBAttributeDefinition], streamViewType: String? = nil
    ) async throws -> DynamoDBTableDescription {
        struct Request: Encodable {
            let TableName: String
            let KeySchema: [DynamoDBKeyElement]
            let AttributeDefinitions: [DynamoDBAttributeDefinition]
            let BillingMode = "PAY_PER_REQUEST"
            let StreamSpecification: DynamoDBStreamSpecification?
        }
        struct Response: Decodable { let TableDescription: DynamoDBTableDescription }
        let request = Request(
            TableName: table, KeySchema: keySchema, AttributeDefinitions: attributeDefinitions,
            StreamSpecification: streamViewType.map { DynamoDBStreamSpecification(streamEnabled: true, streamViewType: $0) })
        let response = try await call("CreateTable", body: Array(try JSONEncoder().encode(request)), table: table)
        return try JSONDecoder().decode(Response.self, from: Data(response.body)).TableDescription
    }

    /// Deletes a table.
    public func deleteTable(_ table: String) async throws {
        _ = try await call("DeleteTable", body: Array(try JSONEncoder().encode(["TableName": table])), table: table)
    }

    /// Turns time-to-live on or off for `attribute`.
    public func updateTimeToLive(table: String, attribute: String, enabled: Bool) async throws {
        struct Specification: Encodable {
            let Enabled: Bool
            let AttributeName: String
        }
        struct Request: Encodable {
            let TableName: String
            let TimeToLiveSpecification: Specification
        }
        let request = Request(TableName: table, TimeToLiveSpecification: Specification(Enabled: enabled, AttributeName: attribute))
        _ = try await call("UpdateTimeToLive", body: Array(try JSONEncoder().encode(request)), table: table)
    }
}
