import Foundation
import JSONToolkit

/// Carries out actions on local folder roots: `delete-object` unlinks one file, `delete-prefix` every file under
/// a folder (then the emptied folders), each folder synced after its names are removed. Paths are walked from the
/// root one segment at a time without following links (``FolderHandle``): a link inside the root is removed as a
/// link, never followed, and a target reached through a linked folder is refused. `keep` copies each file into the
/// archive (``KeptFiles``) before anything is deleted. `abort-multipart` has no meaning here and is refused.
///
/// File-system calls run off the Swift concurrency pool (they block), so a tail running the workers keeps reading.
public struct LocalFolderExecutor: ActionExecutor {
    /// Where kept files go; nil when no archive is configured (an action with `keep` then fails and retries).
    public let archive: (any ArchiveStore)?

    public init(archive: (any ArchiveStore)?) {
        self.archive = archive
    }

    public func handles(_ root: RootLocation) -> Bool {
        if case .folder = root { true } else { false }
    }

    public func execute(_ actions: [PreparedAction]) async -> [ActionResult] {
        var results: [ActionResult] = []
        for action in actions { results.append(await execute(action)) }
        return results
    }

    func execute(_ action: PreparedAction) async -> ActionResult {
        guard case .folder(let rootPath) = action.root else {
            return .failed(ActionFailure(code: "wrong-root", message: "\(action.root) is not a folder root", permanent: true))
        }
        if let problem = action.target.problem(under: action.root) {
            return .failed(ActionFailure(code: "unsafe-target", message: "\(problem); it is never run", permanent: true))
        }
        switch action.target {
        case .object(let key, let keep):
            return await deleteFile(key, keep: keep, rootPath: rootPath, action: action)
        case .prefix(let prefix, _, let keep):
            return await deleteFolder(prefix, keep: keep, rootPath: rootPath, action: action)
        case .multipartUpload:
            return .failed(ActionFailure(code: "wrong-root", message: "abort-multipart applies to S3 roots, not the folder \(action.root)", permanent: true))
        }
    }

    // MARK: delete-object

