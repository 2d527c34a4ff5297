import ArchiverCore
import Testing

@Suite("Owner key patterns: templates and regular expressions")
struct OwnerKeyPatternTests {
    @Test(arguments: [
        ("*/{sessionId}.*", "2024-01-15/abc.mp4", "abc"),
        ("*/{sessionId}.*", "2024-01-15/abc.v2.mp4", "abc"),
        ("uploads/*/{sessionId}.*", "uploads/2024-01-15/s-1.jpg", "s-1"),
        ("users/{userId}/**", "users/u7/a/b/c.png", "u7"),
        ("{id}", "plain-id", "plain-id"),
        ("**/thumbs/{id}.png", "x/y/thumbs/42.png", "42"),
        ("a.b/{id}", "a.b/x", "x"),
    ])
    func templatesFindTheOwnersID(template: String, key: String, id: String) throws {
        #expect(try OwnerKeyPattern(template: template).ownerID(in: key) == id)
    }

    @Test(arguments: [
        ("*/{sessionId}.*", "2024-01-15/abc"),  // no extension
        ("*/{sessionId}.*", "a/b/abc.mp4"),  // one segment too many for *
        ("*/{sessionId}.*", "2024-01-15/.mp4"),  // an empty id
        ("uploads/*/{id}.*", "other/2024/x.mp4"),
        ("a.b/{id}", "aXb/x"),  // the dot is a dot, not any character
        ("{id}", "a/b"),
    ])
    func keysThatDoNotMatchHaveNoOwner(template: String, key: String) throws {
        #expect(try OwnerKeyPattern(template: template).ownerID(in: key) == nil)
    }

    @Test func theSeedsRegexWorksAsItDoes() throws {
        let pattern = try OwnerKeyPattern(regex: #"uploads/\d{4}-\d{2}-\d{2}/([^.]+)\."#)
        #expect(pattern.ownerID(in: "uploads/2024-01-15/abc.mp4") == "abc")
        #expect(pattern.ownerID(in: "x/uploads/2024-01-15/abc.mp4") == "abc", "unanchored, as JavaScript's match")
        #expect(pattern.ownerID(in: "uploads/2024-1-15/abc.mp4") == nil)
        #expect(pattern.idName == "id" && pattern.form == .regex)
        #expect(try OwnerKeyPattern(regex: "^(?:x|y)/(.*)$").ownerID(in: "y/") == nil, "an empty capture is no id")
    }

    @Test func aTemplateWithSeveralHolesSaysToWriteStarsForTheOthers() {
        let error = #expect(throws: OwnerKeyPatternError.self) { try OwnerKeyPattern(template: "uploads/{date}/{sessionId}.{ext}") }
        #expect(error?.description.contains("3 holes") == true)
        #expect(error?.description.contains("uploads/{date}/*.*") == true, "\(String(describing: error))")
    }

    @Test(arguments: ["", "*/*", "/abs/{id}", "a/{id", "a}/{id}", "a/{}", "a/{bad name}"])
    func badTemplatesAreRefused(template: String) {
        #expect(throws: OwnerKeyPatternError.self) { try OwnerKeyPattern(template: template) }
    }

    @Test(arguments: ["", "no-group", "(a)(b)", "(unclosed"])
    func badRegexesAreRefused(regex: String) {
        #expect(throws: OwnerKeyPatternError.self) { try OwnerKeyPattern(regex: regex) }
    }

    @Test func ownerTablesAreRead() throws {
        #expect(try OwnerSpec("dynamodb:UploadSessions") == .dynamoDB(table: "UploadSessions", attribute: nil))
        #expect(try OwnerSpec("dynamodb:UploadSessions#uploadSessionId") == .dynamoDB(table: "UploadSessions", attribute: "uploadSessionId"))
        #expect(try OwnerSpec("sqlite:/srv/app#1.db#files#id") == .sqlite(database: "/srv/app#1.db", table: "files", column: "id"))
        for bad in ["dynamodb:", "dynamodb:t#", "sqlite:app.db#files", "sqlite:#t#c", "mysql:x"] {
            #expect(throws: OwnerSpecError.self, "\(bad)") { try OwnerSpec(bad) }
        }
    }
}
