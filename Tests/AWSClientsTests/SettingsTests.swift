import AWSClients
import Foundation
import Testing

/// A temporary home folder with `.aws/credentials` and `.aws/config`.
private struct FakeHome {
    let path: String

    init(credentials: String? = nil, config: String? = nil) throws {
        path = NSTemporaryDirectory() + "aws-home-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path + "/.aws", withIntermediateDirectories: true)
        if let credentials { try credentials.write(toFile: path + "/.aws/credentials", atomically: true, encoding: .utf8) }
        if let config { try config.write(toFile: path + "/.aws/config", atomically: true, encoding: .utf8) }
    }

    func resolve(_ env: [String: String], overrides: AWSSettings.Overrides = .init()) throws -> AWSSettings {
        try AWSSettings.resolve(environment: env, homeDirectory: path, overrides: overrides)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

private let credentialsFile = """
    [default]
    aws_access_key_id = AKIDDEFAULT
    aws_secret_access_key = secret-default

    # a comment
    [dev]
    aws_access_key_id=AKIDDEV
    aws_secret_access_key=secret-dev
    aws_session_token = token-dev
    """

private let configFile = """
    [default]
    region = eu-west-1

    [profile dev]
    region = ap-southeast-2
    s3 =
      addressing_style = path
    services = local

    [services local]
    dynamodb =
      endpoint_url = http://localhost:8000
    s3 =
      endpoint_url = http://localhost:9000/
    """

@Suite("AWS settings resolution")
struct SettingsTests {
    @Test func environmentCredentialsWinOverFiles() throws {
        let home = try FakeHome(credentials: credentialsFile, config: configFile)
        defer { home.remove() }
        let settings = try home.resolve([
            "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "secret-env", "AWS_SESSION_TOKEN": "tok", "AWS_REGION": "us-west-2",
        ])
        #expect(settings.credentials == AWSCredentials(accessKeyID: "AKIDENV", secretAccessKey: "secret-env", sessionToken: "tok"))
        #expect(settings.credentialSource == "environment")
        #expect(settings.region == "us-west-2")
        #expect(settings.customEndpoints.isEmpty)
        #expect(settings.s3AddressingStyle == .virtual)
        #expect(settings.endpoint(for: .s3).absoluteString == "https://s3.us-west-2.amazonaws.com")
        #expect(settings.endpoint(for: .dynamoDBStreams).absoluteString == "https://streams.dynamodb.us-west-2.amazonaws.com")
        #expect(!settings.description.contains("secret-env"))
        #expect(!settings.description.contains("tok"))
    }

    @Test func defaultProfileFromSharedFiles() throws {
        let home = try FakeHome(credentials: credentialsFile, config: configFile)
        defer { home.remove() }
        let settings = try home.resolve([:])
        #expect(settings.credentials.accessKeyID == "AKIDDEFAULT")
        #expect(settings.credentials.secretAccessKey == "secret-default")
        #expect(settings.credentials.sessionToken == nil)
        #expect(settings.region == "eu-west-1")
        #expect(settings.profile == "default")
        #expect(settings.credentialSource.contains("profile 'default'"))
    }

    @Test func namedProfileWithServicesSectionAndAddressingStyle() throws {
        let home = try FakeHome(credentials: credentialsFile, config: configFile)
        defer { home.remove() }
        let settings = try home.resolve(["AWS_PROFILE": "dev"])
        #expect(settings.credentials == AWSCredentials(accessKeyID: "AKIDDEV", secretAccessKey: "secret-dev", sessionToken: "token-dev"))
        #expect(settings.region == "ap-southeast-2")
        #expect(settings.s3AddressingStyle == .path)
        #expect(settings.customEndpoints[.dynamoDB]?.absoluteString == "http://localhost:8000")
        #expect(settings.customEndpoints[.s3]?.absoluteString == "http://localhost:9000")
        #expect(settings.customEndpoints[.dynamoDBStreams] == nil)
    }

    @Test func regionPrecedence() throws {
        let home = try FakeHome(credentials: credentialsFile, config: configFile)
        defer { home.remove() }
        #expect(try home.resolve(["AWS_DEFAULT_REGION": "sa-east-1"]).region == "sa-east-1")
        #expect(try home.resolve(["AWS_DEFAULT_REGION": "sa-east-1", "AWS_REGION": "ca-central-1"]).region == "ca-central-1")
        #expect(try home.resolve(["AWS_REGION": "ca-central-1"], overrides: .init(region: "eu-north-1")).region == "eu-north-1")
    }

    @Test func endpointVariablesPerServiceAndGlobal() throws {
        let home = try FakeHome()
        defer { home.remove() }
        let settings = try home.resolve([
            "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": "http://127.0.0.1:4570",
        ])
        #expect(settings.endpoint(for: .s3).absoluteString == "http://127.0.0.1:4566")
        #expect(settings.endpoint(for: .dynamoDB).absoluteString == "http://127.0.0.1:4566")
        #expect(settings.endpoint(for: .dynamoDBStreams).absoluteString == "http://127.0.0.1:4570")
        #expect(settings.s3AddressingStyle == .path)

        let forced = try home.resolve([
            "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000",
            "AWS_S3_FORCE_PATH_STYLE": "false",
        ])
        #expect(forced.s3AddressingStyle == .virtual)
        #expect(forced.customEndpoints[.dynamoDB] == nil)
    }

    @Test func explicitFilePathsAndTilde() throws {
        let home = try FakeHome()
        defer { home.remove() }
        try "[ci]\naws_access_key_id = AKIDCI\naws_secret_access_key = s\n".write(toFile: home.path + "/creds", atomically: true, encoding: .utf8)
        try "[profile ci]\nregion = eu-central-1\nendpoint_url = http://localhost:1234\n".write(toFile: home.path + "/conf", atomically: true, encoding: .utf8)
        let settings = try home.resolve(["AWS_SHARED_CREDENTIALS_FILE": "~/creds", "AWS_CONFIG_FILE": home.path + "/conf", "AWS_PROFILE": "ci"])
        #expect(settings.credentials.accessKeyID == "AKIDCI")
        #expect(settings.region == "eu-central-1")
        #expect(settings.endpoint(for: .dynamoDB).absoluteString == "http://localhost:1234")
        let ignored = try home.resolve([
            "AWS_SHARED_CREDENTIALS_FILE": "~/creds", "AWS_CONFIG_FILE": home.path + "/conf", "AWS_PROFILE": "ci",
            "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true",
        ])
        #expect(ignored.customEndpoints.isEmpty)
    }

    @Test func missingCredentialsSaysHowToFix() throws {
        let home = try FakeHome(config: "[default]\nregion = us-east-1\n")
        defer { home.remove() }
        let error = #expect(throws: AWSSettingsError.self) { try home.resolve([:]) }
        #expect(error?.kind == .missingCredentials)
        #expect(error?.description.contains("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with ~/.aws/credentials") == true)
    }

    @Test func halfAKeyPairIsRefusedWithoutShowingTheSecret() throws {
        let home = try FakeHome()
        defer { home.remove() }
        let env = #expect(throws: AWSSettingsError.self) { try home.resolve(["AWS_SECRET_ACCESS_KEY": "very-secret", "AWS_REGION": "x"]) }
        #expect(env?.description.contains("AWS_ACCESS_KEY_ID") == true)
        #expect(env?.description.contains("very-secret") == false)

        try "[default]\naws_access_key_id = AKID\n".write(toFile: home.path + "/.aws/credentials", atomically: true, encoding: .utf8)
        let file = #expect(throws: AWSSettingsError.self) { try home.resolve(["AWS_REGION": "x"]) }
        #expect(file?.description.contains("aws_secret_access_key") == true)
    }

    @Test func missingRegionAndUnknownProfile() throws {
        let home = try FakeHome(credentials: credentialsFile)
        defer { home.remove() }
        let region = #expect(throws: AWSSettingsError.self) { try home.resolve([:]) }
        #expect(region?.kind == .missingRegion)
        #expect(region?.description.contains("AWS_REGION") == true)
        let profile = #expect(throws: AWSSettingsError.self) { try home.resolve(["AWS_PROFILE": "nope", "AWS_REGION": "x"]) }
        #expect(profile?.kind == .profileNotFound)
        #expect(profile?.description.contains("'nope'") == true)
    }

    @Test func roleProfilesAreRefusedClearly() throws {
        let home = try FakeHome(config: "[profile role]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = default\nregion = us-east-1\n")
        defer { home.remove() }
        let error = #expect(throws: AWSSettingsError.self) { try home.resolve(["AWS_PROFILE": "role"]) }
        #expect(error?.kind == .unsupportedCredentialSource)
        #expect(error?.description.contains("role_arn") == true)
    }

    @Test func invalidEndpointIsRefused() throws {
        let home = try FakeHome()
        defer { home.remove() }
        let error = #expect(throws: AWSSettingsError.self) {
            try home.resolve(["AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "AWS_REGION": "x", "AWS_ENDPOINT_URL": "localhost:4566"])
        }
        #expect(error?.kind == .invalidEndpoint)
    }

    @Test func sharedConfigFileParsing() {
        let file = SharedConfigFile(parsing: "  \n; c\n[ profile   x ]\nKey : v\nnested =\n  a = 1\n  b = 2\nplain = first\n  second\n", kind: .config)
        #expect(file.profile("x") == ["key": "v", "nested": "", "nested.a": "1", "nested.b": "2", "plain": "first\nsecond"])
        #expect(file.profile("default") == nil)
        let creds = SharedConfigFile(parsing: "[profile x]\na=1\n[x]\nb=2\n", kind: .credentials)
        #expect(creds.profile("x") == ["b": "2"])
    }
}
