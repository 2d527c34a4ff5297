import AWSSigV4
import Foundation

/// How S3 buckets are addressed in request URLs.
public enum S3AddressingStyle: String, Sendable, Equatable {
    /// `https://s3.<region>.amazonaws.com/<bucket>/<key>`.
    case path
    /// `https://<bucket>.s3.<region>.amazonaws.com/<key>`.
    case virtual
}

/// Everything needed to talk to AWS: credentials, region, endpoints and S3 addressing, resolved
/// the way the AWS CLI and SDKs do it.
///
/// Resolution (``resolve(environment:homeDirectory:overrides:)``), highest precedence first:
/// - **Credentials**: `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`) — unless a profile
///   was chosen explicitly through ``Overrides/profile`` —; then the profile (`AWS_PROFILE`, default `default`)
///   in the shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`, default `~/.aws/credentials`, sections `[name]`);
///   then the same profile in the config file (`AWS_CONFIG_FILE`, default `~/.aws/config`, sections `[profile name]`).
/// - **Region**: ``Overrides/region``, `AWS_REGION`, `AWS_DEFAULT_REGION`, `region` of the config profile.
/// - **Endpoints**, per service: ``Overrides/endpointURL``, `AWS_ENDPOINT_URL_S3` / `_DYNAMODB` / `_DYNAMODB_STREAMS` / `_SQS` / `_EVENTBRIDGE`,
///   `AWS_ENDPOINT_URL`, the profile's `services` section (`s3 =` / `endpoint_url = …`), the profile's `endpoint_url`;
///   otherwise the public AWS endpoint. `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true` ignores all but the override.
/// - **S3 addressing**: `AWS_S3_FORCE_PATH_STYLE` (`true`/`false`), the profile's `s3 = addressing_style = path|virtual`;
///   otherwise path-style when S3 has a custom endpoint and virtual-hosted on AWS.
///
/// The description never shows the secret key or the session token.
public struct AWSSettings: Sendable, CustomStringConvertible {
    /// Values given explicitly (e.g. command-line flags), which beat the environment and files.
    public struct Overrides: Sendable {
        /// The profile to use; when set, the environment's access keys are not used (as with `aws --profile`).
        public var profile: String?
        /// The region to use.
        public var region: String?
        /// One endpoint for every service (e.g. a local emulator).
        public var endpointURL: String?
        /// Creates overrides; every value is optional.
        public init(profile: String? = nil, region: String? = nil, endpointURL: String? = nil) {
            self.profile = profile
            self.region = region
            self.endpointURL = endpointURL
        }
    }

    /// The credentials used to sign requests.
    public var credentials: AWSCredentials
    /// Where the credentials came from, e.g. "environment" or "profile 'dev' in /home/me/.aws/credentials".
    public var credentialSource: String
    /// The AWS region, e.g. "eu-west-1".
    public var region: String
    /// The profile the settings were read from.
    public var profile: String
    /// Custom endpoints by service; a service missing here uses its public AWS endpoint.
    public var customEndpoints: [AWSService: URL]
    /// How S3 buckets are addressed.
    public var s3AddressingStyle: S3AddressingStyle

    /// Creates settings directly (e.g. in tests).
    public init(
        credentials: AWSCredentials,
        region: String,
        customEndpoints: [AWSService: URL] = [:],
        s3AddressingStyle: S3AddressingStyle? = nil,
        profile: String = "default",
        credentialSource: String = "explicit"
    ) {
        self.credentials = credentials
        self.region = region
        self.customEndpoints = customEndpoints
        self.s3AddressingStyle = s3AddressingStyle ?? (customEndpoints[.s3] == nil ? .virtual : .path)
        self.profile = profile
        self.credentialSource = credentialSource
    }

    /// The endpoint of `service`: the custom one if set, else the public AWS endpoint for ``region``.
    public func endpoint(for service: AWSService) -> URL {
        customEndpoints[service] ?? service.defaultEndpoint(region: region)
    }

    /// A one-line summary without secrets.
    public var description: String {
        var parts = [
            "region: \(region)",
            "profile: \(profile)",
            "credentials: \(credentials.accessKeyID.isEmpty ? "none" : "access key \(credentials.accessKeyID)") from \(credentialSource)",
        ]
        for service in AWSService.allCases {
            if let url = customEndpoints[service] { parts.append("\(service) endpoint: \(url.absoluteString)") }
        }
        parts.append("S3 addressing: \(s3AddressingStyle.rawValue)")
        return "AWSSettings(" + parts.joined(separator: ", ") + ")"
    }

