import ArchiverCore
import Testing

@Suite struct RecordScannerTests {
    let scanner = RecordScanner()

    func scan(_ text: String) throws -> ScannedRecord { try scanner.scan(Array(text.utf8)) }

    func code(_ text: String) -> String? {
        do {
            _ = try scan(text)
            return nil
        } catch {
            return (error as? RecordError)?.code
        }
    }

    @Test func readsTheFieldsThePipelineNeeds() throws {
        let record = try scan("""
            {"eventID":"e1","eventName":"REMOVE","userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"},
             "dynamodb":{"ApproximateCreationDateTime":1705315800.5,"Keys":{"PK":{"S":"SESSION#abc"},"n":{"N":"-12.5e3"},"b":{"B":"AAE="}},
             "OldImage":{"PK":{"S":"SESSION#abc"},"deep":{"M":{"x":{"L":[{"N":"1"},{"NULL":true}]}}}},"SequenceNumber":"1100000000017454423011"}}
            """)
        #expect(record.eventName == .remove)
        #expect(record.eventID == "e1")
        #expect(record.deletionKind == .ttl)
        #expect(record.eventTime == .epochSeconds("1705315800.5"))
        #expect(record.keys == [KeyAttribute(name: "PK", type: .string, value: "SESSION#abc"),
                                KeyAttribute(name: "n", type: .number, value: "-12.5e3"),
                                KeyAttribute(name: "b", type: .binary, value: "AAE=")])
        #expect(record.sequenceNumber == "1100000000017454423011")
        #expect(record.hasOldImage)
    }

    @Test func manualUnlessTheServiceDeletedIt() throws {
        let base = #""dynamodb":{"Keys":{"K":{"S":"a"}},"OldImage":{}}"#
        #expect(try scan(#"{"eventName":"REMOVE",\#(base)}"#).deletionKind == .manual)
        #expect(try scan(#"{"eventName":"REMOVE","userIdentity":{"type":"Service","principalId":"someone"},\#(base)}"#).deletionKind == .manual)
        #expect(try scan(#"{"eventName":"REMOVE","userIdentity":{"type":"User","principalId":"dynamodb.amazonaws.com"},\#(base)}"#).deletionKind == .manual)
        #expect(try scan(#"{"eventName":"REMOVE","userIdentity":null,\#(base)}"#).deletionKind == .manual)
    }

    @Test func escapedStringsAndNamesAreDecoded() throws {
        let record = try scan(#"{"eventN\u0061me":"REMOVE","dynamodb":{"Keys":{"P\"K":{"S":"a\/b\u00e9\ud83d\ude00\n"}},"OldImage":{}}}"#)
        #expect(record.eventName == .remove)
        #expect(record.keys[0].name == "P\"K")
        #expect(record.keys[0].value == "a/bé😀\n")
    }

    @Test(arguments: [
        (#"{"eventName":"REMOVE","dynamodb":{}"#, "truncated-json"),
        (#"{"eventName":"REMOVE","dynamodb":{}} x"#, "trailing-data"),
        (#"[1,2]"#, "not-an-object"),
        (#""#, "empty"),
        (#"{"eventName":"INSERT","eventName":"REMOVE","dynamodb":{}}"#, "duplicate-field"),
        (#"{"eventName":"DELETE","dynamodb":{}}"#, "unknown-event-name"),
        (#"{"eventName":"REMOVE"}"#, "missing-field"),
        (#"{"dynamodb":{}}"#, "missing-field"),
        (#"{"eventName":"REMOVE","dynamodb":{"Keys":{"K":{"N":"12a"}}}}"#, "bad-key"),
        (#"{"eventName":"REMOVE","dynamodb":{"Keys":{"K":{"BOOL":true}}}}"#, "bad-key"),
        (#"{"eventName":"REMOVE","dynamodb":{"Keys":{"K":{"S":"\ud800"}}}}"#, "unpaired-surrogate"),
        (#"{"eventName":"REMOVE","dynamodb":{"x":01}}"#, "malformed-json"),
        (#"{"eventName":"REMOVE","dynamodb":{"x":1.}}"#, "malformed-number"),
        (#"{"eventName":"REMOVE","dynamodb":{"x":"\q"}}"#, "bad-escape"),
        (#"{"eventName":"REMOVE","dynamodb":{"x":tru}}"#, "malformed-json"),
        (#"{"eventName":"REMOVE","dynamodb":{"OldImage":"text"}}"#, "wrong-type"),
        (#"{"eventName":"REMOVE","dynamodb":{"x":[1,}}}"#, "malformed-json"),
    ])
    func malformedRecordsSayWhy(text: String, expected: String) {
        #expect(code(text) == expected, "\(text)")
    }

    @Test func rawControlCharactersAndBadUTF8AreRefused() {
        var bytes = Array(#"{"eventName":"REMOVE","dynamodb":{"x":"a"#.utf8)
        #expect(throws: RecordError.self) { try scanner.scan(bytes + [0x00] + Array(#""}}"#.utf8)) }
        for bad: [UInt8] in [[0xC0, 0xAF], [0xED, 0xA0, 0x80], [0x80], [0xF5, 0x80, 0x80, 0x80], [0xE2, 0x82]] {
            do {
                _ = try scanner.scan(bytes + bad + Array(#""}}"#.utf8))
                Issue.record("accepted invalid UTF-8 \(bad)")
            } catch {
                #expect(error.code == "invalid-utf8")
            }
        }
        bytes = Array(#"{"eventName":"REMOVE","dynamodb":{"x":"é€😀"}}"#.utf8)
        #expect(throws: Never.self) { try scanner.scan(bytes) }
    }

    @Test func deepNestingNeedsNoStack() throws {
        let depth = 100_000
        let text = #"{"eventName":"REMOVE","dynamodb":{"OldImage":{"a":"# + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}}}"
        do {
            _ = try scanner.scan(Array(text.utf8))
            Issue.record("accepted nesting deeper than the limit")
        } catch {
            #expect(error.code == "too-deep")
        }
        let ok = #"{"eventName":"REMOVE","dynamodb":{"OldImage":{"a":"# + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "}}}"
        #expect(try scanner.scan(Array(ok.utf8)).hasOldImage)
    }

    @Test func aStringFieldHoldingAnotherTypeIsWrongTypeOnlyIfThatValueIsWellFormed() {
        #expect(code(#"{"eventName":5,"dynamodb":{}}"#) == "wrong-type")
        #expect(code(#"{"eventName":[1,{"a":null}],"dynamodb":{}}"#) == "wrong-type")
        #expect(code(#"{"eventName":tru,"dynamodb":{}}"#) == "malformed-json")
        #expect(code(#"{"eventName":[1,"#) == "truncated-json")
        #expect(code(#"{"eventName":"REMOVE","dynamodb":{"Keys":{"PK":{"S":-}}}}"#) == "malformed-number")
        #expect(code(#"{"eventName":"REMOVE","dynamodb":{"SequenceNumber":{"x":"\q"}}}"#) == "bad-escape")
    }

    @Test func dynamoNumbers() {
        #expect(isDynamoDBNumber("12345678901234567890123456789012345678"))
        #expect(isDynamoDBNumber("-0.000000000000000000000000000000000000001"))
        #expect(isDynamoDBNumber("1E+125"))
        #expect(!isDynamoDBNumber("123456789012345678901234567890123456789"))
        #expect(!isDynamoDBNumber("12a"))
        #expect(!isDynamoDBNumber(""))
        #expect(!isDynamoDBNumber("1e"))
    }
}
