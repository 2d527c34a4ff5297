import Foundation
import Testing
import TestSupport

/// `scripts/test` installs the Python test peers at the versions the tests were written against.
@Suite struct TestScriptTests {
    @Test func pythonPeersArePinned() throws {
        let script = try String(contentsOfFile: PackagePaths.root + "/scripts/test", encoding: .utf8)
        let peers = try #require(script.split(separator: "\n").first { $0.hasPrefix("python_peers=(") }, "no python_peers list in scripts/test")
        let specs = peers.split(separator: "'").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
        var pinned: [String: String] = [:]
        for spec in specs {
            let parts = spec.components(separatedBy: "==")
            #expect(parts.count == 2 && !parts[1].isEmpty && parts[1].allSatisfy { $0.isNumber || $0 == "." }, "'\(spec)' is not pinned to a version")
            pinned[parts[0]] = parts.last
        }
        #expect(pinned == ["moto[server]": "5.2.1", "boto3": "1.43.11", "botocore": "1.43.11", "awscli": "1.45.11",
                           "schemathesis": "4.32.5", "selenium": "4.50.0", "prometheus-client": "0.26.0", "standardwebhooks": "1.1.0"])
        // Every pip install in the script installs that list, and nothing unpinned.
        let installs = script.split(separator: "\n").filter { $0.contains("pip install") }
        #expect(!installs.isEmpty && installs.allSatisfy { $0.contains("\"${python_peers[@]}\"") }, "\(installs)")
    }
}