    /// Resolves settings from an environment and the shared files, as described on ``AWSSettings``.
    ///
    /// - Parameters:
    ///   - environment: the process environment (injected so tests need not touch the real one).
    ///   - homeDirectory: the home folder holding `.aws/`; defaults to `HOME` of `environment`, then the user's home.
    ///   - overrides: explicit values that beat the environment and files.
    /// - Throws: ``AWSSettingsError`` saying what is missing and how to provide it.
    public static func resolve(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        homeDirectory: String? = nil,
        overrides: Overrides = Overrides()
    ) throws -> AWSSettings {
        func env(_ name: String) -> String? {
            guard let v = environment[name]?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
            return v
        }
        let home = homeDirectory ?? env("HOME") ?? FileManager.default.homeDirectoryForCurrentUser.path
        func expand(_ path: String) -> String {
            if path == "~" { return home }
            if path.hasPrefix("~/") { return home + path.dropFirst(1) }
            return path
        }
        let credentialsPath = expand(env("AWS_SHARED_CREDENTIALS_FILE") ?? "~/.aws/credentials")
        let configPath = expand(env("AWS_CONFIG_FILE") ?? "~/.aws/config")
        let credentialsFile = try SharedConfigFile(contentsOfFile: credentialsPath, kind: .credentials)
        let configFile = try SharedConfigFile(contentsOfFile: configPath, kind: .config)

        let explicitProfile = overrides.profile ?? env("AWS_PROFILE") ?? env("AWS_DEFAULT_PROFILE")
        let profileName = explicitProfile ?? "default"
        let credentialsProfile = credentialsFile?.profile(profileName)
        let configProfile = configFile?.profile(profileName)
        if explicitProfile != nil, credentialsProfile == nil, configProfile == nil {
            throw AWSSettingsError(.profileNotFound(profile: profileName, credentialsPath: credentialsPath, configPath: configPath))
        }

        // Credentials.
        var credentials: AWSCredentials?
        var source = ""
        if overrides.profile == nil, let keyID = env("AWS_ACCESS_KEY_ID") {
            guard let secret = env("AWS_SECRET_ACCESS_KEY") else {
                throw AWSSettingsError(.incompleteEnvironmentCredentials(missing: "AWS_SECRET_ACCESS_KEY"))
            }
            credentials = AWSCredentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: env("AWS_SESSION_TOKEN"))
            source = "environment"
        } else if overrides.profile == nil, env("AWS_SECRET_ACCESS_KEY") != nil {
            throw AWSSettingsError(.incompleteEnvironmentCredentials(missing: "AWS_ACCESS_KEY_ID"))
        }
        if credentials == nil {
            for (section, path) in [(credentialsProfile, credentialsPath), (configProfile, configPath)] {
                guard let section else { continue }
                if let found = try profileCredentials(section, profile: profileName, path: path) {
                    credentials = found
                    source = "profile '\(profileName)' in \(path)"
                    break
                }
            }
        }
        if credentials == nil, let profile = configProfile {
            for key in ["role_arn", "sso_session", "sso_start_url", "credential_process", "web_identity_token_file"]
            where profile[key] != nil {
                throw AWSSettingsError(.unsupportedCredentialSource(profile: profileName, key: key, path: configPath))
            }
        }
        guard let credentials else {
            throw AWSSettingsError(.missingCredentials(profile: profileName, credentialsPath: credentialsPath))
        }

        // Region.
        let regionValue = overrides.region ?? env("AWS_REGION") ?? env("AWS_DEFAULT_REGION") ?? configProfile?["region"].flatMap { $0.isEmpty ? nil : $0 }
        guard let region = regionValue else { throw AWSSettingsError(.missingRegion(profile: profileName, configPath: configPath)) }

        // Endpoints.
        let ignoreConfigured = env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")?.lowercased() == "true"
            || configProfile?["ignore_configured_endpoint_urls"]?.lowercased() == "true"
        let servicesSection = configProfile?["services"].flatMap { configFile?.services($0) }
        var endpoints: [AWSService: URL] = [:]
        for service in AWSService.allCases {
            var candidates: [(String, String?)] = [("--endpoint-url", overrides.endpointURL)]
            if !ignoreConfigured {
                candidates += [
                    ("AWS_ENDPOINT_URL_\(service.environmentSuffix)", env("AWS_ENDPOINT_URL_\(service.environmentSuffix)")),
                    ("AWS_ENDPOINT_URL", env("AWS_ENDPOINT_URL")),
                    ("endpoint_url for \(service.configKey) in the services section of \(configPath)", servicesSection?["\(service.configKey).endpoint_url"]),
                    ("endpoint_url of profile '\(profileName)' in \(configPath)", configProfile?["endpoint_url"]),
                ]
            }
            if let (origin, value) = candidates.first(where: { !($0.1 ?? "").isEmpty }), let value {
                endpoints[service] = try endpointURL(value, origin: origin)
            }
        }

