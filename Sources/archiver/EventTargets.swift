import AWSClients
import ArchiverAWS
import ArchiverCore
import ArgumentParser
import Foundation
import Logging

/// The configured event targets and the acks queue, built into the parts that deliver and receive.
enum EventTargets {
    static func make(_ targets: [EventsConfiguration.Target], logger: Logger, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [any EventTarget] {
        try targets.map { target -> any EventTarget in
            switch target {
            case .jsonl(let path):
                return JSONLinesEventTarget(path: path)
            case .webhook(let url, let secretFiles, let timeout):
                guard let endpoint = URL(string: url) else { throw ValidationError("the webhook URL '\(url)' cannot be read") }
                let secrets = try secretFiles.map { file -> String in
                    guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                        throw ValidationError("cannot read the webhook secret file \(FileSystem.absolute(file)); write a whsec_… secret in it (readable by this user only)")
                    }
                    return text
                }
                let signer: WebhookSigner
                do { signer = try WebhookSigner(secrets: secrets) } catch { throw ValidationError("\(error) (in \(secretFiles.joined(separator: ", ")))") }
                let transport = NIOHTTPTransport.shared(.init(maxConnectionsPerHost: 4, requestTimeout: timeout.seconds, resourceTimeout: timeout.seconds))
                return WebhookEventTarget(url: endpoint, signer: signer, transport: transport)
            case .eventBridge(let bus, let prefix):
                return EventBridgeEventTarget(bus: bus, client: EventBridgeClient(settings: try settings(environment)), detailTypePrefix: prefix)
            case .sqs(let queueURL):
                return SQSEventTarget(queueURL: queueURL, client: SQSClient(settings: try settings(environment)))
            }
        }
    }

    static func acks(_ events: EventsConfiguration, logger: Logger, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> (any AckSource)? {
        guard let url = events.ackQueueURL else { return nil }
        let wait = Int(events.ackWait.seconds)
        let transport = NIOHTTPTransport.shared(.init(requestTimeout: Double(wait) + 30, resourceTimeout: Double(wait) + 60))
        return SQSAckSource(queueURL: url, client: SQSClient(settings: try settings(environment), transport: transport), waitSeconds: wait, logger: logger)
    }

    private static func settings(_ environment: [String: String]) throws -> AWSSettings {
        do { return try AWSSettings.resolve(environment: environment) } catch { throw ValidationError("\(error)") }
    }
}
