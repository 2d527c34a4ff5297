import Foundation
import JSONToolkit

extension LifecyclePolicy {
    /// Reads and validates a policy file.
    /// - Throws: `LifecyclePolicyError` naming the file: missing (and where the default is), unreadable,
    ///   not JSON, not the lifecycle configuration's shape, or breaking a rule S3 enforces.
    public static func load(path: String) throws -> LifecyclePolicy {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(path)
        } catch let error as FileSystem.Failure where error.code == ENOENT || error.code == ENOTDIR {
            throw LifecyclePolicyError(
                .missingFile, file: path, problem: "there is no lifecycle policy file here",
                fix: "give --policy a file that exists, or leave --policy out to use the default "
                    + "(\(defaultPath) in the archiver source tree, also built into archiver)")
        } catch {
            throw LifecyclePolicyError(.unreadable, file: path, problem: "the policy cannot be read (\(error))", fix: "check the path and its permissions")
        }
        do {
            return try decode(bytes)
        } catch let error as LifecyclePolicyError {
            throw error.inFile(path)
        }
    }

    /// Decodes and validates a policy from JSON bytes.
    /// - Throws: `LifecyclePolicyError` (`.badJSON` or `.invalid`).
    public static func decode(_ bytes: [UInt8]) throws -> LifecyclePolicy {
        let policy: LifecyclePolicy
        do {
            try rejectUndefinedFields(bytes)
            policy = try JSONDecoder().decode(LifecyclePolicy.self, from: Data(bytes))
        } catch let error as LifecyclePolicyError {
            throw error
        } catch let error as DecodingError {
            throw LifecyclePolicyError(decoding: error, syntax: jsonSyntaxProblem(bytes))
        } catch {
            throw LifecyclePolicyError(.badJSON, problem: "the policy cannot be read as JSON (\(error))", fix: fixForShape)
        }
        try policy.validate()
        return policy
    }

    /// Which policy to use: the file at `path` when given; otherwise `lifecycle/default.json` under
    /// `workingFolder` when it exists; otherwise the built-in copy of the default.
    /// - Returns: the policy and where it came from, for people (a path, or "built-in default").
    public static func resolve(path: String?, workingFolder: String) throws -> (policy: LifecyclePolicy, source: String) {
        if let path {
            return (try load(path: path), path)
        }
        let candidate = workingFolder.isEmpty ? defaultPath : workingFolder + "/" + defaultPath
        if FileSystem.exists(candidate) {
            return (try load(path: candidate), defaultPath)
        }
        return (LifecyclePolicy.default, "built-in default (\(defaultPath))")
    }

    static let fixForShape = "write the JSON that `aws s3api put-bucket-lifecycle-configuration --lifecycle-configuration` takes, "
        + "as in \(defaultPath)"
}

extension LifecyclePolicyError {
    /// Says a decoding error in terms of the policy's fields.
    init(decoding error: DecodingError, syntax: String? = nil) {
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            self.init(
                .badJSON, problem: "the file is not valid JSON (\(syntax ?? context.debugDescription))",
                fix: "fix the JSON syntax; `python3 -m json.tool FILE` shows where it breaks")
        case .dataCorrupted(let context):
            self.init(.badJSON, location: context.codingPath.isEmpty ? nil : policyPath(context.codingPath), problem: context.debugDescription, fix: LifecyclePolicy.fixForShape)
        case .keyNotFound(let key, let context):
            self.init(
                .badJSON, location: context.codingPath.isEmpty ? nil : policyPath(context.codingPath), problem: "the field \"\(key.stringValue)\" is missing",
                fix: key.stringValue == "Rules" ? "the policy is {\"Rules\": [ … ]}, as in \(LifecyclePolicy.defaultPath)" : "add it")
        case .typeMismatch(let type, let context):
            self.init(
                .badJSON, location: context.codingPath.isEmpty ? nil : policyPath(context.codingPath), problem: "expected \(jsonKind(type)) here",
                fix: LifecyclePolicy.fixForShape)
        case .valueNotFound(let type, let context):
            self.init(
                .badJSON, location: context.codingPath.isEmpty ? nil : policyPath(context.codingPath), problem: "expected \(jsonKind(type)), found null",
                fix: "give a value or leave the field out")
        @unknown default:
            self.init(.badJSON, problem: "\(error)", fix: LifecyclePolicy.fixForShape)
        }
    }
}

private func jsonKind(_ type: Any.Type) -> String {
    switch type {
    case is Int.Type, is Int64.Type: "a whole number"
    case is String.Type: "a string"
    case is Bool.Type: "true or false"
    case is [Any].Type: "a list [ … ]"
    case is [String: Any].Type: "an object { … }"
    default: "a value of another kind"
    }
}

/// Where JSON syntax breaks, as "line L, column C: what", or nil when it is valid JSON.
private func jsonSyntaxProblem(_ bytes: [UInt8]) -> String? {
    // A byte-order mark is no character of the text (and the decoder passes over it too).
    let text = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
    do {
        _ = try JSONValue.parse(text)
        return nil
    } catch {
        return error.located(in: text)
    }
}
