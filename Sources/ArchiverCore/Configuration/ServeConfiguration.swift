import JSONToolkit

/// `serve:` how `archiver serve` listens, who may use it, and how it stops.
///
/// ```yaml
/// serve:
///   listen: 127.0.0.1:8080
///   token-file: /etc/archiver/token
///   grace-period: 30s
///   restart: {base: 1s, max: 5m}
///   restore-targets:
///     sessions: sqlite:app.db#sessions
/// ```
public struct ServeConfiguration: Sendable {
    /// `listen:` the address and port of the HTTP server.
    public var listen: ListenAddress?
    /// `token-file:` the file holding the bearer token (one line).
    public var tokenFile: String?
    /// `grace-period:` how long a stop (SIGTERM) may take to finish in-flight work.
    public var gracePeriod: ConfigurationDuration?
    /// `restart.base`, `restart.max`: the backoff before a failed tail is restarted.
    public var restartBase: ConfigurationDuration?
    public var restartMax: ConfigurationDuration?
    /// `session-lifetime:` how long a page sign-in lasts without use.
    public var sessionLifetime: ConfigurationDuration?
    /// `secure-cookie:` mark the sign-in cookie Secure (when a TLS proxy stands in front).
    public var secureCookie: Bool?
    /// `restore-targets:` the targets the API and the page may restore into, by name, as `--to` takes them.
    public var restoreTargets: [(name: String, spec: String)] = []

    public static let defaultListen = ListenAddress(host: "127.0.0.1", port: 8080)
    public static let defaultGracePeriod = ConfigurationDuration(seconds: 30)
    public static let defaultRestartBase = ConfigurationDuration(seconds: 1)
    public static let defaultRestartMax = ConfigurationDuration(seconds: 300)
    public static let defaultSessionLifetime = ConfigurationDuration(seconds: 12 * 3600)

    public init() {}

    /// Reads the `serve:` section (absent: every default).
    public init(reading value: ConfigurationValue?) throws {
        guard let value else { return }
        let section = try value.mapping()
        if let listen = section.value("listen") {
            let text = try listen.nonEmptyString()
            guard let address = ListenAddress(text) else {
                throw listen.invalid("'\(text)' is not an address to listen on; write host:port, e.g. 127.0.0.1:8080 or [::1]:8080")
            }
            self.listen = address
        }
        tokenFile = try section.value("token-file")?.nonEmptyString()
        gracePeriod = try section.value("grace-period")?.duration()
        if let restart = section.value("restart") {
            let backoff = try restart.mapping()
            restartBase = try backoff.value("base")?.duration()
            restartMax = try backoff.value("max")?.duration()
            try backoff.finish()
            if let base = restartBase, let max = restartMax, base.seconds > max.seconds {
                throw backoff.invalid("restart.base (\(base)) is longer than restart.max (\(max))")
            }
        }
        sessionLifetime = try section.value("session-lifetime")?.duration()
        secureCookie = try section.value("secure-cookie")?.bool()
        if let targets = section.value("restore-targets") {
            let mapping = try targets.mapping()
            for name in mapping.keys {
                guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                    throw mapping.invalid("the restore target name '\(name)' may hold only letters, digits, - and _")
                }
                restoreTargets.append((name, try mapping.value(name)!.nonEmptyString()))
            }
            try mapping.finish()
        }
        try section.finish()
    }

    /// What `config check` prints.
    public var described: JSONValue {
        .object([
            ("listen", .string((listen ?? Self.defaultListen).description)),
            ("token-file", tokenFile.map(JSONValue.string) ?? .null),
            ("grace-period", .string((gracePeriod ?? Self.defaultGracePeriod).description)),
            ("restart", .object([
                ("base", .string((restartBase ?? Self.defaultRestartBase).description)),
                ("max", .string((restartMax ?? Self.defaultRestartMax).description)),
            ])),
            ("session-lifetime", .string((sessionLifetime ?? Self.defaultSessionLifetime).description)),
            ("secure-cookie", .bool(secureCookie ?? false)),
            ("restore-targets", .object(restoreTargets.map { ($0.name, JSONValue.string($0.spec)) })),
        ])
    }
}

/// Where a server listens: `127.0.0.1:8080`, `[::1]:8080`, `0.0.0.0:9090`, `localhost:8080`.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Reads `host:port` (an IPv6 host in brackets); nil when it is not one.
    public init?(_ text: String) {
        var host: Substring
        var portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, host.allSatisfy({ $0.isLetter || $0.isNumber || ".-:".contains($0) }),
            !portText.isEmpty, portText.allSatisfy(\.isNumber), let port = Int(portText), (0...65535).contains(port)
        else { return nil }
        self.host = String(host)
        self.port = port
    }

    /// Whether only this machine can connect: 127.0.0.0/8, ::1 or localhost.
    public var isLoopback: Bool {
        if host == "localhost" || host == "::1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
