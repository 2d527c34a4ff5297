import AWSClients
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A `moto_server` (the AWS emulator from the Python `moto` package) on a free loopback port.
///
/// ``shared()`` starts one server per test process and stops it when the process exits; ``start(environment:)``
/// starts a private one (e.g. with `INITIAL_NO_AUTH_ACTION_COUNT` for signature tests), stopped by ``stop()``
/// or when the object goes away. Servers bind 127.0.0.1 only. If `moto_server` is not on PATH, starting
/// fails with a message saying how to install it (scripts/test does).
public final class MotoServer: Sendable {
    /// The region tests use.
    public static let region = "us-east-1"
    /// Credentials moto accepts (any are accepted until authentication is switched on).
    public static let credentials = AWSCredentials(accessKeyID: "testing", secretAccessKey: "testing")

    /// The port the server listens on.
    public let port: Int
    /// `http://127.0.0.1:<port>`.
    public let endpoint: URL
    /// The server's output, for reading when a test fails.
    public let logPath: String
    private let pid: Int32

    private init(port: Int, pid: Int32, logPath: String) {
        self.port = port
        self.pid = pid
        self.logPath = logPath
        self.endpoint = URL(string: "http://127.0.0.1:\(port)")!
    }

    deinit { stop() }

    // MARK: Starting and stopping

    private actor Shared {
        var task: Task<MotoServer, Error>?
        func server() async throws -> MotoServer {
            if let task { return try await task.value }
            let task = Task { try await MotoServer.launch(environment: [:]) }
            self.task = task
            return try await task.value
        }
    }
    private static let sharedState = Shared()

    /// The one server of this test process, started on first use and stopped at process exit.
    public static func shared() async throws -> MotoServer {
        try await sharedState.server()
    }

    /// Starts a private server with extra environment variables (e.g. `["INITIAL_NO_AUTH_ACTION_COUNT": "4"]`).
    public static func start(environment: [String: String] = [:]) async throws -> MotoServer {
        try await launch(environment: environment)
    }

    /// Stops the server. Safe to call more than once.
    ///
    /// SIGKILL, because the server inherits the signal mask of the thread that spawned it, in which SIGTERM is
    /// usually blocked; moto keeps nothing on disk that would need a clean shutdown.
    public func stop() {
        guard Self.forget(pid) else { return }
        kill(pid, SIGKILL)
    }

    /// Forgets all of moto's state (buckets, tables, users). Do not use on the shared server while other tests run.
    public func reset() async throws {
        var request = URLRequest(url: endpoint.appendingPathComponent("moto-api/reset"))
        request.httpMethod = "POST"
        _ = try await URLSession.shared.data(for: request)
    }

    private static func launch(environment: [String: String]) async throws -> MotoServer {
        guard let executable = findExecutable("moto_server") else { throw MotoServerError.notInstalled }
        var lastError: Error = MotoServerError.didNotStart(log: "")
        for _ in 0..<3 {
            let port = try freeLoopbackPort()
            let logPath = NSTemporaryDirectory() + "moto-\(port)-\(UUID().uuidString.prefix(8)).log"
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = ["-H", "127.0.0.1", "-p", String(port)]
            var env = ProcessInfo.processInfo.environment
            for (k, v) in environment { env[k] = v }
            process.environment = env
            process.standardOutput = log
            process.standardError = log
            process.standardInput = FileHandle.nullDevice
            try process.run()
            try? log.close()
            let server = MotoServer(port: port, pid: process.processIdentifier, logPath: logPath)
            remember(server.pid)
            ChildProcess.killWhenOrphaned(server.pid)
            if await server.waitUntilReady(process: process) { return server }
            let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            server.stop()
            lastError = MotoServerError.didNotStart(log: String(text.suffix(2000)))
        }
        throw lastError
    }

