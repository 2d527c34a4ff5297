import AWSClients
import ArchiverCore
import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Runs the built binary against moto with distinctive fake credentials and a session token — successful runs
/// and failing ones (a missing bucket, an endpoint that refuses connections, credentials moto rejects), at the
/// trace and debug log levels — and searches everything they wrote for the secret, the token and signatures.
@Suite("Secrets never appear in outputs, logs, state or dead letters")
struct SecretsInOutputTests {
    static let accessKeyID = "AKIAGREPME7EXAMPLE42"
    static let secret = "gReP/mE+SeCrEt7wJalrXUtnFEMIK7MDENGbPxRfiCYZZ9"
    static let token = "FwoGZXIvYXdzEGrepMeTOKEN//yNzQ8k3Vq+7LmBd1RsTa0PjHwXcYe2FbUg4Ki9Oz=="

    /// The environment of every run: the fake credentials and token on moto, at `level`.
    static func environment(_ server: MotoServer, level: String, keyID: String = accessKeyID, endpoint: String? = nil) -> [String: String] {
        var env = server.awsEnvironment(credentials: AWSCredentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: token))
        env["AWS_SESSION_TOKEN"] = token
        env["ARCHIVER_LOG_LEVEL"] = level
        if let endpoint { env["AWS_ENDPOINT_URL"] = endpoint }
        return env
    }

    /// A loopback port nothing listens on (bound, then closed).
    static func closedPort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// What must never be found, and the name to report it by.
    static func leaks(in text: String) -> [String] {
        var found: [String] = []
        if text.contains(secret) { found.append("the secret access key") }
        if text.contains(token) { found.append("the session token") }
        // Parts of them, as a careless cut or an escaped form would leave.
        if text.contains("SeCrEt7wJalr") { found.append("part of the secret access key") }
        if text.contains("GrepMeTOKEN") { found.append("part of the session token") }
        if text.range(of: "Signature=", options: .caseInsensitive) != nil { found.append("Signature=") }
        if text.range(of: "X-Amz-Security-Token", options: .caseInsensitive) != nil { found.append("a security token header") }
        if text.range(of: "[0-9a-fA-F]{64}", options: .regularExpression) != nil { found.append("a 64-hex-digit string (a signature or signing key)") }
        return found
    }

    @Test func theSearchFindsWhatItLooksFor() {
        #expect(Self.leaks(in: "ok: s3.bucket=b s3.key=2024/01/15/USER#1.103000.1100000000017454423011.manual.json.gz").isEmpty)
        #expect(Self.leaks(in: "Authorization: AWS4-HMAC-SHA256 Credential=AKIA/20240115/us-east-1/s3/aws4_request, Signature=1") == ["Signature="])
        #expect(Self.leaks(in: String(repeating: "ab", count: 32)) == ["a 64-hex-digit string (a signature or signing key)"])
        #expect(Self.leaks(in: "secret=\(Self.secret.prefix(30))").contains("part of the secret access key"))
        #expect(Self.leaks(in: Self.token).contains("the session token"))
    }

    @Test func noRunLeaksTheCredentials() async throws {
        let server = try await MotoServer.shared()
        let folder = TemporaryFolder("secrets")
        defer { folder.remove() }
        let setup = S3Client(settings: server.settings(), retryPolicy: RetryPolicy(maxAttempts: 2))
        let bucket = MotoServer.uniqueName("secrets")
        try await setup.createBucket(bucket)
        let feed = PackagePaths.root + "/fixtures/feed.jsonl"
        var outputs: [(String, BuiltBinary.Result)] = []
        func run(_ arguments: [String], _ env: [String: String], expectSuccess: Bool) throws -> BuiltBinary.Result {
            let result = try BuiltBinary.run(arguments, in: folder.path, environment: env)
            #expect((result.status == 0) == expectSuccess, "\(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr.suffix(800))")
            // A failing run fails with an error message, not a crash.
            #expect(expectSuccess || result.stderr.contains("Error: "), "\(arguments.joined(separator: " ")): \(result.stderr.suffix(800))")
            outputs.append((arguments.prefix(2).joined(separator: " ") + " (\(env["ARCHIVER_LOG_LEVEL"] ?? ""))", result))
            return result
        }

        for level in ["trace", "debug"] {
            let env = Self.environment(server, level: level)
            let archive = "s3://\(bucket)/\(level)"
            let state = "state-\(level)"
            let tail = try run(["tail", "--source", "jsonl:\(feed)", "--archive", archive, "--state", state, "--once", "--sse", "AES256"], env, expectSuccess: true)
            #expect(tail.stderr.contains("AWS request succeeded"), "debug logging was not on: the search would prove nothing")
            _ = try run(["dlq", "list", "--state", state], env, expectSuccess: true)
            _ = try run(["dlq", "retry", "--state", state, "--archive", archive], env, expectSuccess: true)
            let ls = try run(["ls", "--archive", archive, "--json"], env, expectSuccess: true)
            let key = try #require(ls.stdout.split(separator: "\n").compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["key"] as? String
            }.first ?? ((try? JSONSerialization.jsonObject(with: Data(ls.stdout.utf8))) as? [[String: Any]])?.first?["key"] as? String)
            _ = try run(["restore", key, "--archive", archive, "--to", "-"], env, expectSuccess: true)
            _ = try run(["sync", "2024-01", "sync-\(level)", "--archive", archive, "--jsonl", "sync-\(level).jsonl"], env, expectSuccess: true)

            // Failing runs: a bucket that does not exist, an endpoint that refuses connections.
            let missing = "s3://\(MotoServer.uniqueName("missing"))"
            _ = try run(["tail", "--source", "jsonl:\(feed)", "--archive", missing, "--state", "state-missing-\(level)", "--once"], env, expectSuccess: false)
            _ = try run(["ls", "--archive", missing], env, expectSuccess: false)
            let refused = Self.environment(server, level: level, endpoint: "http://127.0.0.1:\(Self.closedPort())")
            _ = try run(["ls", "--archive", archive], refused, expectSuccess: false)
            _ = try run(["restore", key, "--archive", archive, "--to", "-"], refused, expectSuccess: false)
            _ = try run(["sync", "2024-01", "sync-refused-\(level)", "--archive", archive], refused, expectSuccess: false)
        }

        // Credentials moto's authentication rejects: a real access key with the fake secret, with the fake token
        // (refused as InvalidToken) and without it (refused as SignatureDoesNotMatch).
        let auth = try await MotoServer.start(environment: ["INITIAL_NO_AUTH_ACTION_COUNT": "4"])
        defer { auth.stop() }
        let user = try await MotoIAM(server: auth).createUserWithAccessKey(userName: "archiver-secrets")
        let authBucket = MotoServer.uniqueName("secrets-auth")
        try await S3Client(settings: auth.settings(credentials: user)).createBucket(authBucket)
        for (level, withToken) in [("trace", true), ("debug", true), ("trace", false), ("debug", false)] {
            var env = Self.environment(auth, level: level, keyID: user.accessKeyID)
            if !withToken { env["AWS_SESSION_TOKEN"] = nil }
            let state = "state-auth-\(level)-\(withToken)"
            let tail = try run(
                ["tail", "--source", "jsonl:\(feed)", "--archive", "s3://\(authBucket)/x", "--state", state, "--once"], env, expectSuccess: false)
            let why = withToken ? "InvalidToken" : "SignatureDoesNotMatch"
            #expect(tail.stderr.contains(why), "the rejected run does not say \(why): \(tail.stderr.suffix(600))")
            _ = try run(["ls", "--archive", "s3://\(authBucket)"], env, expectSuccess: false)
            _ = try run(["restore", "2024/01/29/X.000000.1.manual.json.gz", "--archive", "s3://\(authBucket)", "--to", "-"], env, expectSuccess: false)
            _ = try run(["sync", "2024-01", "sync-auth-\(level)-\(withToken)", "--archive", "s3://\(authBucket)"], env, expectSuccess: false)
        }

        var problems: [String] = []
        for (name, result) in outputs {
            for leak in Self.leaks(in: result.stdout) { problems.append("\(name): standard output has \(leak)") }
            for leak in Self.leaks(in: result.stderr) { problems.append("\(name): standard error has \(leak)") }
        }
        // Every file the runs wrote: checkpoints, dead letters, synced objects, JSON lines.
        var searched = 0
        for file in folder.files() {
            guard let data = FileManager.default.contents(atPath: folder(file)) else { continue }
            searched += 1
            var texts = [String(decoding: data, as: UTF8.self)]
            if file.hasSuffix(".gz"), let plain = try? gunzip(Array(data)) { texts.append(String(decoding: plain, as: UTF8.self)) }
            if file.contains("dead-letters/"), let entry = try? JSONDecoder().decode(DeadLetter.self, from: data) {
                texts.append(String(decoding: entry.raw, as: UTF8.self))
            }
            for text in texts { for leak in Self.leaks(in: text) { problems.append("\(file) has \(leak)") } }
        }
        #expect(searched > 100, "only \(searched) files were written: the runs did not do what the search needs")
        #expect(folder.files().contains { $0.hasPrefix("state-trace/dead-letters/") }, "no dead letters were written")
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }
}
