import ArchiverCore
import Testing

@Suite("Targets stay inside their root")
struct TargetCheckTests {
    static let bucket = try! RootLocation("s3://user-content/uploads/")
    static let folder = try! RootLocation("/srv/app/files")

    @Test(arguments: [
        "videos/7.mp4", "a", "users/42/avatar.png", "name with spaces.txt", "ünïcødé/文件.bin", "a.b..c/d...e", "100%.txt", "%41",
        "...", ".hidden", "a/.b",
    ])
    func safeKeys(key: String) {
        #expect(TargetCheck.problem(key, shape: .object, root: Self.bucket) == nil)
        #expect(TargetCheck.problem(key, shape: .object, root: Self.folder) == nil)
    }

    @Test(arguments: [
        ("", "empty"), ("/etc/passwd", "absolute"), ("../x", "'..' segment"), ("a/../../x", "'..' segment"), ("a/./b", "'.' segment"),
        ("a//b", "empty segment"), ("a/", "ends with '/'"), ("a\u{0}b", "NUL"), ("a\nb", "control character"), ("a\u{85}b", "control character"),
        ("a\\b", "backslash"), ("a*", "wildcard"), ("a?b", "wildcard"), ("[a]", "wildcard"),
        ("%2e%2e/x", "percent-encoded '.'"), ("a%2Fb", "percent-encoded '/'"), ("a%5cb", "percent-encoded backslash"), ("a%00", "control character"),
        ("a%252e", "percent-encoded '%'"), ("a\u{FF0F}b", "normalises"), ("\u{FF0E}\u{FF0E}/x", "normalises"), ("a\u{2024}\u{2024}", "normalises"),
        ("a\u{2215}b", "looks like '/'"), ("a\u{200F}b", "direction-changing"), ("\u{202E}gpj.exe", "direction-changing"), ("a\u{200D}", "invisible"),
        ("\u{FEFF}a", "invisible"), ("a\u{2028}b", "invisible"),
    ])
    func unsafeKeys(key: String, expected: String) {
        for root in [Self.bucket, Self.folder] {
            let problem = TargetCheck.problem(key, shape: .object, root: root)
            #expect(problem?.contains(expected) == true, "\(key.debugDescription): \(problem ?? "accepted")")
        }
    }

    @Test func prefixesEndInASlashAndAreDeepEnough() {
        #expect(TargetCheck.problem("users/42/", shape: .prefix(minDepth: 2), root: Self.bucket) == nil)
        #expect(TargetCheck.problem("users/42", shape: .prefix(minDepth: 1), root: Self.bucket)?.contains("does not end with '/'") == true)
        #expect(TargetCheck.problem("users/", shape: .prefix(minDepth: 2), root: Self.bucket)?.contains("fewer than the 2") == true)
        #expect(TargetCheck.problem("/", shape: .prefix(minDepth: 1), root: Self.bucket) != nil)
        #expect(TargetCheck.problem("users//", shape: .prefix(minDepth: 1), root: Self.bucket)?.contains("empty segment") == true)
    }

    @Test func lengthsAreBoundedByTheRoot() {
        let long = String(repeating: "a/", count: 510) + "b"  // 1,021 bytes: with the 8-byte prefix, over 1,024
        #expect(TargetCheck.problem(long, shape: .object, root: Self.bucket)?.contains("1,024") == true)
        #expect(TargetCheck.problem(long, shape: .object, root: Self.folder) == nil)
        let segment = String(repeating: "x", count: 256)
        #expect(TargetCheck.problem(segment, shape: .object, root: Self.folder)?.contains("256 bytes") == true)
        let huge = String(repeating: "y", count: 5_000_000)
        #expect(TargetCheck.problem(huge, shape: .object, root: Self.folder) != nil)
    }

    @Test func messagesQuoteValuesSafely() {
        let quoted = TargetCheck.quoted("a\u{202E}b\nc" + String(repeating: "z", count: 200))
        #expect(quoted.hasPrefix("'a\\u{202E}b\\u{A}c"))
        #expect(quoted.hasSuffix("(207 bytes)"))
        #expect(!quoted.contains("\u{202E}") && !quoted.contains("\n"))
    }

    @Test func rootsAreAbsoluteFoldersOrBucketsAndNeverOverlapTheArchive() throws {
        #expect(try RootLocation("s3://b/uploads") == .s3(bucket: "b", prefix: "uploads/"))
        #expect(try RootLocation("s3://b") == .s3(bucket: "b", prefix: ""))
        #expect(try RootLocation("/srv/files/") == .folder("/srv/files"))
        #expect(throws: RootError.self) { try RootLocation("files") }
        #expect(throws: RootError.self) { try RootLocation("/") }
        #expect(throws: RootError.self) { try RootLocation("/srv/../etc") }
        #expect(throws: RootError.self) { try RootLocation("s3://b/a/../c/") }
        #expect(try RootLocation("s3://b/uploads/").overlaps(ArchiveLocation("s3://b/uploads/archive")))
        #expect(try RootLocation("s3://b/").overlaps(ArchiveLocation("s3://b/archive")))
        #expect(try !RootLocation("s3://b/uploads/").overlaps(ArchiveLocation("s3://b/uploads-archive")))
        #expect(try RootLocation("/srv/files").overlaps(ArchiveLocation("/srv")))
        #expect(try !RootLocation("/srv/files").overlaps(ArchiveLocation("/srv/files-archive")))
    }
}
