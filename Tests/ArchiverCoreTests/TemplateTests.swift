import ArchiverCore
import JSONToolkit
import Testing

@Suite("Templates and conditions filled from a deleted record")
struct TemplateTests {
    /// An image of `OldImage` members (DynamoDB JSON) and `Keys`.
    static func image(_ oldImage: String, keys: String = #"{"PK":{"S":"USER#42"}}"#) throws -> RecordImage {
        RecordImage(keys: try JSONValue.parse(keys).objectMembers!, oldImage: try JSONValue.parse(oldImage).objectMembers!)
    }

    @Test func holesAreFilledAndFiltered() throws {
        let image = try Self.image(#"{"key":{"S":"Videos/7.MP4"},"n":{"N":"12"},"a.b":{"S":"dotted"}}"#)
        #expect(try Template("{OldImage.key.S}").fill(image).get() == "Videos/7.MP4")
        #expect(try Template("x/{OldImage.key.S|lower}").fill(image).get() == "x/videos/7.mp4")
        #expect(try Template("users/{Keys.PK.S|strip-prefix:USER#}/").fill(image).get() == "users/42/")
        #expect(try Template("{OldImage.key.S|strip-suffix:.MP4}").fill(image).get() == "Videos/7")
        #expect(try Template("n{OldImage.n.N}").fill(image).get() == "n12")
        #expect(try Template("{OldImage.a.b.S}").fill(image).get() == "dotted")
        #expect(try Template("{{literal}}-{OldImage.n.N}").fill(image).get() == "{literal}-12")
    }

    @Test func aFillFailsAsAWholeRatherThanLeaveAHoleEmpty() throws {
        let image = try Self.image(#"{"empty":{"S":""},"n":{"N":"1"},"b":{"B":"AAE="},"twice":{"S":"a"},"twice":{"S":"../b"}}"#, keys: #"{"PK":{"S":"ORG#1"}}"#)
        func failure(_ text: String) throws -> String {
            switch try Template(text).fill(image) {
            case .success(let value): return "filled: \(value)"
            case .failure(let error): return error.description
            }
        }
        #expect(try failure("users/{OldImage.empty.S}/").contains("is empty"))
        #expect(try failure("{OldImage.missing.S}").contains("missing"))
        #expect(try failure("{OldImage.n.S}").contains("of type N, not S"))
        #expect(try failure("{OldImage.twice.S}").contains("twice"))
        #expect(try failure("{Keys.PK.S|strip-prefix:USER#}").contains("does not start with 'USER#'"))
        #expect(try failure("{Keys.PK.S|strip-prefix:ORG#1}").contains("empty after its filters"))
    }

    @Test(arguments: [
        ("{OldImage.key}", "not a value path"), ("{OldImage.key.B}", "type B cannot be used"), ("{OldImage.m.M}", "type M cannot be used"),
        ("{Other.key.S}", "not a value path"), ("{OldImage.key.S", "never closed"), ("a}", "closes nothing"),
        ("{OldImage.key.S|upper}", "unknown filter"), ("{OldImage.key.S|strip-prefix}", "needs the text"), ("{OldImage.{x}.S}", "do not nest"),
    ])
    func badTemplatesSayWhatIsWrong(text: String, expected: String) {
        let error = #expect(throws: RuleTextError.self) { try Template(text) }
        #expect(error?.description.contains(expected) == true, "\(text): \(String(describing: error))")
    }

    @Test func conditions() throws {
        let image = try Self.image(#"{"status":{"S":"uploaded"},"size":{"N":"10.0"},"done":{"BOOL":true},"uploadId":{"S":"u-1"},"note":{"S":" a b "}}"#)
        let holding = [
            "OldImage.status.S == uploaded", "OldImage.status.S != draft", "OldImage.size.N == 10", "OldImage.done.BOOL == true",
            "OldImage.uploadId.S exists", "OldImage.gone.S missing", "Keys.PK.S starts-with USER#", #"OldImage.note.S == " a b ""#,
        ]
        let failing = [
            "OldImage.status.S == draft", "OldImage.gone.S == x", "OldImage.gone.S != x", "OldImage.size.S exists", "OldImage.uploadId.S missing",
            "OldImage.done.BOOL == false", "Keys.PK.S starts-with ORG#",
        ]
        for text in holding { #expect(try RuleCondition(text).holds(for: image), "\(text)") }
        for text in failing { #expect(try !RuleCondition(text).holds(for: image), "\(text)") }
        for bad in ["OldImage.status.S", "OldImage.status.S ~= x", "OldImage.size.N == ten", "OldImage.done.BOOL == yes", "OldImage.x.S exists now", "OldImage.status.S =="] {
            #expect(throws: RuleTextError.self, "\(bad)") { try RuleCondition(bad) }
        }
    }
}
