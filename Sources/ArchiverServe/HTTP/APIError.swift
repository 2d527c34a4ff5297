import ArchiverCore
import Foundation
import HTTPTypes
import Hummingbird
import JSONToolkit

/// An error answered to a client: a status, a message that says what is wrong and what to do, and the field (a
/// query parameter, a member of the JSON body, a path segment) that is wrong, when one is.
///
/// API clients get `{"error": {"message": …, "field": …}}`; the page shows the message. Messages never hold a
/// token, a cookie or record data beyond the identifiers the client sent.
struct APIError: Error, HTTPResponseError, CustomStringConvertible {
    var status: HTTPResponse.Status
    var message: String
    var field: String?
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, _ message: String, field: String? = nil) {
        self.status = status
        self.message = message
        self.field = field
    }

    static func badRequest(_ message: String, field: String?) -> APIError { APIError(.badRequest, message, field: field) }
    static func notFound(_ message: String, field: String? = nil) -> APIError { APIError(.notFound, message, field: field) }
    static func conflict(_ message: String, field: String? = nil) -> APIError { APIError(.conflict, message, field: field) }
    static func unauthorized(_ message: String) -> APIError {
        var error = APIError(.unauthorized, message)
        error.headers[.wwwAuthenticate] = "Bearer"
        return error
    }
    static func forbidden(_ message: String, field: String? = nil) -> APIError { APIError(.forbidden, message, field: field) }

    var description: String { message }

    /// The JSON body.
    var json: JSONValue {
        .object([("error", .object(omittingNil: ["message": .string(message), "field": field.map(JSONValue.string)]))])
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = Response.json(json, status: status)
        response.headers.append(contentsOf: headers)
        return response
    }

    /// What a client is told about an error from the core: the kinds a client can do something about get their
    /// status; anything else is a 500 whose message says to look at the log (the log has the whole error).
    static func from(_ error: any Error) -> APIError? {
        switch error {
        case let error as APIError: return error
        case let error as HTTPError:
            return APIError(error.status, error.body ?? error.status.reasonPhrase)
        case let error as StateError:
            if error.kind == .noDeadLetter { return .notFound(error.description, field: "id") }
            if error.kind == .invalidDeadLetterID { return .badRequest(error.description, field: "id") }
            if error.kind == .damaged { return APIError(.conflict, error.description) }
            return APIError(.serviceUnavailable, error.description)
        case let error as QueueError:
            return APIError(error.kind == .noEntry ? .notFound : .badRequest, error.description, field: "id")
        case let error as CoordinationError:
            if error.isUnknown { return .notFound(error.description, field: "id") }
            if error.isUnexpectedConsumer { return .conflict(error.description, field: "consumer") }
            return .conflict(error.description, field: "id")
        case let error as ErasureError:
            switch error.kind {
            case .noSuchJob: return .notFound(error.description, field: "job")
            case .jobState: return .conflict(error.description, field: "job")
            case .invalidSubject: return .badRequest(error.description, field: "subject")
            case .notConfigured: return .conflict(error.description)
            case .keyUnusable, .receipt: return APIError(.serviceUnavailable, error.description)
            }
        case let error as DamagedDeadLetter:
            return .conflict(error.description, field: "id")
        case let error as RestoreError:
            if error.kind == .noObject { return .notFound(error.description, field: "key") }
            if error.kind == .invalidRequest { return .badRequest(error.description, field: "key") }
            if error.kind == .unreadableObject { return .conflict(error.description, field: "key") }
            return APIError(.badGateway, error.description, field: "target")
        case let error as ListingError:
            return .badRequest(error.description.replacingOccurrences(of: "--month", with: "month"), field: "month")
        case let error as ArchiveStoreError:
            if error.isNotFound { return .notFound(error.description, field: "key") }
            return APIError(.badGateway, "the archive store: \(error)")
        default:
            return nil
        }
    }
}

extension Response {
    /// A JSON response.
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        var text = value.serialized
        text.append("\n")
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// A text response.
    static func text(_ text: String, contentType: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: contentType], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// A redirect to a path on this server after a form post (303: the browser follows with a GET).
    static func seeOther(_ path: String) -> Response {
        Response(status: .seeOther, headers: [.location: path])
    }
}
