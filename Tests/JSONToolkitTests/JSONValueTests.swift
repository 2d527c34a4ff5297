import JSONToolkit
import Testing

@Suite("JSON values")
struct JSONValueTests {
    @Test("members keep their order, numbers their text, and compact text reads back the same")
    func roundTrip() throws {
        let text = #"{"z":1,"a":[true,false,null,-0.5e+10,12345678901234567890123456789012345678],"m":{"":"\u00e9\ud83d\ude80\/"}}"#
        let value = try JSONValue.parse(text)
        #expect(value.objectMembers?.map(\.0) == ["z", "a", "m"])
        #expect(value["a"] == .array([.bool(true), .bool(false), .null, .number("-0.5e+10"), .number("12345678901234567890123456789012345678")]))
        #expect(value["m"]?[""] == .string("é🚀/"))
        #expect(value.serialized == #"{"z":1,"a":[true,false,null,-0.5e+10,12345678901234567890123456789012345678],"m":{"":"é🚀/"}}"#)
        #expect(try JSONValue.parse(value.serialized) == value)
    }

    @Test("formatted(indent:) writes what Python's json.dumps(indent=4) writes")
    func formatted() throws {
        let value = try JSONValue.parse(#"{"Rules": [{"ID": "a", "Empty": {}, "None": [], "N": [1, 2]}], "B": false}"#)
        #expect(value.formatted(indent: 4) == """
            {
                "Rules": [
                    {
                        "ID": "a",
                        "Empty": {},
                        "None": [],
                        "N": [
                            1,
                            2
                        ]
                    }
                ],
                "B": false
            }
            """)
        #expect(JSONValue.object([]).formatted(indent: 4) == "{}")
        #expect(JSONValue.integer(-7).formatted(indent: 2) == "-7")
        #expect(JSONValue.object(omittingNil: ["a": nil, "b": .integer(2), "c": nil]) == .object([("b", .number("2"))]))
    }

    @Test("invalid JSON is refused, saying what and where", arguments: [
        ("", "unexpected end", 0),
        ("{\"a\": 1} x", "data after the JSON value", 9),
        ("{\"a\" 1}", "expected ':'", 5),
        ("{\"a\": 1,}", "expected a string", 8),
        ("[1 2]", "expected ',' or ']'", 4),
        ("{\"a\": 1 \"b\"}", "expected ',' or '}'", 9),
        ("[01]", "leading zero in a number", 3),
        ("[1.]", "digits expected after '.'", 3),
        ("[1e]", "digits expected in the exponent", 3),
        ("[-]", "expected a value", 2),
        ("[tru]", "expected true", 1),
        ("[\"a\u{1}\"]", "control character in a string", 3),
        ("[\"\\x\"]", "bad escape", 3),
        ("[\"\\u12\"]", "bad \\u escape", 2),
        ("[\"\\ud800\"]", "unpaired surrogate", 2),
        ("[\"\\udc00\\ud800\"]", "unpaired surrogate", 2),
        ("[\"abc", "unterminated string", 5),
    ])
    func refused(text: String, message: String, offset: Int) {
        #expect(throws: JSONParseError(message: message, offset: offset)) { try JSONValue.parse(text) }
    }

    @Test("invalid UTF-8 in a string and nesting deeper than 512 levels are refused")
    func refusedBytes() {
        #expect(throws: JSONParseError(message: "invalid UTF-8 in a string", offset: 1)) { try JSONValue.parse([0x22, 0xFF, 0x22]) }
        #expect(throws: JSONParseError.self) { try JSONValue.parse(String(repeating: "[", count: 513) + String(repeating: "]", count: 513)) }
        #expect(throws: Never.self) { try JSONValue.parse(String(repeating: "[", count: 512) + String(repeating: "]", count: 512)) }
    }

    @Test("an error says the line and column for people")
    func located() {
        let text = Array("{\n  \"Rules\": [\n    {\"ID\": \"é\",, }\n  ]\n}".utf8)
        do {
            _ = try JSONValue.parse(text)
            Issue.record("parsed")
        } catch {
            #expect(error.located(in: text) == "line 3, column 16: expected a string")
        }
    }
}
