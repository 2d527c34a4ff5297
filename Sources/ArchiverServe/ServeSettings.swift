import ArchiverCore

/// How `archiver serve` runs: where it listens, who may use it, how it stops and restarts.
public struct ServeSettings: Sendable {
    public var listen: ListenAddress
    public var token: ServeToken
    /// How long a stop (SIGTERM, SIGINT) may take to finish in-flight work before what is left is cancelled.
    public var gracePeriod: Double
    /// The backoff before a failed tail is restarted: `base · 2^(failures−1)`, at most `maximum`, with jitter.
    public var restartBase: Double
    public var restartMaximum: Double
    /// How long a page sign-in lasts without use.
    public var sessionLifetime: Double
    /// Mark the sign-in cookie `Secure` (a TLS proxy in front).
    public var secureCookie: Bool

    public init(listen: ListenAddress, token: ServeToken, gracePeriod: Double = ServeConfiguration.defaultGracePeriod.seconds,
                restartBase: Double = ServeConfiguration.defaultRestartBase.seconds, restartMaximum: Double = ServeConfiguration.defaultRestartMax.seconds,
                sessionLifetime: Double = ServeConfiguration.defaultSessionLifetime.seconds, secureCookie: Bool = false) {
        self.listen = listen
        self.token = token
        self.gracePeriod = gracePeriod
        self.restartBase = restartBase
        self.restartMaximum = restartMaximum
        self.sessionLifetime = sessionLifetime
        self.secureCookie = secureCookie
    }
}
