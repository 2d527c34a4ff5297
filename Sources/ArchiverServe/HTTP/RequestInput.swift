import Foundation
import Hummingbird
import JSONToolkit

/// A request's query parameters, read into typed values with errors that name the parameter. A parameter the
/// endpoint does not take is refused by name (a typo must not be quietly ignored).
struct QueryParameters {
    private var values: [String: String] = [:]

    init(_ request: Request, allowed: [String]) throws {
        // Read as a form is (`+` is a space), as browsers send a GET form.
        for (name, value) in FormBody(Array((request.uri.query ?? "").utf8)).fields {
            guard allowed.contains(name) else {
                let known = allowed.isEmpty ? "this endpoint takes no query parameters" : "it takes \(allowed.joined(separator: ", "))"
                throw APIError.badRequest("unknown query parameter '\(name)'; \(known)", field: name)
            }
            guard values[name] == nil else { throw APIError.badRequest("'\(name)' is given twice", field: name) }
            values[name] = value
        }
    }

    /// Text, if given (an empty value counts as not given).
    func string(_ name: String) -> String? {
        values[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Text that must be given.
    func required(_ name: String, _ what: String) throws -> String {
        guard let value = string(name) else { throw APIError.badRequest("'\(name)' is required: \(what)", field: name) }
        return value
    }

    /// A whole number within `range`, or `fallback` when not given.
    func int(_ name: String, in range: ClosedRange<Int>, default fallback: Int) throws -> Int {
        guard let text = string(name) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw APIError.badRequest("'\(name)' must be a whole number from \(range.lowerBound) to \(range.upperBound) (got '\(text.prefix(40))')", field: name)
        }
        return value
    }

    /// One of `choices`, if given.
    func choice(_ name: String, _ choices: [String]) throws -> String? {
        guard let text = string(name) else { return nil }
        guard choices.contains(text) else {
            throw APIError.badRequest("'\(name)' must be one of \(choices.joined(separator: ", ")) (got '\(text.prefix(40))')", field: name)
        }
        return text
    }
}

/// A JSON request body read member by member, with errors that name the member. Members the endpoint does not
/// take are refused by name.
struct JSONBody {
    private let members: [(String, JSONValue)]
    private var read: [String] = []

    /// Reads the body; an empty body is an empty object when `optional`.
    init(_ request: Request, context: ServeRequestContext, optional: Bool = false) async throws {
        var request = request
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        let bytes = Array(buffer.readableBytesView)
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            guard optional else { throw APIError.badRequest("the request needs a JSON object as its body", field: "body") }
            members = []
            return
        }
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch {
            throw APIError.badRequest("the body is not JSON: \(error)", field: "body")
        }
        guard case .object(let members) = value else { throw APIError.badRequest("the body must be a JSON object", field: "body") }
        self.members = members
    }

    private mutating func value(_ key: String) -> JSONValue? {
        read.append(key)
        guard let value = members.first(where: { $0.0 == key })?.1 else { return nil }
        if case .null = value { return nil }
        return value
    }

    mutating func string(_ key: String) throws -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else { throw APIError.badRequest("'\(key)' must be a string", field: key) }
        return text
    }

    mutating func requiredString(_ key: String, _ what: String) throws -> String {
        guard let text = try string(key), !text.isEmpty else { throw APIError.badRequest("'\(key)' is required: \(what)", field: key) }
        return text
    }

    mutating func bool(_ key: String, default fallback: Bool) throws -> Bool {
        guard let value = value(key) else { return fallback }
        guard case .bool(let flag) = value else { throw APIError.badRequest("'\(key)' must be true or false", field: key) }
        return flag
    }

    mutating func strings(_ key: String) throws -> [String]? {
        guard let value = value(key) else { return nil }
        guard case .array(let items) = value else { throw APIError.badRequest("'\(key)' must be an array of strings", field: key) }
        return try items.map { item in
            guard case .string(let text) = item else { throw APIError.badRequest("'\(key)' must be an array of strings", field: key) }
            return text
        }
    }

    /// Refuses members nobody read.
    func finish() throws {
        for (key, _) in members where !read.contains(key) {
            let known = read.isEmpty ? "this endpoint takes no body members" : "it takes \(read.joined(separator: ", "))"
            throw APIError.badRequest("unknown member '\(key)'; \(known)", field: key)
        }
    }
}

/// An `application/x-www-form-urlencoded` body (the page's forms).
struct FormBody {
    private(set) var fields: [(String, String)] = []

    init(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String {
                String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            fields.append((decode(parts[0]), parts.count > 1 ? decode(parts[1]) : ""))
        }
    }

    /// Reads a request's form body (and keeps it readable for the handler).
    static func read(_ request: inout Request, context: ServeRequestContext) async throws -> FormBody {
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        return FormBody(Array(buffer.readableBytesView))
    }

    subscript(_ name: String) -> String? { fields.first { $0.0 == name }?.1 }

    func all(_ name: String) -> [String] { fields.filter { $0.0 == name }.map(\.1) }
}
