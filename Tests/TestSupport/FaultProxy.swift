import AWSClients
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// `scripts/fault-proxy.py` in front of a ``MotoServer``: a loopback HTTP proxy that answers a share of the
/// requests with faults (500, 503 SlowDown, throttling, connection resets, stalls, truncated bodies) and counts
/// the attempts of every request, so a test can check that retries stay bounded.
public final class FaultProxy: Sendable {
    /// The proxy's port on 127.0.0.1.
    public let port: Int
    /// `http://127.0.0.1:<port>`.
    public let endpoint: URL
    /// The server behind the proxy.
    public let server: MotoServer
    /// The proxy's own output (Python errors), for reading when a test fails.
    public let logPath: String
    private let pid: Int32

    /// Fault shares by kind: "500", "503", "throttle", "reset", "reset-after", "stall", "truncate".
    public typealias Faults = [String: Double]

    /// Starts a proxy in front of `server`.
    /// - Parameters:
    ///   - faults: the share of requests answered with each fault.
    ///   - stallSeconds: how long a stalled request hangs before its connection is closed.
    ///   - expiredIterator: the share of DynamoDB Streams GetRecords answered ExpiredIteratorException.
    ///   - trimOnce: answer the first GetShardIterator after a sequence number with TrimmedDataAccessException.
    ///   - keyErrors: the share of the keys of each S3 DeleteObjects call answered with a per-key error (and not deleted).
    public init(frontOf server: MotoServer, faults: Faults = [:], seed: Int? = nil, stallSeconds: Double = 3,
                expiredIterator: Double = 0, trimOnce: Bool = false, keyErrors: Double = 0) throws {
        self.server = server
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        var arguments = [
            "python3", PackagePaths.root + "/scripts/fault-proxy.py", "--upstream", server.endpoint.absoluteString,
            "--faults", Self.text(faults), "--stall-seconds", "\(stallSeconds)", "--expired-iterator", "\(expiredIterator)",
            "--key-errors", "\(keyErrors)",
        ]
        if let seed { arguments += ["--seed", "\(seed)"] }
        if trimOnce { arguments.append("--trim-once") }
        process.arguments = arguments
        let out = Pipe()
        let logPath = NSTemporaryDirectory() + "fault-proxy-\(UUID().uuidString.prefix(8)).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        defer { try? log.close() }
        process.standardOutput = out
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        guard let port = Int(try ChildProcess.firstLine(of: out)) else {
            process.terminate()
            let message = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            throw FaultProxyError("the fault proxy did not start: \(message)")
        }
        self.port = port
        self.logPath = logPath
        self.pid = process.processIdentifier
        endpoint = URL(string: "http://127.0.0.1:\(port)")!
        ChildProcess.killWhenOrphaned(pid)
    }

    deinit { stop() }

    /// Stops the proxy.
    public func stop() { kill(pid, SIGKILL) }

