import ArchiverCore
import AWSClients
import Foundation
import JSONToolkit

extension S3ActionExecutor {
    /// What keeping an object came to.
    enum KeepOutcome: Sendable {
        /// Copied into the archive under this key: go on and delete it.
        case kept(String)
        /// Nothing left to do (the object is gone already).
        case done(ActionResult)
        /// Not kept: do not delete it.
        case failed(ActionResult)
    }

    /// Copies the object of a `delete-object … keep: true` action into the archive.
    func keep(_ action: PreparedAction) async -> KeepOutcome {
        guard case .s3(let bucket, let prefix) = action.root else {
            return .failed(.failed(ActionFailure(code: "wrong-root", message: "not an S3 root", permanent: true)))
        }
        let keptKey: String
        switch KeptFiles.key(record: action.archiveKey, root: action.rootName, path: action.target.path) {
        case .success(let key): keptKey = key
        case .failure(let failure): return .failed(.failed(failure))
        }
        let source = "s3://\(bucket)/\(prefix + action.target.path)"
        do {
            try await copy(bucket: bucket, key: prefix + action.target.path, into: keptKey)
            return .kept(keptKey)
        } catch let error as AWSError where error.kind == .notFound {
            // Gone already: deleted by an earlier attempt after it was kept, or never there.
            var outcome: [(String, JSONValue)] = [("absent", .bool(true))]
            if let archive, (try? await archive.head(keptKey)) != nil { outcome.append(("kept", .string(keptKey))) }
            return .done(.completed(.object(outcome)))
        } catch {
            return .failed(.failed(keepFailure(error, source: source, keptKey: keptKey)))
        }
    }

    func keepFailure(_ error: any Error, source: String, keptKey: String) -> ActionFailure {
        if let error = error as? AWSError {
            var failure = Self.failure(error)
            failure.message = "could not keep \(source) in the archive as \(keptKey): \(error); nothing was deleted"
            return failure
        }
        let permanent = (error as? ArchiveStoreError)?.isRejected ?? false
        return ActionFailure(code: "keep-failed", message: "could not keep \(source) in the archive as \(keptKey): \(error); nothing was deleted", permanent: permanent)
    }

    /// Copies `bucket/key` into the archive at `keptKey`: server-side when the archive is in S3 (UploadPartCopy past
    /// 5 GiB), otherwise read and written.
    func copy(bucket: String, key: String, into keptKey: String) async throws {
        if let s3 = archive as? S3ArchiveStore {
            do {
                try await client.copyObject(
                    sourceBucket: bucket, sourceKey: key, bucket: s3.bucket, key: s3.prefix + keptKey, serverSideEncryption: s3.serverSideEncryption)
            } catch let error as AWSError where error.code == "InvalidRequest" && (error.message ?? "").contains("5 GiB") {
                try await client.copyObjectMultipart(
                    sourceBucket: bucket, sourceKey: key, bucket: s3.bucket, key: s3.prefix + keptKey, serverSideEncryption: s3.serverSideEncryption)
            }
            return
        }
        guard let archive else {
            throw ArchiveStoreError.unavailable("the file is to be kept, and no archive is configured (--archive, or archive: in the configuration)")
        }
        let bytes = try await client.getObject(bucket: bucket, key: key)
        if let failure = await archive.put([ArchiveObject(key: keptKey, body: bytes)])[0] { throw failure }
    }

    // MARK: delete-prefix

