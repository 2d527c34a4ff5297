import ArchiverCore
import AWSClients
import Foundation
import JSONToolkit
import Logging

/// Carries out actions on S3 roots: `delete-object` entries are gathered into DeleteObjects calls of up to
/// 1,000 keys per bucket (Content-MD5 on every call, many calls in flight), and each key's error is recorded on the
/// entry it belongs to; `delete-prefix` lists the prefix (ListObjectsV2) and deletes what it finds the same way;
/// `abort-multipart` aborts the upload (an upload that no longer exists, `NoSuchUpload`, counts as done).
///
/// With `keep`, each object is first copied into the archive under ``KeptFiles`` names: server-side (CopyObject,
/// or UploadPartCopy past 5 GiB) when the archive is in S3, read and written otherwise; nothing is deleted whose
/// copy failed.
public struct S3ActionExecutor: ActionExecutor {
    public let client: S3Client
    /// Where kept files go.
    public let archive: (any ArchiveStore)?
    /// S3 calls in flight at once.
    public var concurrency: Int
    public var logger: Logger

    public init(client: S3Client, archive: (any ArchiveStore)?, concurrency: Int = 16, logger: Logger = Logger(label: "archiver.queue.s3")) {
        self.client = client
        self.archive = archive
        self.concurrency = max(1, concurrency)
        self.logger = logger
    }

    public func handles(_ root: RootLocation) -> Bool { root.isS3 }

    public func execute(_ actions: [PreparedAction]) async -> [ActionResult] {
        var results = [ActionResult?](repeating: nil, count: actions.count)
        var objects: [Int] = []
        var prefixes: [Int] = []
        var uploads: [Int] = []
        for (index, action) in actions.enumerated() {
            guard case .s3 = action.root else {
                results[index] = .failed(ActionFailure(code: "wrong-root", message: "\(action.root) is not an S3 root", permanent: true))
                continue
            }
            if let problem = action.target.problem(under: action.root) {
                results[index] = .failed(ActionFailure(code: "unsafe-target", message: "\(problem); it is never run", permanent: true))
                continue
            }
            switch action.target {
            case .object: objects.append(index)
            case .prefix: prefixes.append(index)
            case .multipartUpload: uploads.append(index)
            }
        }

        // Keep first: an object whose copy failed is not deleted; one already gone is done.
        var kept: [Int: String] = [:]
        let keeping = objects.filter { actions[$0].target.keep }
        let copies = await concurrently(keeping, limit: concurrency) { index in await self.keep(actions[index]) }
        for (index, outcome) in zip(keeping, copies) {
            switch outcome {
            case .kept(let key): kept[index] = key
            case .done(let result), .failed(let result): results[index] = result
            }
        }
        let deleting = objects.filter { results[$0] == nil }
        for (index, result) in await deleteObjects(deleting.map { actions[$0] }).enumerated() {
            var outcome = result
            if case .completed(let json) = result, let key = kept[deleting[index]] {
                outcome = .completed(.object((json.objectMembers ?? []) + [("kept", .string(key))]))
            }
            results[deleting[index]] = outcome
        }

        let prefixResults = await concurrently(prefixes, limit: max(1, concurrency / 4)) { index in await self.deletePrefix(actions[index]) }
        for (index, result) in zip(prefixes, prefixResults) { results[index] = result }

        let uploadResults = await concurrently(uploads, limit: concurrency) { index in await self.abort(actions[index]) }
        for (index, result) in zip(uploads, uploadResults) { results[index] = result }

        return results.map { $0 ?? .failed(ActionFailure(code: "no-result", message: "no result")) }
    }

    // MARK: delete-object

    /// Deletes the objects of `actions` (all `.object` on S3 roots) with DeleteObjects calls of up to 1,000 keys per
    /// bucket, `concurrency` calls at once; one result per action.
    func deleteObjects(_ actions: [PreparedAction]) async -> [ActionResult] {
        guard !actions.isEmpty else { return [] }
        // Bucket → key → the actions naming it (two entries may name one object).
        var byBucket: [String: [String: [Int]]] = [:]
        for (index, action) in actions.enumerated() {
            guard case .s3(let bucket, let prefix) = action.root else { continue }
            byBucket[bucket, default: [:]][prefix + action.target.path, default: []].append(index)
        }
        var calls: [(bucket: String, keys: [String])] = []
        for (bucket, keys) in byBucket.sorted(by: { $0.key < $1.key }) {
            let sorted = keys.keys.sorted()
            for start in stride(from: 0, to: sorted.count, by: S3Client.maximumDeleteObjectsBatch) {
                calls.append((bucket, Array(sorted[start..<min(start + S3Client.maximumDeleteObjectsBatch, sorted.count)])))
            }
        }
        let client = self.client
        let outcomes = await concurrently(calls, limit: concurrency) { call -> Result<S3DeleteObjectsResult, AWSError> in
            do {
                return .success(try await client.deleteObjectBatch(bucket: call.bucket, objects: call.keys.map { S3ObjectIdentifier(key: $0) }))
            } catch let error as AWSError {
                return .failure(error)
            } catch {
                return .failure(AWSError.transport(.s3, operation: "DeleteObjects", reason: "\(error)", resource: AWSResource(bucket: call.bucket)))
            }
        }
        var results = [ActionResult](repeating: .completed(.object([("deleted", .integer(1))])), count: actions.count)
        for (call, outcome) in zip(calls, outcomes) {
            let owners = byBucket[call.bucket]!
            switch outcome {
            case .success(let result):
                for error in result.errors {
                    for index in owners[error.key] ?? [] {
                        results[index] = .failed(ActionFailure(
                            code: error.code,
                            message: "S3 DeleteObjects could not delete s3://\(call.bucket)/\(error.key): \(error.code): \(error.message)\(error.requestID.map { " (request ID \($0))" } ?? "")",
                            httpStatus: Self.status(ofKeyError: error.code)))
                    }
                }
            case .failure(let error):
                for key in call.keys {
                    for index in owners[key] ?? [] { results[index] = .failed(Self.failure(error)) }
                }
            }
        }
        return results
    }

    /// The HTTP status S3 gives the same error for a single request, for the report.
    static func status(ofKeyError code: String) -> Int? {
        switch code {
        case "AccessDenied", "AllAccessDisabled": 403
        case "InternalError": 500
        case "ServiceUnavailable", "SlowDown": 503
        case "NoSuchBucket", "NoSuchKey", "NoSuchVersion": 404
        case "OperationAborted": 409
        default: nil
        }
    }

    static func failure(_ error: AWSError) -> ActionFailure {
        ActionFailure(code: error.code ?? error.kind.description, message: error.description, httpStatus: error.statusCode)
    }

    // MARK: abort-multipart

    func abort(_ action: PreparedAction) async -> ActionResult {
        guard case .s3(let bucket, let prefix) = action.root, case .multipartUpload(let key, let uploadID) = action.target else {
            return .failed(ActionFailure(code: "wrong-action", message: "not an upload", permanent: true))
        }
        do {
            try await client.abortMultipartUpload(bucket: bucket, key: prefix + key, uploadID: uploadID)
            return .completed(.object([("aborted", .bool(true))]))
        } catch let error as AWSError where error.kind == .noSuchUpload {
            return .completed(.object([("absent", .bool(true))]))
        } catch let error as AWSError {
            return .failed(Self.failure(error))
        } catch {
            return .failed(ActionFailure(code: "error", message: "\(error)"))
        }
    }
}
