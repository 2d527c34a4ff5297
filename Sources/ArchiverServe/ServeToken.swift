import ArchiverCore
import Crypto
import Foundation

/// The bearer token that guards the API and the page. Compared in constant time; never printed.
public struct ServeToken: Sendable, CustomStringConvertible {
    private let digest: [UInt8]
    /// Where it came from, for the start-up line (`the file /etc/archiver/token`, `ARCHIVER_SERVE_TOKEN`).
    public let origin: String

    /// The shortest token accepted.
    public static let minimumLength = 16

    public init(_ token: String, origin: String) throws {
        guard token.utf8.count >= Self.minimumLength else {
            throw ServeError.badToken("the token from \(origin) is \(token.utf8.count) characters long; use at least \(Self.minimumLength) (e.g. `openssl rand -hex 32`)")
        }
        guard token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw ServeError.badToken("the token from \(origin) holds spaces or characters outside printable ASCII; use e.g. `openssl rand -hex 32`")
        }
        digest = Array(SHA256.hash(data: Array(token.utf8)))
        self.origin = origin
    }

    /// Whether `candidate` is the token. Both sides are hashed first, so the comparison takes the same time whatever
    /// the candidate's length and wherever it differs.
    public func matches(_ candidate: some Collection<UInt8>) -> Bool {
        let other = Array(SHA256.hash(data: Array(candidate)))
        var difference: UInt8 = 0
        for (a, b) in zip(digest, other) { difference |= a ^ b }
        return difference == 0
    }

    public var description: String { "the token from \(origin)" }

    /// The token of a serve: `--token-file`, else `ARCHIVER_SERVE_TOKEN` (the token itself), else `serve.token-file`;
    /// with none, on a loopback address only, a random token written owner-only to `<state>/serve-token`.
    /// - Throws: `ServeError` for a non-loopback address without a token, an unreadable or short token.
    public static func resolve(flagFile: String?, environment: [String: String], configuredFile: String?, listen: ListenAddress,
                               stateFolder: String) throws -> ServeToken {
        if let file = flagFile { return try read(file: file, origin: "--token-file \(file)") }
        if let token = environment["ARCHIVER_SERVE_TOKEN"], !token.isEmpty { return try ServeToken(token, origin: "ARCHIVER_SERVE_TOKEN") }
        if let file = configuredFile { return try read(file: file, origin: "serve.token-file \(file)") }
        guard listen.isLoopback else {
            throw ServeError.noToken(
                "archiver serve will not listen on \(listen), which other machines can reach, without a token: give one with --token-file, "
                    + "ARCHIVER_SERVE_TOKEN or serve.token-file (e.g. `openssl rand -hex 32 > token; chmod 600 token`), or listen on 127.0.0.1")
        }
        let path = FileSystem.absolute(stateFolder) + "/serve-token"
        if FileManager.default.fileExists(atPath: path) { return try read(file: path, origin: "the state folder's serve-token file \(path)") }
        var bytes = [UInt8](repeating: 0, count: 32)
        for index in bytes.indices { bytes[index] = UInt8.random(in: .min ... .max) }
        let token = bytes.map { String(format: "%02x", $0) }.joined()
        _ = try FileSystem.makeFolders(FileSystem.absolute(stateFolder))
        try FileSystem.createPrivateFile(path)
        do {
            try Data((token + "\n").utf8).write(to: URL(fileURLWithPath: path))
        } catch {
            throw ServeError.badToken("cannot write a token to \(path): \((error as NSError).localizedDescription)")
        }
        return try ServeToken(token, origin: "the state folder's serve-token file \(path) (made now)")
    }

    private static func read(file: String, origin: String) throws -> ServeToken {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            throw ServeError.badToken("cannot read the token file \(FileSystem.absolute(file)): \((error as NSError).localizedDescription)")
        }
        var text = String(decoding: data, as: UTF8.self)
        while let last = text.last, last == "\n" || last == "\r" { text.removeLast() }
        return try ServeToken(text, origin: origin)
    }
}

/// `archiver serve` cannot start as asked: what is wrong and what to do. Never holds a token.
public struct ServeError: Error, Sendable, CustomStringConvertible {
    private enum Base: Sendable { case noToken, badToken, badSetting }
    private let base: Base
    public let description: String

    private init(_ base: Base, _ description: String) {
        self.base = base
        self.description = description
    }

    /// A non-loopback address without a token.
    public static func noToken(_ description: String) -> ServeError { ServeError(.noToken, description) }
    /// A token that cannot be used (unreadable, too short).
    public static func badToken(_ description: String) -> ServeError { ServeError(.badToken, description) }
    /// A setting that cannot be used.
    public static func badSetting(_ description: String) -> ServeError { ServeError(.badSetting, description) }
}