    /// Lists everything under the prefix, keeps it all first (with `keep`), then deletes it with DeleteObjects calls.
    func deletePrefix(_ action: PreparedAction) async -> ActionResult {
        guard case .s3(let bucket, let rootPrefix) = action.root, case .prefix(let target, _, let keep) = action.target else {
            return .failed(ActionFailure(code: "wrong-action", message: "not a prefix", permanent: true))
        }
        let full = rootPrefix + target
        var keys: [String] = []
        do {
            for try await object in client.listAllObjects(bucket: bucket, prefix: full) where object.key.hasPrefix(full) {
                keys.append(object.key)
            }
        } catch let error as AWSError {
            return .failed(Self.failure(error))
        } catch {
            return .failed(ActionFailure(code: "error", message: "cannot list s3://\(bucket)/\(full): \(error)"))
        }
        guard !keys.isEmpty else { return .completed(.object([("absent", .bool(true)), ("deleted", .integer(0))])) }
        var kept = 0
        if keep {
            var names: [(key: String, kept: String)] = []
            for key in keys {
                switch KeptFiles.key(record: action.archiveKey, root: action.rootName, path: String(key.dropFirst(rootPrefix.count))) {
                case .success(let name): names.append((key, name))
                case .failure(var failure):
                    failure.message += " (nothing under s3://\(bucket)/\(full) was deleted)"
                    return .failed(failure)
                }
            }
            let copies = await concurrently(names, limit: concurrency) { name -> ActionFailure?? in
                do {
                    try await self.copy(bucket: bucket, key: name.key, into: name.kept)
                    return .some(nil)
                } catch let error as AWSError where error.kind == .notFound {
                    return nil  // deleted meanwhile: nothing to keep
                } catch {
                    return .some(self.keepFailure(error, source: "s3://\(bucket)/\(name.key)", keptKey: name.kept))
                }
            }
            if let failure = copies.compactMap({ $0 ?? nil }).first { return .failed(failure) }
            kept = copies.filter { $0 != nil }.count
        }
        let batches = stride(from: 0, to: keys.count, by: S3Client.maximumDeleteObjectsBatch).map {
            Array(keys[$0..<min($0 + S3Client.maximumDeleteObjectsBatch, keys.count)])
        }
        let client = self.client
        let outcomes = await concurrently(batches, limit: concurrency) { batch -> Result<S3DeleteObjectsResult, AWSError> in
            do {
                return .success(try await client.deleteObjectBatch(bucket: bucket, objects: batch.map { S3ObjectIdentifier(key: $0) }))
            } catch let error as AWSError {
                return .failure(error)
            } catch {
                return .failure(AWSError.transport(.s3, operation: "DeleteObjects", reason: "\(error)", resource: AWSResource(bucket: bucket)))
            }
        }
        var errors: [S3DeleteObjectError] = []
        for outcome in outcomes {
            switch outcome {
            case .success(let result): errors += result.errors
            case .failure(let error): return .failed(Self.failure(error))
            }
        }
        if let first = errors.first {
            return .failed(ActionFailure(
                code: first.code,
                message: "S3 DeleteObjects could not delete \(errors.count) of the \(keys.count) objects under s3://\(bucket)/\(full), e.g. \(first)",
                httpStatus: Self.status(ofKeyError: first.code)))
        }
        var outcome: [(String, JSONValue)] = [("deleted", .integer(keys.count))]
        if keep { outcome.append(("kept", .integer(kept))) }
        return .completed(.object(outcome))
    }

    // MARK: restore

    public func restore(_ files: [KeptFile], overwrite: Bool) async -> [ActionResult] {
        await concurrently(files, limit: concurrency) { file in await self.restore(file, overwrite: overwrite) }
    }

    func restore(_ file: KeptFile, overwrite: Bool) async -> ActionResult {
        guard case .s3(let bucket, let prefix) = file.root else {
            return .failed(ActionFailure(code: "wrong-root", message: "\(file.root) is not an S3 root", permanent: true))
        }
        if let problem = TargetCheck.problem(file.path, shape: .object, root: file.root, subject: "its path \(TargetCheck.quoted(file.path))") {
            return .failed(ActionFailure(code: "unsafe-target", message: "the kept file \(file.archiveKey) cannot be put back: \(problem)", permanent: true))
        }
        let key = prefix + file.path
        do {
            if !overwrite, try await client.headObject(bucket: bucket, key: key) != nil {
                return .failed(ActionFailure(code: "exists", message: "s3://\(bucket)/\(key) exists; pass --overwrite to replace it", permanent: true))
            }
            if let s3 = archive as? S3ArchiveStore {
                try await client.copyObject(sourceBucket: s3.bucket, sourceKey: s3.prefix + file.archiveKey, bucket: bucket, key: key)
            } else if let archive {
                try await client.putObject(bucket: bucket, key: key, body: try await archive.get(file.archiveKey))
            } else {
                return .failed(ActionFailure(code: "no-archive", message: "no archive to restore files from", permanent: true))
            }
            return .completed(.object([("restored", .string("s3://\(bucket)/\(key)"))]))
        } catch let error as AWSError {
            return .failed(Self.failure(error))
        } catch {
            return .failed(ActionFailure(code: "error", message: "cannot put back s3://\(bucket)/\(key): \(error)"))
        }
    }
}