        // S3 addressing.
        var style: S3AddressingStyle? = nil
        if let force = env("AWS_S3_FORCE_PATH_STYLE")?.lowercased() {
            style = ["true", "1", "yes"].contains(force) ? .path : .virtual
        } else if let configured = configProfile?["s3.addressing_style"]?.lowercased() {
            switch configured {
            case "path": style = .path
            case "virtual": style = .virtual
            default: style = nil  // "auto"
            }
        }
        return AWSSettings(
            credentials: credentials, region: region, customEndpoints: endpoints, s3AddressingStyle: style,
            profile: profileName, credentialSource: source)
    }

    private static func profileCredentials(_ section: [String: String], profile: String, path: String) throws -> AWSCredentials? {
        let keyID = section["aws_access_key_id"].flatMap { $0.isEmpty ? nil : $0 }
        let secret = section["aws_secret_access_key"].flatMap { $0.isEmpty ? nil : $0 }
        switch (keyID, secret) {
        case (nil, nil):
            return nil
        case (let keyID?, let secret?):
            let token = section["aws_session_token"] ?? section["aws_security_token"]
            return AWSCredentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: token.flatMap { $0.isEmpty ? nil : $0 })
        case (nil, _):
            throw AWSSettingsError(.incompleteProfileCredentials(profile: profile, path: path, missing: "aws_access_key_id"))
        case (_, nil):
            throw AWSSettingsError(.incompleteProfileCredentials(profile: profile, path: path, missing: "aws_secret_access_key"))
        }
    }

    private static func endpointURL(_ value: String, origin: String) throws -> URL {
        var text = value
        while text.hasSuffix("/") { text.removeLast() }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty, url.query == nil
        else {
            throw AWSSettingsError(.invalidEndpoint(value: value, origin: origin))
        }
        return url
    }
}

/// Why AWS settings could not be resolved. Its description says what is missing and how to fix it,
/// and never contains a secret.
public struct AWSSettingsError: Error, Sendable, CustomStringConvertible, Equatable {
    enum Reason: Sendable, Equatable {
        case missingCredentials(profile: String, credentialsPath: String)
        case incompleteEnvironmentCredentials(missing: String)
        case incompleteProfileCredentials(profile: String, path: String, missing: String)
        case unsupportedCredentialSource(profile: String, key: String, path: String)
        case profileNotFound(profile: String, credentialsPath: String, configPath: String)
        case missingRegion(profile: String, configPath: String)
        case invalidEndpoint(value: String, origin: String)
        case unreadableFile(path: String, reason: String)
    }

    let reason: Reason

    init(_ reason: Reason) { self.reason = reason }

    /// The broad kind of problem, for matching in code.
    public enum Kind: Sendable, Equatable {
        /// No credentials (or only half of a key pair) were found.
        case missingCredentials
        /// No region was found.
        case missingRegion
        /// A profile was named that neither shared file has.
        case profileNotFound
        /// A profile uses a credential source this package does not implement (roles, SSO, processes).
        case unsupportedCredentialSource
        /// An endpoint URL is malformed.
        case invalidEndpoint
        /// A shared file exists but could not be read.
        case unreadableFile
    }

    /// The broad kind of problem.
    public var kind: Kind {
        switch reason {
        case .missingCredentials, .incompleteEnvironmentCredentials, .incompleteProfileCredentials: .missingCredentials
        case .unsupportedCredentialSource: .unsupportedCredentialSource
        case .profileNotFound: .profileNotFound
        case .missingRegion: .missingRegion
        case .invalidEndpoint: .invalidEndpoint
        case .unreadableFile: .unreadableFile
        }
    }

    public var description: String {
        switch reason {
        case .missingCredentials(let profile, let path):
            return "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with ~/.aws/credentials"
                + " (looked for profile '\(profile)' in \(path))"
        case .incompleteEnvironmentCredentials(let missing):
            let other = missing == "AWS_SECRET_ACCESS_KEY" ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY"
            return "incomplete AWS credentials: \(other) is set but \(missing) is not; set both, or unset \(other) to use AWS_PROFILE with ~/.aws/credentials"
        case .incompleteProfileCredentials(let profile, let path, let missing):
            return "incomplete AWS credentials: profile '\(profile)' in \(path) has no \(missing); add it, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        case .unsupportedCredentialSource(let profile, let key, let path):
            return "profile '\(profile)' in \(path) gets credentials through '\(key)', which is not supported;"
                + " export temporary credentials instead (e.g. eval \"$(aws configure export-credentials --profile \(profile) --format env)\")"
        case .profileNotFound(let profile, let credentialsPath, let configPath):
            return "AWS profile '\(profile)' not found: add [\(profile)] to \(credentialsPath) or [profile \(profile)] to \(configPath), or choose another with AWS_PROFILE"
        case .missingRegion(let profile, let configPath):
            return "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION), or 'region' in profile '\(profile)' of \(configPath)"
        case .invalidEndpoint(let value, let origin):
            return "invalid endpoint URL '\(value)' from \(origin): expected http:// or https:// with a host, e.g. http://localhost:4566"
        case .unreadableFile(let path, let reason):
            return "cannot read AWS shared file \(path): \(reason)"
        }
    }
}
