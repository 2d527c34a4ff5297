import ArchiverCore
import ArchiverServe
import ArgumentParser
import Foundation
import Logging

extension Archiver {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run every configured tail with an HTTP API, an admin page and Prometheus metrics.",
            discussion: """
                One long-running process: a tail for each source in the configuration file (sources:), each \
                restarted with backoff when it fails while the others go on, and an HTTP server with the API \
                (/api/v1, described at /api/v1/openapi.json), the admin page (/) and the metrics (/metrics). \
                SIGTERM or SIGINT stops it gracefully: the server finishes the requests in flight, each tail \
                finishes its batches and saves its checkpoint, and it exits 0 (within serve.grace-period).

                It listens on 127.0.0.1:8080 unless told otherwise. Everything but /healthz, /readyz and /metrics \
                needs the token (Authorization: Bearer <token>, or a sign-in on the page): from --token-file, \
                ARCHIVER_SERVE_TOKEN or serve.token-file; on a loopback address without one, a random token is \
                written to <state>/serve-token. A non-loopback address without a token is refused.

                EXAMPLES:
                  archiver serve --config archiver.yml
                  archiver serve --config archiver.yml --listen 0.0.0.0:8080 \\
                      --token-file /etc/archiver/token
                  archiver serve --source jsonl:/var/log/changes.jsonl --archive ./archive \\
                      --listen 127.0.0.1:9000
                """)

        @OptionGroup var config: ConfigOption

        @Option(name: .customLong("source"), help: ArgumentHelp(
            "A source to tail (repeat for several); replaces the configuration's sources: list.", valueName: "spec"))
        var sources: [Parsed<SourceSpec>] = []

        @Option(help: ArgumentHelp("The archive: a folder or s3://bucket[/prefix]. Default: ARCHIVER_ARCHIVE, then archive: in the configuration.", valueName: "dir|s3-url"))
        var archive: Parsed<ArchiveLocation>?

        @Option(help: ArgumentHelp("The state folder. Default: ARCHIVER_STATE, then state: in the configuration, then .archiver.", valueName: "dir"))
        var state: String?

        @Option(help: ArgumentHelp("Where the HTTP server listens. Default: ARCHIVER_SERVE_LISTEN, then serve.listen, then 127.0.0.1:8080.", valueName: "host:port"))
        var listen: Parsed<ListenAddress>?

        @Option(help: ArgumentHelp("The file holding the token (one line). Default: ARCHIVER_SERVE_TOKEN (the token itself), then serve.token-file.", valueName: "file"))
        var tokenFile: String?

        @Option(help: "Compression level, 1 (fastest) to 12 (smallest).")
        var gzipLevel = GzipEncoder.defaultLevel

        @Option(help: "Threads that parse and compress, per source (default: one per core).")
        var workers: Int?

        @OptionGroup var limit: RecordLimitOption
        @OptionGroup var layout: LayoutOptions

        func validate() throws {
            for source in sources { _ = try source.value("--source") }
            _ = try archive?.value("--archive")
            _ = try listen?.value("--listen")
            guard (1...12).contains(gzipLevel) else { throw ValidationError("--gzip-level must be 1 to 12 (\(GzipEncoder.defaultLevel) when not given)") }
            if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
        }

        func run() async throws {
            let logger = Terminal.logger
            let environment = ProcessInfo.processInfo.environment
            let configuration = try config.load()
            let setup = try ServeSetup(
                configuration: configuration, environment: environment, sources: try sources.map { try $0.value("--source") },
                archive: try archive?.value("--archive"), state: state, listen: try listen?.value("--listen"), tokenFile: tokenFile,
                logger: logger)
            var options = TailOptions(follow: true, gzipLevel: gzipLevel, maxRecordBytes: limit.maxRecordBytes)
            if let workers { options.workers = workers }
            let choice = try layout.choice(file: configuration.layout, environment: environment)
            options.batching = choice.limits
            let parts = try await setup.parts(options: options, layout: choice.layout)
            let server = ArchiverServer(parts: parts, settings: try setup.settings(), logger: logger)
            let tails = try await server.run(onListening: { address in
                Terminal.print("archiver serve: listening on http://\(address)")
            })
            Terminal.print("archiver serve: stopped")
            for tail in tails {
                Terminal.print("\(tail.name): read \(tail.totals.read), archived \(tail.totals.archived), passed over \(tail.totals.passedOver), "
                    + "dead-lettered \(tail.totals.deadLettered)\(tail.position.map { "; \($0)" } ?? "")")
            }
        }
    }
}

extension ListenAddress: CommandLineValue {
    init(commandLine text: String) throws {
        guard let address = ListenAddress(text) else {
            throw ValidationError("'\(text)' is not an address to listen on; write host:port, e.g. 127.0.0.1:8080 or [::1]:8080")
        }
        self = address
    }
}