    private func deleteFile(_ key: String, keep: Bool, rootPath: String, action: PreparedAction) async -> ActionResult {
        let segments = key.split(separator: "/").map(String.init)
        let place = action.root.locate(key)
        var keptKey: String?
        if keep {
            switch KeptFiles.key(record: action.archiveKey, root: action.rootName, path: key) {
            case .success(let name): keptKey = name
            case .failure(let failure): return .failed(failure)
            }
        }
        // Look, and read the file to keep, without following links.
        let name = segments.last!
        let looked: Result<(parent: FolderHandle, kind: FolderHandle.Kind?, bytes: [UInt8]?), FolderHandle.Failure> = await runBlocking {
            do throws(FolderHandle.Failure) {
                let parent = try FolderHandle.root(rootPath).folder(path: Array(segments.dropLast()))
                let kind = try parent.kind(name)
                var bytes: [UInt8]?
                if keep, case .file? = kind { bytes = try parent.read(name) }
                return .success((parent, kind, bytes))
            } catch {
                return .failure(error)
            }
        }
        let found: (parent: FolderHandle, kind: FolderHandle.Kind?, bytes: [UInt8]?)
        switch looked {
        case .success(let value): found = value
        case .failure(let failure) where failure.isMissing: return await absent(keptKey)
        case .failure(let failure) where failure.isLink:
            return .failed(ActionFailure(
                code: "ELOOP", message: "a folder on the way to \(place) is a symbolic link; archiver never follows links out of a root", permanent: true))
        case .failure(let failure): return .failed(failure.action)
        }
        switch found.kind {
        case nil:
            return await absent(keptKey)
        case .folder?:
            return .failed(ActionFailure(code: "EISDIR", message: "\(place) is a folder; delete-object removes one file (delete-prefix removes a folder)", permanent: true))
        case .other?:
            return .failed(ActionFailure(code: "not-a-file", message: "\(place) is not a regular file (a device, a socket or a pipe); it was left alone", permanent: true))
        case .link?:
            if keep {
                return .failed(ActionFailure(code: "cannot-keep", message: "\(place) is a symbolic link; a link cannot be kept, so it was left alone", permanent: true))
            }
        case .file?:
            if let keptKey, let bytes = found.bytes {
                if let failure = await put(keptKey, bytes, place: place) { return .failed(failure) }
            }
        }
        let parent = found.parent
        let removed: Result<Void, FolderHandle.Failure> = await runBlocking {
            do throws(FolderHandle.Failure) {
                try parent.unlink(name)
                try parent.sync()
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        if case .failure(let failure) = removed { return .failed(failure.action) }
        return .completed(.object(omittingNil: ["deleted": .integer(1), "kept": keptKey.map(JSONValue.string)]))
    }

    /// The target is not there: done; with `keep`, say whether an earlier attempt kept it.
    private func absent(_ keptKey: String?) async -> ActionResult {
        var outcome: [(String, JSONValue)] = [("absent", .bool(true))]
        if let keptKey, let archive, (try? await archive.head(keptKey)) != nil { outcome.append(("kept", .string(keptKey))) }
        return .completed(.object(outcome))
    }

    private func put(_ key: String, _ bytes: [UInt8], place: String) async -> ActionFailure? {
        guard let archive else {
            return ActionFailure(code: "keep-failed", message: "\(place) is to be kept, and no archive is configured (--archive, or archive: in the configuration); nothing was deleted")
        }
        if let failure = await archive.put([ArchiveObject(key: key, body: bytes, metadata: [:])])[0] {
            return ActionFailure(code: "keep-failed", message: "could not keep \(place) in the archive as \(key): \(failure); nothing was deleted", permanent: failure.isRejected)
        }
        return nil
    }

    // MARK: delete-prefix

    /// A file found under a prefix: its folder's path below the prefix folder, and its name.
    private struct Found: Sendable {
        var folder: [String]
        var name: String
        var kind: FolderHandle.Kind
    }

    private func deleteFolder(_ prefix: String, keep: Bool, rootPath: String, action: PreparedAction) async -> ActionResult {
        let segments = prefix.split(separator: "/").map(String.init)
        let place = action.root.locate(prefix)
        let walked: Result<(parent: FolderHandle, top: FolderHandle, files: [Found], folders: [[String]]), FolderHandle.Failure> = await runBlocking {
            do throws(FolderHandle.Failure) {
                var files: [Found] = []
                var folders: [[String]] = []
                let parent = try FolderHandle.root(rootPath).folder(path: Array(segments.dropLast()))
                let top = try parent.folder(segments.last!)
                try Self.collect(top, at: [], files: &files, folders: &folders)
                return .success((parent, top, files, folders))
            } catch {
                return .failure(error)
            }
        }
        let (parent, top, files, folders): (FolderHandle, FolderHandle, [Found], [[String]])
        switch walked {
        case .success(let value): (parent, top, files, folders) = value
        case .failure(let failure) where failure.isMissing:
            return .completed(.object([("absent", .bool(true)), ("deleted", .integer(0))]))
        case .failure(let failure) where failure.isLink:
            return .failed(ActionFailure(
                code: "ELOOP", message: "\(place) or a folder on the way to it is a symbolic link; archiver never follows links out of a root", permanent: true))
        case .failure(let failure): return .failed(failure.action)
        }
        // Keep every file first; delete nothing unless all are kept.
        var kept = 0
        if keep {
            for file in files {
                let relative = prefix + (file.folder + [file.name]).joined(separator: "/")
                guard case .file = file.kind else {
                    return .failed(ActionFailure(code: "cannot-keep", message: "\(action.root.locate(relative)) is not a regular file and cannot be kept; nothing under \(place) was deleted", permanent: true))
                }
                let key: String
                switch KeptFiles.key(record: action.archiveKey, root: action.rootName, path: relative) {
                case .success(let name): key = name
                case .failure(let failure): return .failed(failure)
                }
                let read: Result<[UInt8], FolderHandle.Failure> = await runBlocking {
                    do throws(FolderHandle.Failure) { return .success(try top.folder(path: file.folder).read(file.name)) } catch { return .failure(error) }
                }
                switch read {
                case .success(let bytes):
                    if let failure = await put(key, bytes, place: action.root.locate(relative)) { return .failed(failure) }
                case .failure(let failure) where failure.isMissing: continue
                case .failure(let failure): return .failed(failure.action)
                }
                kept += 1
            }
        }
        // Delete exactly the files found (one created meanwhile was not kept), then the emptied folders, deepest first.
        let deleted: Result<Void, FolderHandle.Failure> = await runBlocking {
            do throws(FolderHandle.Failure) {
                var byFolder: [[String]: [String]] = [:]
                for file in files { byFolder[file.folder, default: []].append(file.name) }
                for (path, names) in byFolder {
                    let folder = try top.folder(path: path)
                    for name in names { try folder.unlink(name) }
                    try folder.sync()
                }
                for path in folders.sorted(by: { $0.count > $1.count }) {
                    let folder = try top.folder(path: Array(path.dropLast()))
                    try folder.removeFolder(path.last!)
                    try folder.sync()
                }
                try parent.removeFolder(segments.last!)
                try parent.sync()
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        switch deleted {
        case .success: break
        case .failure(let failure) where failure.code == ENOTEMPTY:
            return .failed(ActionFailure(code: "ENOTEMPTY", message: "files appeared under \(place) while it was being deleted; the next attempt takes them too"))
        case .failure(let failure): return .failed(failure.action)
        }
        var outcome: [(String, JSONValue)] = [("deleted", .integer(files.count))]
        if keep { outcome.append(("kept", .integer(kept))) }
        return .completed(.object(outcome))
    }

    /// Every file and link under `folder` (never following links), and every folder, by path below the top.
    private static func collect(_ folder: FolderHandle, at path: [String], files: inout [Found], folders: inout [[String]]) throws(FolderHandle.Failure) {
        for name in try folder.entries() {
            guard let kind = try folder.kind(name) else { continue }
            if kind == .folder {
                folders.append(path + [name])
                try collect(try folder.folder(name), at: path + [name], files: &files, folders: &folders)
            } else {
                files.append(Found(folder: path, name: name, kind: kind))
            }
        }
    }

    // MARK: restore

    public func restore(_ files: [KeptFile], overwrite: Bool) async -> [ActionResult] {
        var results: [ActionResult] = []
        for file in files { results.append(await restore(file, overwrite: overwrite)) }
        return results
    }

    private func restore(_ file: KeptFile, overwrite: Bool) async -> ActionResult {
        guard case .folder(let rootPath) = file.root else {
            return .failed(ActionFailure(code: "wrong-root", message: "\(file.root) is not a folder root", permanent: true))
        }
        if let problem = TargetCheck.problem(file.path, shape: .object, root: file.root, subject: "its path \(TargetCheck.quoted(file.path))") {
            return .failed(ActionFailure(code: "unsafe-target", message: "the kept file \(file.archiveKey) cannot be put back: \(problem)", permanent: true))
        }
        guard let archive else { return .failed(ActionFailure(code: "no-archive", message: "no archive to restore files from", permanent: true)) }
        let bytes: [UInt8]
        do { bytes = try await archive.get(file.archiveKey) } catch {
            return .failed(ActionFailure(code: "archive-read", message: "cannot read \(file.archiveKey) from the archive: \(error)"))
        }
        let segments = file.path.split(separator: "/").map(String.init)
        let written: Result<Void, FolderHandle.Failure> = await runBlocking {
            do throws(FolderHandle.Failure) {
                var folder = try FolderHandle.root(rootPath)
                for segment in segments.dropLast() { folder = try folder.makeFolder(segment) }
                try folder.write(segments.last!, bytes, replace: overwrite)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        switch written {
        case .success: break
        case .failure(let failure) where failure.code == EEXIST:
            return .failed(ActionFailure(code: "exists", message: "\(file.root.locate(file.path)) exists; pass --overwrite to replace it", permanent: true))
        case .failure(let failure) where failure.isLink:
            return .failed(ActionFailure(code: "ELOOP", message: "a folder on the way to \(file.root.locate(file.path)) is a symbolic link; nothing was written", permanent: true))
        case .failure(let failure): return .failed(failure.action)
        }
        return .completed(.object([("restored", .string(file.root.locate(file.path))), ("bytes", .integer(bytes.count))]))
    }
}
