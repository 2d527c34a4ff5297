import JSONToolkit
import Testing

@Suite("Raw JSON: byte ranges without decoding")
struct RawJSONTests {
    @Test func findsMembersWithoutDecodingNumbers() throws {
        let json = Array(#" {"Records": [ {"a": 1.00000000000000000000000000000000000001}, {"b": "x\"]}"} ], "NextShardIterator": "it\u00e9\n", "n": null} "#.utf8)
        let members = try RawJSON.objectMembers(json)
        #expect(members.map(\.key) == ["Records", "NextShardIterator", "n"])
        let records = try RawJSON.arrayElements(json, in: members[0].value)
        #expect(records.map { String(decoding: json[$0], as: UTF8.self) } == [#"{"a": 1.00000000000000000000000000000000000001}"#, #"{"b": "x\"]}"}"#])
        #expect(try RawJSON.string(json, in: members[1].value) == "ité\n")
        #expect(String(decoding: json[members[2].value], as: UTF8.self) == "null")
        #expect(try RawJSON.member("NextShardIterator", of: json) == members[1].value)
        #expect(try RawJSON.member("b", of: json, in: records[1]).map { String(decoding: json[$0], as: UTF8.self) } == #""x\"]}""#)
        #expect(try RawJSON.member("missing", of: json) == nil)
        #expect(throws: JSONParseError.self) { try RawJSON.objectMembers(Array(#"{"a": [1, 2}"#.utf8)) }
        #expect(throws: JSONParseError.self) { try RawJSON.objectMembers(Array(#"{"a": 1} x"#.utf8)) }
        #expect(throws: JSONParseError.self) { try RawJSON.string(json, in: members[2].value) }
    }

    @Test("the first of repeated members is the one found")
    func repeatedMember() throws {
        let json = Array(#"{"a": 1, "a": 2}"#.utf8)
        #expect(try RawJSON.member("a", of: json).map { json[$0] } == [UInt8(ascii: "1")])
    }

    /// Byte ranges and the value tree read one grammar.
    @Test("raw access and the value tree accept and refuse the same documents", arguments: [
        (#"{"a": [1, -2.5e3, "x", true, false, null, {}, []]}"#, true), (#"{}"#, true), (#" { "a" : { "b" : [ ] } } "#, true),
        (#"{"a": "\ud83d\ude80"}"#, true),
        (#"{"a": 01}"#, false), (#"{"a": 1.}"#, false), (#"{"a": tru}"#, false), (#"{"a": "\q"}"#, false), (#"{"a": [1,]}"#, false),
        (#"{"a": 1,}"#, false), (#"{"a" 1}"#, false), ("{\"a\": \"\u{1}\"}", false), (#"{"a": 1} {}"#, false), (#"{"a": -}"#, false),
        (#"{"a": +1}"#, false), (#"{"a": 1e}"#, false), (#"{"a": "\u12"}"#, false), (#"{"a": 1"#, false),
    ])
    func sameGrammar(text: String, valid: Bool) {
        #expect(((try? JSONValue.parse(text)) != nil) == valid)
        #expect(((try? RawJSON.validateObject(Array(text.utf8))) != nil) == valid)
    }

    @Test func validatesObjectsOnly() {
        #expect(throws: JSONParseError(message: "expected '{'", offset: 0)) { try RawJSON.validateObject(Array("[]".utf8)) }
        #expect(throws: JSONParseError(message: "expected '['", offset: 0)) { try RawJSON.arrayElements(Array("{}".utf8), in: 0..<2) }
    }
}
