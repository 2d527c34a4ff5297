@testable import ArchiverCore
import JSONToolkit
import Testing

@Suite("CloudEvent envelopes written as text")
struct CloudEventTextTests {
    @Test func theTextEnvelopeIsTheSerializedEnvelopeByteForByte() throws {
        let data: JSONValue = .object([("coordination_id", .string("0a\"b\\c\u{1}")), ("n", .integer(3)), ("list", .array([.null, .bool(true)]))])
        let event = CloudEvent(id: "id-\u{e9}", source: "archiver/\"x\"", type: "deletion.completed", subject: "s\n1", time: "2026-12-01T00:00:00Z", data: data)
        let text = CloudEvent.envelopeText(id: event.id, source: event.source, type: event.type, subject: event.subject, time: event.time, data: data.serialized)
        #expect(text == event.envelope.serialized)
        #expect(try JSONValue.parse(text) == event.envelope)
    }
}