    private func waitUntilReady(process: Process) async -> Bool {
        let deadline = Date().addingTimeInterval(60)
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = 2
        let session = URLSession(configuration: config)
        defer { session.finishTasksAndInvalidate() }
        while Date() < deadline {
            guard process.isRunning else { return false }
            var request = URLRequest(url: endpoint.appendingPathComponent("moto-api/data.json"))
            request.timeoutInterval = 2
            if let (_, response) = try? await session.data(for: request), (response as? HTTPURLResponse) != nil {
                return true
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    // MARK: Helpers for tests

    /// Settings pointing every service at this server, path-style, with `credentials`.
    public func settings(credentials: AWSCredentials = MotoServer.credentials) -> AWSSettings {
        AWSSettings(
            credentials: credentials, region: Self.region,
            customEndpoints: Dictionary(uniqueKeysWithValues: AWSService.allCases.map { ($0, endpoint) }),
            s3AddressingStyle: .path, credentialSource: "test")
    }

    /// The environment for any AWS client run as a subprocess against this server (boto3, the aws CLI, the archiver binary):
    /// test credentials, the region, `AWS_ENDPOINT_URL`, and no shared files.
    public func awsEnvironment(credentials: AWSCredentials = MotoServer.credentials) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        for key in env.keys where key.hasPrefix("AWS_") { env[key] = nil }
        env["AWS_ACCESS_KEY_ID"] = credentials.accessKeyID
        env["AWS_SECRET_ACCESS_KEY"] = credentials.secretAccessKey
        env["AWS_DEFAULT_REGION"] = Self.region
        env["AWS_ENDPOINT_URL"] = endpoint.absoluteString
        env["AWS_CONFIG_FILE"] = "/dev/null"
        env["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null"
        return env
    }

    /// A name no other test uses, valid as an S3 bucket and a DynamoDB table: lower case, digits and dashes.
    public static func uniqueName(_ prefix: String = "test") -> String {
        let clean = prefix.lowercased().map { ($0.isLetter && $0.isASCII) || $0.isNumber ? $0 : "-" }
        return String(String(clean).prefix(40)) + "-" + UUID().uuidString.lowercased().prefix(13).replacingOccurrences(of: "-", with: "")
    }

    // MARK: Process bookkeeping

    private static let lock = NSLock()
    nonisolated(unsafe) private static var running: Set<Int32> = []
    nonisolated(unsafe) private static var exitHookInstalled = false

    private static func remember(_ pid: Int32) {
        lock.lock()
        defer { lock.unlock() }
        running.insert(pid)
        if !exitHookInstalled {
            exitHookInstalled = true
            atexit { MotoServer.stopAllAtExit() }
        }
    }

    private static func forget(_ pid: Int32) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return running.remove(pid) != nil
    }

    private static func stopAllAtExit() {
        lock.lock()
        let pids = running
        running = []
        lock.unlock()
        for pid in pids { kill(pid, SIGKILL) }
    }

    private static func findExecutable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// A port that was free on 127.0.0.1 a moment ago: bind port 0, read the port, release it.
    static func freeLoopbackPort() throws -> Int {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw MotoServerError.noFreePort }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw MotoServerError.noFreePort }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw MotoServerError.noFreePort }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Why a moto server could not be had.
public enum MotoServerError: Error, CustomStringConvertible {
    /// `moto_server` is not on PATH.
    case notInstalled
    /// The server did not answer in time; the end of its log.
    case didNotStart(log: String)
    /// No loopback port could be reserved.
    case noFreePort

    public var description: String {
        switch self {
        case .notInstalled:
            return "moto_server is not on PATH: run the tests with scripts/test, which installs moto, "
                + "or install it yourself with: pip install 'moto[server]' boto3"
        case .didNotStart(let log):
            return "moto_server did not start on 127.0.0.1; its log ends with:\n\(log)"
        case .noFreePort:
            return "could not reserve a free port on 127.0.0.1 for moto_server"
        }
    }
}
