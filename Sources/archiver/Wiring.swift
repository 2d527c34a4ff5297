import ArchiverCore
import ArchiverSQLite
import ArchiverAWS
import FeedGenerator
import AWSClients
import Foundation
import Logging

/// Builds the parts a command names: sources, stores, restore targets.
public struct Wiring: Sendable {
    /// The environment (AWS settings come from here).
    public var environment: [String: String]
    public var logger: Logger

    public init(environment: [String: String] = ProcessInfo.processInfo.environment, logger: Logger = Logger(label: "archiver")) {
        self.environment = environment
        self.logger = logger
    }

    /// The source `--source` names.
    /// DynamoDB sources ask the service for the stream and key schema, hence `async`.
    /// - Parameter maxRecordBytes: a JSON-lines source reads past a longer line without holding it (other sources
    ///   hand out whole records and the pipeline refuses those over the limit).
    public func source(_ spec: SourceSpec, maxRecordBytes: Int = TailOptions.defaultMaxRecordBytes) async throws -> any ChangeSource {
        switch spec {
        case .jsonLines(let path):
            return JSONLinesSource(path: path, maxRecordBytes: maxRecordBytes, logger: logger)
        case .sqlite(let path):
            return try SQLiteChangeSource(databasePath: path)
        case .dynamoDBTable(let table):
            let settings = try AWSSettings.resolve(environment: environment)
            return try await DynamoDBStreamsSource.table(
                table, dynamoDB: DynamoDBClient(settings: settings), streams: DynamoDBStreamsClient(settings: settings), logger: logger)
        case .dynamoDBStream(let arn):
            let settings = try AWSSettings.resolve(environment: environment)
            return try await DynamoDBStreamsSource.stream(arn, streams: DynamoDBStreamsClient(settings: settings), logger: logger)
        }
    }

    /// The store `--archive` names.
    /// - Parameters:
    ///   - serverSideEncryption: asked for on every object written to S3; a folder or null archive
    ///     refuses it (the caller validates the combination first, this is the last line).
    ///   - access: how a folder is opened: only a command that starts an archive (`tail`) creates a missing
    ///     folder; the others fail with its absolute path, so a mistyped `--archive` creates nothing.
    public func store(_ location: ArchiveLocation, serverSideEncryption: S3ServerSideEncryption? = nil,
                      access: LocalArchiveStore.Access = .readOnly) throws -> any ArchiveStore {
        if let serverSideEncryption, !location.isS3 {
            throw ArchiveLocationError("server-side encryption (\(serverSideEncryption)) applies to s3:// archives, not to \(location)")
        }
        switch location {
        case .folder(let path): return try LocalArchiveStore(path: path, access: access)
        case .null: return NullArchiveStore()
        case .s3(let bucket, let prefix):
            return S3ArchiveStore(
                client: try s3Client(for: location), bucket: bucket, prefix: prefix, serverSideEncryption: serverSideEncryption)
        }
    }

    /// An S3 client from the environment's AWS settings; a settings problem becomes an `ArchiveLocationError`.
    public func s3Client(for location: ArchiveLocation) throws -> S3Client {
        do {
            let settings = try AWSSettings.resolve(environment: environment)
            return S3Client(settings: settings, logger: logger)
        } catch let error as AWSSettingsError {
            throw ArchiveLocationError("cannot use \(location): \(error)")
        }
    }

    /// The executors of deletion actions: the local folder one always, the S3 one when a root is in S3.
    /// - Parameters:
    ///   - archive: where kept files go (nil: none configured; actions with `keep` then fail and retry).
    ///   - concurrency: S3 calls in flight.
    public func executors(roots: RootsConfiguration, archive: (any ArchiveStore)?, concurrency: Int) throws -> [any ActionExecutor] {
        var executors: [any ActionExecutor] = [LocalFolderExecutor(archive: archive)]
        if roots.roots.contains(where: { $0.location.isS3 }) {
            let client: S3Client
            do {
                client = S3Client(settings: try AWSSettings.resolve(environment: environment), logger: logger)
            } catch let error as AWSSettingsError {
                throw ArchiveLocationError("cannot act on the S3 roots (\(roots.roots.filter(\.location.isS3).map(\.name).joined(separator: ", "))): \(error)")
            }
            executors.append(S3ActionExecutor(client: client, archive: archive, concurrency: concurrency, logger: logger))
        }
        return executors
    }

    /// The target `--to` names.
    public func restoreTarget(_ spec: RestoreTargetSpec) throws -> any RestoreTarget {
        switch spec {
        case .standardOutput:
            return StandardOutputTarget()
        case .sqlite(let database, let table):
            return try SQLiteRestoreTarget(databasePath: database, table: table)
        case .dynamoDB(let table):
            let settings = try AWSSettings.resolve(environment: environment)
            return DynamoDBRestoreTarget(table: table, client: DynamoDBClient(settings: settings))
        }
    }
}

extension Wiring {
    /// How an erasure deletes archive objects: in S3 every version and delete marker of each key (listed first as
    /// `erasure.list-objects` says); in a folder
    /// through the store (unlink, then sync the folders).
    func eraser(_ location: ArchiveLocation, store: any ArchiveStore, erasure: ErasureConfiguration) -> any ArchiveEraser {
        if let s3 = store as? S3ArchiveStore { return S3ArchiveEraser(store: s3, listAlways: erasure.listObjects == .always, logger: logger) }
        return StoreArchiveEraser(store: store)
    }
}
