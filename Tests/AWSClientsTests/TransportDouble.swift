import AWSClients
import Foundation


/// An HTTP transport that answers from a script and records what it was sent.
final class TransportDouble: HTTPTransport, @unchecked Sendable {
    typealias Answer = @Sendable (HTTPRequest, Int) throws -> HTTPResponse
    private let lock = NSLock()
    private var sent: [HTTPRequest] = []
    private let answer: Answer

    /// `answer` gets each request and its 1-based number.
    init(_ answer: @escaping Answer) { self.answer = answer }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let number: Int = lock.withLock {
            sent.append(request)
            return sent.count
        }
        return try answer(request, number)
    }

    var requests: [HTTPRequest] { lock.withLock { sent } }
}

/// Records the waits an HTTP client asks for, without waiting.
final class SleepRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [Duration] = []
    var sleeps: [Duration] { lock.withLock { recorded } }
    var sleeper: AWSHTTPClient.Sleeper {
        { [self] duration in lock.withLock { recorded.append(duration) } }
    }
}

/// A transport that forwards to another but lets a test fail chosen requests.
struct FailingTransport: HTTPTransport {
    let base: any HTTPTransport
    let fail: @Sendable (HTTPRequest) -> HTTPResponse?

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        if let response = fail(request) { return response }
        return try await base.send(request)
    }
}

func s3ErrorXML(_ code: String, _ message: String) -> [UInt8] {
    Array("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>\(code)</Code><Message>\(message)</Message><RequestId>req-1</RequestId></Error>".utf8)
}

/// A transport that forwards to another and records the requests.
final class RecordingTransport: HTTPTransport, @unchecked Sendable {
    private let base: any HTTPTransport
    private let lock = NSLock()
    private var sent: [HTTPRequest] = []

    init(base: any HTTPTransport) { self.base = base }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        lock.withLock { sent.append(request) }
        return try await base.send(request)
    }

    var requests: [HTTPRequest] { lock.withLock { sent } }
}