    static func text(_ faults: Faults) -> String {
        faults.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    /// The environment for the archiver binary (or any AWS client) to go through the proxy.
    public func awsEnvironment() -> [String: String] {
        var environment = server.awsEnvironment()
        environment["AWS_ENDPOINT_URL"] = endpoint.absoluteString
        return environment
    }

    /// Settings pointing every service at the proxy.
    public func settings() -> AWSSettings {
        AWSSettings(
            credentials: MotoServer.credentials, region: MotoServer.region,
            customEndpoints: Dictionary(uniqueKeysWithValues: AWSService.allCases.map { ($0, endpoint) }),
            s3AddressingStyle: .path, credentialSource: "test")
    }

    // MARK: Control

    /// What the proxy saw.
    public struct Stats: Sendable {
        /// Requests forwarded or faulted (control requests not counted).
        public var requests: Int
        /// Faults injected, by kind.
        public var faults: [String: Int]
        /// Attempts by "METHOD /path".
        public var byRequest: [String: Int]
        /// Each API call (by its amz-sdk-invocation-id): its "METHOD /path", the attempts its retry policy made
        /// (distinct `attempt=` numbers of amz-sdk-request), the requests that reached the wire (more when the
        /// HTTP stack resent an attempt by itself), and the `max` it announced.
        public var byInvocation: [(request: String, attempts: Int, requests: Int, max: Int)]

        /// Retries made by the retry policy: attempts beyond the first of each call.
        public var retries: Int { byInvocation.reduce(0) { $0 + $1.attempts - 1 } }
        /// Attempts the HTTP stack resent by itself.
        public var resends: Int { byInvocation.reduce(0) { $0 + $1.requests - $1.attempts } }
        /// The most attempts any one call made.
        public var mostAttempts: Int { byInvocation.map(\.attempts).max() ?? 0 }
        /// The most requests any one call put on the wire.
        public var mostRequests: Int { byInvocation.map(\.requests).max() ?? 0 }
        /// Faults of every kind.
        public var faultCount: Int { faults.values.reduce(0, +) }
    }

    /// The counts so far.
    public func stats() async throws -> Stats {
        let object = try await control("GET", "stats")
        let invocations = (object["by_invocation"] as? [String: [String: Any]] ?? [:]).values.map {
            (request: $0["request"] as? String ?? "", attempts: $0["attempts"] as? Int ?? 0, requests: $0["requests"] as? Int ?? 0,
             max: $0["max"] as? Int ?? 0)
        }
        return Stats(
            requests: object["requests"] as? Int ?? 0, faults: object["faults"] as? [String: Int] ?? [:],
            byRequest: object["by_request"] as? [String: Int] ?? [:], byInvocation: invocations)
    }

    /// Refuses connections for `seconds` (listener closed, open connections reset), then serves again.
    public func goDown(seconds: Double) async throws {
        _ = try await control("POST", "down?seconds=\(seconds)")
    }

    /// Changes the faults from now on.
    /// `expireNext`: the next that many GetRecords answer ExpiredIteratorException.
    public func setFaults(_ faults: Faults, expiredIterator: Double? = nil, expireNext: Int? = nil, trimOnce: Bool? = nil, keyErrors: Double? = nil) async throws {
        var config: [String: Any] = ["faults": faults]
        if let keyErrors { config["key_errors"] = keyErrors }
        if let expireNext { config["expire_next"] = expireNext }
        if let expiredIterator { config["expired_iterator"] = expiredIterator }
        if let trimOnce { config["trim_once"] = trimOnce }
        _ = try await control("POST", "config", body: try JSONSerialization.data(withJSONObject: config))
    }

    private func control(_ method: String, _ path: String, body: Data? = nil) async throws -> [String: Any] {
        var request = URLRequest(url: URL(string: "\(endpoint.absoluteString)/__fault/\(path)")!)
        request.httpMethod = method
        request.httpBody = body
        request.timeoutInterval = 10
        let (data, _) = try await URLSession.shared.data(for: request)
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

}

/// Why the fault proxy could not be had.
public struct FaultProxyError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Settings of the fault tests: the bounded CI form by default, longer soak runs through the environment.
public enum FaultSoak {
    /// `ARCHIVER_FAULT_RECORDS`: records in the feed of the fault-proxy tail (default `ci`).
    public static func records(ci: Int) -> Int { value("ARCHIVER_FAULT_RECORDS").map(Int.init) ?? ci }
    /// `ARCHIVER_FAULT_OUTAGE_SECONDS`: how long S3 is down in the outage test (default `ci`).
    public static func outageSeconds(ci: Double) -> Double { value("ARCHIVER_FAULT_OUTAGE_SECONDS") ?? ci }
    /// `ARCHIVER_FAULT_SHARE`: the share of requests faulted in the fault-proxy tail (default `ci`).
    public static func share(ci: Double) -> Double { value("ARCHIVER_FAULT_SHARE") ?? ci }

    private static func value(_ name: String) -> Double? {
        ProcessInfo.processInfo.environment[name].flatMap(Double.init).flatMap { $0 > 0 ? $0 : nil }
    }
}
