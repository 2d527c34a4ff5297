import Foundation
import Testing
import TestSupport

/// The README's "Locally, with moto" block, run as a reader would run it: with the aws CLI installed here and
/// the built archiver, against a moto_server of its own.
@Suite struct ReadmeMotoSnippetTests {
    /// The shell block after "**Locally, with moto**" in README.md.
    static func snippet() throws -> [String] {
        let readme = try String(contentsOfFile: PackagePaths.root + "/README.md", encoding: .utf8)
        let lines = readme.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let heading = lines.firstIndex(where: { $0.hasPrefix("**Locally, with moto**") }),
            let start = lines[heading...].firstIndex(of: "```sh"),
            let end = lines[(start + 1)...].firstIndex(of: "```")
        else { throw SnippetError("README.md has no shell block after **Locally, with moto**") }
        return Array(lines[(start + 1)..<end])
    }

    struct SnippetError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    @Test("the README's moto block runs as written, and its exports serve every aws command, DynamoDB's too")
    func readmeMotoBlockRuns() async throws {
        let folder = TemporaryFolder("readme-moto")
        defer { folder.remove() }
        let server = try await MotoServer.start()
        defer { server.stop() }
        let lines = try Self.snippet()
        #expect(lines.contains { $0.hasPrefix("moto_server -H 127.0.0.1 -p 5000") })
        // Installing and starting moto are done already; the rest runs as written, against this test's server.
        let script = lines.filter { !$0.hasPrefix("python3 -m pip") && !$0.hasPrefix("moto_server") }
            .map { $0.replacingOccurrences(of: "http://127.0.0.1:5000", with: server.endpoint.absoluteString) }
            + ["aws dynamodb list-tables"]
        try Data(script.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: folder("snippet.sh")))
        try FileManager.default.createSymbolicLink(atPath: folder("fixtures"), withDestinationPath: PackagePaths.root + "/fixtures")

        // A reader's shell: the built archiver on the PATH, no AWS settings but the block's own, no ~/.aws.
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AWS_") }
        environment["HOME"] = folder.path
        environment["PATH"] = URL(fileURLWithPath: BuiltBinary.path).deletingLastPathComponent().path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-e", "snippet.sh"]
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: folder.path)
        let output = folder("output.txt")
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try handle.close()
        let printed = try String(contentsOfFile: output, encoding: .utf8)
        #expect(process.terminationStatus == 0, "\(printed.suffix(2000))")
        #expect(printed.contains("make_bucket: archives"), "\(printed.suffix(2000))")
        #expect(printed.contains("restored 20") && printed.contains("into dynamodb:sessions"), "\(printed.suffix(2000))")
        #expect(printed.contains("\"TableNames\""), "\(printed.suffix(2000))")
    }
}
