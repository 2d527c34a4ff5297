import JSONToolkit
import Testing

@Suite("The JSON string escaper")
struct JSONStringTests {
    /// Both ways of writing a string (into text and into bytes), which must agree.
    func written(_ s: String) -> (text: String, bytes: String) {
        var text = ""
        writeJSONString(s, to: &text)
        var bytes: [UInt8] = []
        writeJSONString(s, to: &bytes)
        return (text, String(decoding: bytes, as: UTF8.self))
    }

    @Test("U+2028 and U+2029 are written as \\u2028 and \\u2029, so a JSON line stays one line for every reader")
    func lineAndParagraphSeparatorsAreEscaped() throws {
        let s = "a\u{2028}b\u{2029}c"
        let (text, bytes) = written(s)
        #expect(text == #""a\u2028b\u2029c""#)
        #expect(bytes == text)
        #expect(!text.unicodeScalars.contains { $0.value == 0x2028 || $0.value == 0x2029 })
        // Every writer goes through the one escaper.
        #expect(JSONValue.string(s).serialized == text)
        #expect(JSONValue.object([(s, .null)]).formatted(indent: 4) == "{\n    " + text + ": null\n}")
        var object = JSONObjectWriter()
        object.string(s, s)
        #expect(String(decoding: object.finished(), as: UTF8.self) == "{" + text + ":" + text + "}")
        // The same text to a parser.
        #expect(try JSONValue.parse(text) == .string(s))
        // Their neighbours in UTF-8 (E2 80 A7, E2 80 AA) and a lone E2 80 prefix are not escaped.
        #expect(written("\u{2027}\u{202A}").text == "\"\u{2027}\u{202A}\"")
    }

    @Test("quotes, backslashes and control characters are escaped; everything else is written as it is")
    func escapes() throws {
        let cases: [(String, String)] = [
            ("", #""""#),
            ("plain", #""plain""#),
            ("a\"b\\c\u{1}\n\r\t\u{8}\u{c}\u{1f}\u{7f}", #""a\"b\\c\u0001\n\r\t\u0008\u000c\u001f"# + "\u{7f}\""),
            ("é☕🚀", "\"é☕🚀\""),
            ("\r\n", #""\r\n""#),
            ("e\u{301}\"", "\"e\u{301}\\\"\""),
            ("/</script>", #""/</script>""#),
            ("\u{0}", #""\u0000""#),
        ]
        for (input, expected) in cases {
            let (text, bytes) = written(input)
            #expect(text == expected)
            #expect(bytes == expected)
            #expect(try JSONValue.parse(text) == .string(input))
        }
    }
}
