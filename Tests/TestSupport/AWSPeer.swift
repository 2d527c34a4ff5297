import AWSClients
import Foundation

/// Runs another AWS client (Python boto3) as a subprocess, to check that what this package writes others read
/// and the other way round.
public enum AWSPeer {
    /// What a subprocess printed and how it ended.
    public struct Output: Sendable {
        /// The exit status.
        public var status: Int32
        /// Standard output.
        public var stdout: [UInt8]
        /// Standard error, as text.
        public var stderr: String
    }

    /// Whether `python3` with boto3 can be run.
    public static func boto3Available() -> Bool {
        (try? python("import boto3", arguments: [], environment: ProcessInfo.processInfo.environment).status) == 0
    }

    /// Runs `python3 -c script arguments…` with `environment`, feeding `input` on standard input.
    public static func python(_ script: String, arguments: [String], environment: [String: String], input: [UInt8] = []) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        process.environment = environment
        let stdinPipe = Pipe()
        let stdoutFile = NSTemporaryDirectory() + "peer-out-\(UUID().uuidString)"
        let stderrFile = NSTemporaryDirectory() + "peer-err-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: stdoutFile, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrFile, contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: stdoutFile)
            try? FileManager.default.removeItem(atPath: stderrFile)
        }
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutFile))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrFile))
        process.standardInput = stdinPipe
        process.standardOutput = out
        process.standardError = err
        try process.run()
        try out.close()
        try err.close()
        stdinPipe.fileHandleForWriting.write(Data(input))
        try stdinPipe.fileHandleForWriting.close()
        process.waitUntilExit()
        let stdout = (try? Data(contentsOf: URL(fileURLWithPath: stdoutFile))) ?? Data()
        let stderr = (try? String(contentsOfFile: stderrFile, encoding: .utf8)) ?? ""
        return Output(status: process.terminationStatus, stdout: [UInt8](stdout), stderr: stderr)
    }

    /// Reads an object with boto3 from `server`; returns its bytes.
    public static func boto3GetObject(server: MotoServer, bucket: String, key: String) throws -> Output {
        let script = """
            import sys, boto3
            s3 = boto3.client("s3")
            body = s3.get_object(Bucket=sys.argv[1], Key=sys.argv[2])["Body"].read()
            sys.stdout.buffer.write(body)
            """
        return try python(script, arguments: [bucket, key], environment: server.awsEnvironment())
    }

    /// Writes an object with boto3 to `server` from `body`.
    public static func boto3PutObject(server: MotoServer, bucket: String, key: String, body: [UInt8]) throws -> Output {
        let script = """
            import sys, boto3
            s3 = boto3.client("s3")
            s3.put_object(Bucket=sys.argv[1], Key=sys.argv[2], Body=sys.stdin.buffer.read())
            """
        return try python(script, arguments: [bucket, key], environment: server.awsEnvironment(), input: body)
    }
}
