import ArchiverAWS
import ArchiverCore
import Foundation
import Testing
import TestSupport

/// Checks lifecycle policies with the AWS tools' own parser: botocore's S3 model (the shape
/// `put-bucket-lifecycle-configuration` validates against before it sends anything), and the aws CLI itself.
enum AWSModelCheck {
    /// Validates each file given as `LifecycleConfiguration` of PutBucketLifecycleConfiguration. botocore's
    /// validator checks fields, types and required members; enum values (storage classes, Status) it leaves
    /// to S3, so this checks them against the model too. Exit 0: valid; 1: problems printed; 77: no botocore.
    static let script = #"""
        import json, sys
        try:
            import botocore.session
            from botocore.validate import ParamValidator
        except ImportError as error:
            print("botocore is not installed:", error)
            sys.exit(77)
        shape = botocore.session.get_session().get_service_model("s3") \
            .operation_model("PutBucketLifecycleConfiguration").input_shape
        problems = []
        def check_enums(value, shape, where, path):
            if shape.type_name == "structure" and isinstance(value, dict):
                for name, member in value.items():
                    if name in shape.members:
                        check_enums(member, shape.members[name], where + "." + name, path)
            elif shape.type_name == "list" and isinstance(value, list):
                for index, member in enumerate(value):
                    check_enums(member, shape.member, "%s[%d]" % (where, index), path)
            elif shape.type_name == "string" and shape.enum and value not in shape.enum:
                problems.append("%s: %s: %r is not one of %s" % (path, where, value, ", ".join(shape.enum)))
        for path in sys.argv[1:]:
            with open(path) as file:
                configuration = json.load(file)
            parameters = {"Bucket": "example-bucket", "LifecycleConfiguration": configuration}
            report = ParamValidator().validate(parameters, shape)
            if report.has_errors():
                problems.append(path + ": " + report.generate_report())
            check_enums(configuration, shape.members["LifecycleConfiguration"], "LifecycleConfiguration", path)
        print("\n".join(problems))
        sys.exit(1 if problems else 0)
        """#

    struct Result {
        var status: Int32
        var output: String
    }

    /// Runs a program found on PATH, with its output and errors together.
    static func run(_ arguments: [String], environment: [String: String] = [:], removing: [String] = []) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        var variables = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        for name in removing { variables[name] = nil }
        process.environment = variables
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.readToEnd()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self))
    }

    static func validate(_ paths: [String]) throws -> Result {
        try run(["python3", "-c", script] + paths)
    }

    static let hasBotocore: Bool = (try? run(["python3", "-c", "import botocore.session, botocore.validate"]).status) == 0

    /// The aws CLI, kept offline: no credentials or config of this machine, no instance metadata.
    static let offline = [
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "example",
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
    ]
    static let notOffline = ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"]

    static let hasAWSCLI: Bool = (try? run(["aws", "--version"], environment: offline, removing: notOffline).status) == 0

    /// `aws s3api put-bucket-lifecycle-configuration … --generate-cli-skeleton output`: the CLI parses and
    /// validates the parameters, then prints the response's skeleton instead of sending the request.
    static func awsCLI(_ path: String) throws -> Result {
        try run(
            ["aws", "s3api", "put-bucket-lifecycle-configuration", "--bucket", "example-bucket",
             "--lifecycle-configuration", "file://" + path, "--generate-cli-skeleton", "output"],
            environment: offline, removing: notOffline)
    }

    static func temporaryFile(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "lifecycle-\(UUID().uuidString).json"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }
}

@Suite("Lifecycle policies against the AWS model")
struct LifecycleBotocoreTests {
    @Test(
        "every policy in lifecycle/ is valid for botocore's PutBucketLifecycleConfiguration",
        .enabled(if: AWSModelCheck.hasBotocore, "python3 with botocore is not installed (pip install botocore); skipped"))
    func examplesPassBotocore() throws {
        let result = try AWSModelCheck.validate(try PackagePaths.lifecycleExampleFiles())
        #expect(result.status == 0, "\(result.output)")
    }

    @Test(
        "the botocore check is not vacuous: it refuses a wrong type, an unknown field and an unknown storage class",
        .enabled(if: AWSModelCheck.hasBotocore, "python3 with botocore is not installed (pip install botocore); skipped"))
    func botocoreRefusesBadPolicies() throws {
        let path = try AWSModelCheck.temporaryFile("""
            {"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {"Prefix": ""}, "Bogus": 1,
                        "Transitions": [{"Days": "ninety", "StorageClass": "GLACER"}]}]}
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try AWSModelCheck.validate([path])
        #expect(result.status == 1)
        #expect(result.output.contains("Bogus"))
        #expect(result.output.contains("ninety"))
        #expect(result.output.contains("'GLACER' is not one of"))
    }

    @Test(
        "policies archiver accepts are accepted by botocore too",
        .enabled(if: AWSModelCheck.hasBotocore, "python3 with botocore is not installed (pip install botocore); skipped"))
    func acceptedPoliciesPassBotocore() throws {
        let json = """
            {"Rules": [
              {"ID": "legacy", "Status": "Enabled", "Prefix": "2016/", "Expiration": {"Days": 30}},
              {"ID": "dates", "Status": "Disabled", "Filter": {"Prefix": "x/"},
               "Transitions": [{"Date": "2030-01-01T00:00:00Z", "StorageClass": "GLACIER_IR"}, {"Date": "2031-01-01T00:00:00Z", "StorageClass": "DEEP_ARCHIVE"}],
               "Expiration": {"Date": "2032-01-01T00:00:00Z"}},
              {"ID": "sizes", "Status": "Enabled", "Filter": {"And": {"Prefix": "y/", "ObjectSizeGreaterThan": 1024, "ObjectSizeLessThan": 4096}},
               "NoncurrentVersionTransitions": [{"NoncurrentDays": 30, "StorageClass": "STANDARD_IA"}],
               "NoncurrentVersionExpiration": {"NoncurrentDays": 90}, "Expiration": {"ExpiredObjectDeleteMarker": true}}
            ]}
            """
        _ = try LifecyclePolicy.decode(Array(json.utf8))
        let path = try AWSModelCheck.temporaryFile(json)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try AWSModelCheck.validate([path])
        #expect(result.status == 0, "\(result.output)")
    }

    @Test(
        "the aws CLI parses lifecycle/default.json for put-bucket-lifecycle-configuration (offline)",
        .enabled(if: AWSModelCheck.hasAWSCLI, "the aws CLI is not installed; skipped"))
    func awsCLIAcceptsTheDefault() throws {
        let good = try AWSModelCheck.awsCLI(PackagePaths.root + "/" + LifecyclePolicy.defaultPath)
        #expect(good.status == 0, "\(good.output)")
        #expect(good.output.contains("TransitionDefaultMinimumObjectSize"))

        let path = try AWSModelCheck.temporaryFile(#"{"Rules": [{"Status": "Enabled", "Filter": {}, "Expiration": {"Days": "never"}}]}"#)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let bad = try AWSModelCheck.awsCLI(path)
        #expect(bad.status != 0)
        #expect(bad.output.contains("Parameter validation failed"))
    }
}
