import Crypto
import Foundation
import JSONToolkit

/// An event in the CloudEvents 1.0 JSON format, as the outbox keeps and delivers it.
///
/// `id` is deterministic (``CloudEvent/id(subject:type:)``), so an event written again after a crash, or by a
/// replayed batch, has the id it had; consumers drop duplicates by id. `time` is given by the writer (a deletion's
/// event time, or a clock time it stores) and never recomputed on delivery.
public struct CloudEvent: Sendable, Equatable {
    public var id: String
    public var source: String
    /// `deletion.requested`, `deletion.completed`, … (EventBridge `DetailType`).
    public var type: String
    /// What the event is about, within the source (a coordination id).
    public var subject: String
    /// RFC 3339.
    public var time: String
    public var data: JSONValue

    public static let specVersion = "1.0"

    public init(id: String, source: String, type: String, subject: String, time: String, data: JSONValue) {
        self.id = id
        self.source = source
        self.type = type
        self.subject = subject
        self.time = time
        self.data = data
    }

    /// The id of the event of `type` about `subject`: SHA-256 of both, hex (the first 32 digits).
    public static func id(subject: String, type: String) -> String {
        String(hex(SHA256.hash(data: Array("\(subject)\n\(type)".utf8))).prefix(32))
    }

    /// The structured-mode JSON envelope.
    public var envelope: JSONValue {
        .object([
            ("specversion", .string(Self.specVersion)), ("id", .string(id)), ("source", .string(source)), ("type", .string(type)),
            ("subject", .string(subject)), ("time", .string(time)), ("datacontenttype", .string("application/json")), ("data", data),
        ])
    }

    /// ``envelope`` serialized, written as text around `data` (JSON text): the same bytes, without a value tree.
    static func envelopeText(id: String, source: String, type: String, subject: String, time: String, data: String) -> String {
        var out = JSONObjectWriter()
        out.string("specversion", specVersion)
        out.string("id", id)
        out.string("source", source)
        out.string("type", type)
        out.string("subject", subject)
        out.string("time", time)
        out.string("datacontenttype", "application/json")
        out.raw("data", data)
        return out.text
    }

    /// Reads an envelope (an outbox row, or an incoming `consumer.completed`).
    public init?(envelope: JSONValue) {
        guard let id = envelope["id"]?.stringValue, let type = envelope["type"]?.stringValue else { return nil }
        self.init(
            id: id, source: envelope["source"]?.stringValue ?? "", type: type, subject: envelope["subject"]?.stringValue ?? "",
            time: envelope["time"]?.stringValue ?? "", data: envelope["data"] ?? .null)
    }
}
