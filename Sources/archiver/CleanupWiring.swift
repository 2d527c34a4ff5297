import ArchiverAWS
import ArchiverCore
import ArchiverSQLite
import AWSClients
import Foundation

/// The parts `cleanup` and `expire` name: roots, owner tables, expiring tables, the deletion queue.
extension Wiring {
    /// The root a cleanup target names: an S3 bucket and prefix, or a folder that must exist.
    public func cleanupRoot(_ location: ArchiveLocation) throws -> any CleanupRoot {
        switch location {
        case .folder(let path):
            return try LocalCleanupRoot(path: path)
        case .s3(let bucket, let prefix):
            return S3CleanupRoot(client: try s3Client(for: location), bucket: bucket, prefix: prefix)
        case .null:
            throw ArchiveLocationError("null: holds nothing to clean; give s3://bucket/prefix/ or a folder")
        }
    }

    /// Where owners are looked up.
    public func ownerLookup(_ spec: OwnerSpec) throws -> any OwnerLookup {
        switch spec {
        case .dynamoDB(let table, let attribute):
            return DynamoDBOwnerLookup(table: table, attribute: attribute, client: DynamoDBClient(settings: try AWSSettings.resolve(environment: environment)))
        case .sqlite(let database, let table, let column):
            return SQLiteOwnerLookup(databasePath: database, table: table, column: column)
        }
    }

    /// The DynamoDB table `expire` deletes expired items from.
    public func expiringTable(_ table: String, ttlAttribute: String, conditions: [DynamoDBAttributeCondition]) throws -> any ExpiringTable {
        DynamoDBExpiringTable(
            table: table, ttlAttribute: ttlAttribute, conditions: conditions,
            client: DynamoDBClient(settings: try AWSSettings.resolve(environment: environment)))
    }

    /// The deletion queue of a state folder, for cleanup's retention of completed entries; nil when the folder holds
    /// no state database (no tail has run there, so there is no queue to prune).
    public func completedQueueEntries(stateFolder: String) throws -> (any CompletedQueueEntries)? {
        guard FileManager.default.fileExists(atPath: (stateFolder as NSString).appendingPathComponent("archiver.sqlite")) else {
            return nil
        }
        return try QueueStore.open(stateFolder: stateFolder)
    }
}
