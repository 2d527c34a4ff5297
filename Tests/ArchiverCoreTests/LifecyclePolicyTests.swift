import ArchiverCore
import Foundation
import Testing
import TestSupport

/// A policy with one rule whose fields are `ruleBody` (JSON text inside the rule object).
func policyJSON(rule ruleBody: String) -> String {
    #"{"Rules": [{"ID": "r", "Status": "Enabled", "Filter": {"Prefix": ""}, "# + ruleBody + "}]}"
}

/// One invalid policy and what its error must say.
struct BadPolicy: CustomTestStringConvertible, Sendable {
    let name: String
    let json: String
    let kind: LifecyclePolicyError.Kind
    let location: String?
    /// Words the "what is wrong" part must hold.
    let problem: String
    /// Words the "what to do" part must hold.
    let fix: String
    var testDescription: String { name }
}

let badPolicies: [BadPolicy] = [
    BadPolicy(name: "not JSON", json: #"{"Rules": [}"#, kind: .badJSON, location: nil, problem: "not valid JSON", fix: "fix the JSON syntax"),
    BadPolicy(name: "rules in lower case", json: #"{"rules": []}"#, kind: .invalid, location: "rules", problem: "case-sensitive: write \"Rules\"", fix: "use only the fields"),
    BadPolicy(name: "Rules missing", json: "{}", kind: .badJSON, location: nil, problem: "\"Rules\" is missing", fix: "{\"Rules\": [ … ]}"),
    BadPolicy(name: "no rules at all", json: #"{"Rules": []}"#, kind: .invalid, location: "Rules", problem: "no rules", fix: "add a rule"),
    BadPolicy(
        name: "unknown storage class", json: policyJSON(rule: #""Transitions": [{"Days": 400, "StorageClass": "GLACER"}]"#),
        kind: .invalid, location: "Rules[0].Transitions[0].StorageClass", problem: "unknown storage class \"GLACER\"", fix: "DEEP_ARCHIVE"),
    BadPolicy(
        name: "storage class spelled in lower case", json: policyJSON(rule: #""Transitions": [{"Days": 90, "StorageClass": "standard-ia"}]"#),
        kind: .invalid, location: "Rules[0].Transitions[0].StorageClass", problem: "unknown storage class", fix: "write \"STANDARD_IA\""),
    BadPolicy(
        name: "transition to STANDARD", json: policyJSON(rule: #""Transitions": [{"Days": 90, "StorageClass": "STANDARD"}]"#),
        kind: .invalid, location: "Rules[0].Transitions[0].StorageClass", problem: "a transition to STANDARD", fix: "objects start in STANDARD"),
    BadPolicy(
        name: "transition days not increasing",
        json: policyJSON(rule: #""Transitions": [{"Days": 90, "StorageClass": "STANDARD_IA"}, {"Days": 90, "StorageClass": "GLACIER"}]"#),
        kind: .invalid, location: "Rules[0].Transitions[1].Days", problem: "Days 90 is not after Transitions[0].Days 90", fix: "in the order they happen"),
    BadPolicy(
        name: "transitions listed out of order",
        json: policyJSON(rule: #""Transitions": [{"Days": 365, "StorageClass": "GLACIER"}, {"Days": 90, "StorageClass": "STANDARD_IA"}]"#),
        kind: .invalid, location: "Rules[0].Transitions[1].Days", problem: "Days 90 is not after", fix: "each with more Days"),
    BadPolicy(
        name: "transition back up the waterfall",
        json: policyJSON(rule: #""Transitions": [{"Days": 90, "StorageClass": "GLACIER"}, {"Days": 365, "StorageClass": "STANDARD_IA"}]"#),
        kind: .invalid, location: "Rules[0].Transitions[1].StorageClass", problem: "from GLACIER to STANDARD_IA", fix: "order the transitions"),
    BadPolicy(
        name: "negative days", json: policyJSON(rule: #""Transitions": [{"Days": -1, "StorageClass": "GLACIER"}]"#),
        kind: .invalid, location: "Rules[0].Transitions[0].Days", problem: "Days is -1", fix: "0 or more"),
    BadPolicy(
        name: "Standard-IA before 30 days", json: policyJSON(rule: #""Transitions": [{"Days": 10, "StorageClass": "STANDARD_IA"}]"#),
        kind: .invalid, location: "Rules[0].Transitions[0].Days", problem: "before 30 days", fix: "Days 30 or more"),
    BadPolicy(
        name: "One Zone-IA before 30 days", json: policyJSON(rule: #""Transitions": [{"Days": 29, "StorageClass": "ONEZONE_IA"}]"#),
        kind: .invalid, location: "Rules[0].Transitions[0].Days", problem: "Days is 29 for ONEZONE_IA", fix: "Days 30 or more"),
    BadPolicy(
        name: "less than 30 days in Standard-IA",
        json: policyJSON(rule: #""Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}, {"Days": 40, "StorageClass": "GLACIER"}]"#),
        kind: .invalid, location: "Rules[0].Transitions[1].Days", problem: "only 10 days after the move to STANDARD_IA", fix: "Days 60 or more"),
    BadPolicy(
        name: "transition with neither Days nor Date", json: policyJSON(rule: #""Transitions": [{"StorageClass": "GLACIER"}]"#),
        kind: .invalid, location: "Rules[0].Transitions[0]", problem: "neither Days nor Date", fix: "add \"Days\""),
    BadPolicy(
        name: "transition with Days and Date",
        json: policyJSON(rule: #""Transitions": [{"Days": 1, "Date": "2030-01-01T00:00:00Z", "StorageClass": "GLACIER"}]"#),
        kind: .invalid, location: "Rules[0].Transitions[0]", problem: "both Days and Date", fix: "keep one"),
    BadPolicy(
        name: "Days and Date mixed in one rule",
        json: policyJSON(rule: #""Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}, {"Date": "2030-01-01T00:00:00Z", "StorageClass": "GLACIER"}]"#),
        kind: .invalid, location: "Rules[0].Transitions[1]", problem: "mixes transitions by Days and by Date", fix: "use Days for every transition"),
    BadPolicy(
        name: "date not at midnight", json: policyJSON(rule: #""Expiration": {"Date": "2030-01-01T12:00:00Z"}"#),
        kind: .invalid, location: "Rules[0].Expiration.Date", problem: "not midnight UTC", fix: "2030-01-01T00:00:00Z"),
    BadPolicy(
        name: "date not a date", json: policyJSON(rule: #""Expiration": {"Date": "next tuesday"}"#),
        kind: .invalid, location: "Rules[0].Expiration.Date", problem: "not an ISO-8601 date-time", fix: "2030-01-01T00:00:00Z"),
    BadPolicy(
        name: "expiration days zero", json: policyJSON(rule: #""Expiration": {"Days": 0}"#),
        kind: .invalid, location: "Rules[0].Expiration.Days", problem: "Days is 0", fix: "1 or more"),
    BadPolicy(
        name: "expiration before the last transition",
        json: policyJSON(rule: #""Transitions": [{"Days": 365, "StorageClass": "GLACIER"}], "Expiration": {"Days": 300}"#),
        kind: .invalid, location: "Rules[0].Expiration.Days", problem: "not after their last move", fix: "expire later than 365 days"),
    BadPolicy(
        name: "expiration with Days and Date", json: policyJSON(rule: #""Expiration": {"Days": 10, "Date": "2030-01-01T00:00:00Z"}"#),
        kind: .invalid, location: "Rules[0].Expiration", problem: "has Days and Date", fix: "exactly one of"),
    BadPolicy(
        name: "days as a string", json: policyJSON(rule: #""Expiration": {"Days": "2557"}"#),
        kind: .badJSON, location: "Rules[0].Expiration.Days", problem: "expected a whole number", fix: "put-bucket-lifecycle-configuration"),
    BadPolicy(
        name: "misspelt field", json: policyJSON(rule: #""Expiraton": {"Days": 2557}"#),
        kind: .invalid, location: "Rules[0].Expiraton", problem: "unknown field \"Expiraton\"", fix: "Expiration"),
    BadPolicy(
        name: "misspelt field in a later transition",
        json: policyJSON(rule: #""Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}, {"Dayz": 90, "StorageClass": "GLACIER"}]"#),
        kind: .invalid, location: "Rules[0].Transitions[1].Dayz", problem: "unknown field \"Dayz\"", fix: "Date, Days, StorageClass"),
    BadPolicy(
        name: "misspelt field in a tag inside And",
        json: #"{"Rules": [{"Status": "Enabled", "Filter": {"And": {"Prefix": "a/", "Tags": [{"Kye": "k", "Value": "v"}]}}, "Expiration": {"Days": 1}}]}"#,
        kind: .invalid, location: "Rules[0].Filter.And.Tags[0].Kye", problem: "unknown field \"Kye\"", fix: "Key, Value"),
    BadPolicy(
        name: "unknown field in the abort action",
        json: policyJSON(rule: #""AbortIncompleteMultipartUpload": {"daysAfterInitiation": 7}"#),
        kind: .invalid, location: "Rules[0].AbortIncompleteMultipartUpload.daysAfterInitiation",
        problem: "case-sensitive: write \"DaysAfterInitiation\"", fix: "DaysAfterInitiation"),
    BadPolicy(
        name: "field in the wrong case", json: policyJSON(rule: #""expiration": {"Days": 2557}"#),
        kind: .invalid, location: "Rules[0].expiration", problem: "case-sensitive: write \"Expiration\"", fix: "use only the fields"),
    BadPolicy(
        name: "status in lower case", json: #"{"Rules": [{"Status": "enabled", "Filter": {}, "Expiration": {"Days": 1}}]}"#,
        kind: .invalid, location: "Rules[0].Status", problem: "\"enabled\" is not a status", fix: "\"Enabled\" or \"Disabled\""),
    BadPolicy(
        name: "status missing", json: #"{"Rules": [{"Filter": {}, "Expiration": {"Days": 1}}]}"#,
        kind: .badJSON, location: "Rules[0]", problem: "\"Status\" is missing", fix: "add it"),
    BadPolicy(
        name: "tag filter", json: #"{"Rules": [{"Status": "Enabled", "Filter": {"Tag": {"Key": "k", "Value": "v"}}, "Expiration": {"Days": 1}}]}"#,
        kind: .invalid, location: "Rules[0].Filter.Tag", problem: "filtering by tag is not supported", fix: "filter by Prefix"),
    BadPolicy(
        name: "tags inside And",
        json: #"{"Rules": [{"Status": "Enabled", "Filter": {"And": {"Prefix": "a/", "Tags": [{"Key": "k", "Value": "v"}]}}, "Expiration": {"Days": 1}}]}"#,
        kind: .invalid, location: "Rules[0].Filter.And.Tags", problem: "not supported", fix: "filter by Prefix"),
    BadPolicy(
        name: "two filter conditions", json: #"{"Rules": [{"Status": "Enabled", "Filter": {"Prefix": "a/", "ObjectSizeGreaterThan": 10}, "Expiration": {"Days": 1}}]}"#,
        kind: .invalid, location: "Rules[0].Filter", problem: "2 conditions (Prefix, ObjectSizeGreaterThan)", fix: "\"And\""),
    BadPolicy(
        name: "no filter and no prefix", json: #"{"Rules": [{"Status": "Enabled", "Expiration": {"Days": 1}}]}"#,
        kind: .invalid, location: "Rules[0]", problem: "neither Filter nor Prefix", fix: "\"Filter\": {\"Prefix\": \"\"}"),
    BadPolicy(
        name: "filter and legacy prefix", json: #"{"Rules": [{"Status": "Enabled", "Prefix": "", "Filter": {}, "Expiration": {"Days": 1}}]}"#,
        kind: .invalid, location: "Rules[0]", problem: "both Filter and the legacy Prefix", fix: "keep only Filter"),
    BadPolicy(
        name: "prefix with a leading slash", json: #"{"Rules": [{"Status": "Enabled", "Filter": {"Prefix": "/2024/"}, "Expiration": {"Days": 1}}]}"#,
        kind: .invalid, location: "Rules[0].Filter.Prefix", problem: "starts with '/'", fix: "write \"2024/\""),
    BadPolicy(
        name: "rule without actions", json: #"{"Rules": [{"Status": "Enabled", "Filter": {}}]}"#,
        kind: .invalid, location: "Rules[0]", problem: "does nothing", fix: "add an action"),
    BadPolicy(
        name: "duplicate IDs",
        json: #"{"Rules": [{"ID": "a", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}}, {"ID": "a", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 2}}]}"#,
        kind: .invalid, location: "Rules[1].ID", problem: "Rules[0] has the same ID", fix: "its own ID"),
    BadPolicy(
        name: "abort after 0 days", json: policyJSON(rule: #""AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 0}"#),
        kind: .invalid, location: "Rules[0].AbortIncompleteMultipartUpload.DaysAfterInitiation", problem: "less than 1", fix: "1 or more"),
    BadPolicy(
        name: "size filter that admits nothing",
        json: #"{"Rules": [{"Status": "Enabled", "Filter": {"And": {"ObjectSizeGreaterThan": 100, "ObjectSizeLessThan": 50}}, "Expiration": {"Days": 1}}]}"#,
        kind: .invalid, location: "Rules[0].Filter.And", problem: "no object is larger than 100 bytes and smaller than 50", fix: "less than"),
]

@Suite("Lifecycle policy")
struct LifecyclePolicyTests {
    @Test("each invalid policy is refused, saying where, what is wrong and what to do", arguments: badPolicies)
    func refused(_ bad: BadPolicy) throws {
        let error = try #require(throws: LifecyclePolicyError.self) { try LifecyclePolicy.decode(Array(bad.json.utf8)) }
        #expect(error.kind == bad.kind, "\(error)")
        #expect(error.location == bad.location, "\(error)")
        #expect(error.problem.contains(bad.problem), "\(error)")
        #expect(error.fix.contains(bad.fix), "\(error)")
        #expect(error.description.contains("; "), "problem and fix are both said")
    }

    @Test("a file's errors name the file")
    func fileErrorsNameTheFile() throws {
        let path = NSTemporaryDirectory() + "lifecycle-\(UUID().uuidString).json"
        try Data(policyJSON(rule: #""Expiration": {"Days": -5}"#).utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = try #require(throws: LifecyclePolicyError.self) { try LifecyclePolicy.load(path: path) }
        #expect(error.file == path)
        #expect(error.description == "\(path): Rules[0].Expiration.Days: Days is -5; give the days after the object is created: 1 or more")
    }

    @Test("a file that is not JSON is reported with the line and column where it breaks")
    func syntaxErrorSaysWhere() throws {
        let error = try #require(throws: LifecyclePolicyError.self) { try LifecyclePolicy.decode(Array("{\n  \"Rules\": [\n    {\"ID\": \"x\",, }\n  ]\n}".utf8)) }
        #expect(error.kind == .badJSON)
        #expect(error.problem == "the file is not valid JSON (line 3, column 16: expected a string)")
    }

    @Test("a policy saved with a byte-order mark reads as without one, strictly")
    func byteOrderMark() throws {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        #expect(try LifecyclePolicy.decode(bom + Array(LifecyclePolicy.defaultJSON.utf8)) == .default)
        let error = try #require(throws: LifecyclePolicyError.self) {
            try LifecyclePolicy.decode(bom + Array(policyJSON(rule: #""Expiraton": {"Days": 1}"#).utf8))
        }
        #expect(error.location == "Rules[0].Expiraton")
        let broken = try #require(throws: LifecyclePolicyError.self) { try LifecyclePolicy.decode(bom + Array("{\"Rules\": [}".utf8)) }
        #expect(broken.problem == "the file is not valid JSON (line 1, column 12: expected a value)")
    }

    @Test("a missing policy file says where the default is")
    func missingFile() throws {
        let error = try #require(throws: LifecyclePolicyError.self) { try LifecyclePolicy.load(path: "/nonexistent/policy.json") }
        #expect(error.kind == .missingFile)
        #expect(error.description.contains("/nonexistent/policy.json"))
        #expect(error.description.contains("lifecycle/default.json"))
        #expect(error.description.contains("leave --policy out"))
    }

    @Test("a folder is not a policy")
    func folderIsNotAPolicy() throws {
        let error = try #require(throws: LifecyclePolicyError.self) { try LifecyclePolicy.load(path: NSTemporaryDirectory()) }
        #expect(error.kind == .unreadable)
    }

    @Test("valid policies load: legacy Prefix, dates, noncurrent versions, size filters, every storage class in order")
    func validPolicies() throws {
        let policy = try LifecyclePolicy.decode(Array("""
            {"Rules": [
              {"ID": "legacy", "Status": "Enabled", "Prefix": "2016/", "Expiration": {"Days": 30}},
              {"ID": "dates", "Status": "Disabled", "Filter": {"Prefix": "x/"},
               "Transitions": [{"Date": "2030-01-01T00:00:00Z", "StorageClass": "GLACIER_IR"}, {"Date": "2031-01-01T00:00:00.000Z", "StorageClass": "DEEP_ARCHIVE"}],
               "Expiration": {"Date": "2032-01-01T00:00:00Z"}},
              {"ID": "versions", "Status": "Enabled", "Filter": {"And": {"Prefix": "y/", "ObjectSizeGreaterThan": 1024}},
               "NoncurrentVersionTransitions": [{"NoncurrentDays": 30, "StorageClass": "STANDARD_IA", "NewerNoncurrentVersions": 2}],
               "NoncurrentVersionExpiration": {"NoncurrentDays": 90}, "Expiration": {"ExpiredObjectDeleteMarker": true}},
              {"ID": "waterfall", "Status": "Enabled", "Filter": {},
               "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}, {"Days": 60, "StorageClass": "INTELLIGENT_TIERING"},
                               {"Days": 90, "StorageClass": "ONEZONE_IA"}, {"Days": 120, "StorageClass": "GLACIER_IR"},
                               {"Days": 150, "StorageClass": "GLACIER"}, {"Days": 240, "StorageClass": "DEEP_ARCHIVE"}]}
            ]}
            """.utf8))
        #expect(policy.rules.count == 4)
        #expect(policy.rules[0].effectivePrefix == "2016/")
        #expect(policy.rules[1].transitions?[1].date?.day == (try LifecycleDay(parsing: "2031-01-01")))
        #expect(policy.rules[2].effectivePrefix == "y/")
        #expect(policy.rules[3].transitions?.map(\.storageClass) == StorageClass.transitionTargets)
    }

    @Test("a policy encodes back to the same S3 shape")
    func roundTrip() throws {
        let json = #"{"Rules":[{"Expiration":{"Date":"2030-01-01T00:00:00.000Z"},"Filter":{"Prefix":"a/"},"ID":"x","Status":"Enabled"}]}"#
        let policy = try LifecyclePolicy.decode(Array(json.utf8))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        #expect(String(decoding: try encoder.encode(policy), as: UTF8.self) == json)
        #expect(try LifecyclePolicy.decode(Array(try encoder.encode(LifecyclePolicy.default))) == .default)
    }

    @Test("--now days")
    func days() throws {
        #expect(try LifecycleDay(parsing: "2024-01-15").description == "2024-01-15")
        #expect(try LifecycleDay(parsing: "1970-01-01").number == 0)
        #expect(try LifecycleDay(parsing: "1969-12-31").number == -1)
        for bad in ["2024-1-15", "2024-02-30", "15/01/2024", "2024-01-15T00:00:00Z", "", "tomorrow"] {
            let error = try #require(throws: LifecyclePolicyError.self) { try LifecycleDay(parsing: bad) }
            #expect(error.kind == .badDay)
            #expect(error.description.contains("YYYY-MM-DD"))
        }
        let deletedAt1030 = try LifecycleDay(parsing: "2024-01-15").startSeconds + 10 * 3600 + 30 * 60
        #expect(try LifecycleDay(parsing: "2024-01-16").age(ofObjectCreatedAt: deletedAt1030) == 0)
        #expect(try LifecycleDay(parsing: "2024-04-15").age(ofObjectCreatedAt: deletedAt1030) == 90)
        #expect(LifecycleDay.due(days: 3, afterCreation: deletedAt1030) == (try LifecycleDay(parsing: "2024-01-19")))
    }
}

@Suite("Lifecycle default policy")
struct LifecycleDefaultPolicyTests {
    @Test("lifecycle/default.json is the built-in copy, byte for byte")
    func embeddedCopyMatchesTheFile() throws {
        let text = try String(contentsOfFile: PackagePaths.root + "/" + LifecyclePolicy.defaultPath, encoding: .utf8)
        #expect(text == LifecyclePolicy.defaultJSON, "edit lifecycle/default.json and DefaultLifecyclePolicy.swift together")
        #expect(try LifecyclePolicy.load(path: PackagePaths.root + "/" + LifecyclePolicy.defaultPath) == .default)
    }

    @Test("the default: Standard-IA at 90 days, Glacier at 365, expiry at 2557 (7 years), stale uploads after 7 days")
    func defaultValues() throws {
        let rule = try #require(LifecyclePolicy.default.rules.first)
        #expect(LifecyclePolicy.default.rules.count == 1)
        #expect(rule.status == .enabled)
        #expect(rule.filter == LifecycleFilter(prefix: ""))
        #expect(rule.transitions == [LifecycleTransition(days: 90, storageClass: .standardIA), LifecycleTransition(days: 365, storageClass: .glacier)])
        #expect(rule.expiration == LifecycleExpiration(days: 2557))
        #expect(rule.abortIncompleteMultipartUpload == AbortIncompleteMultipartUpload(daysAfterInitiation: 7))
        // Seven years of days, two of them leap days, so that no 7-year span comes up a day short.
        #expect(2557 == 7 * 365 + 2)
    }

    @Test("every policy in lifecycle/ loads")
    func everyExampleLoads() throws {
        let files = try PackagePaths.lifecycleExampleFiles()
        #expect(files.contains { $0.hasSuffix("/default.json") })
        for file in files { _ = try LifecyclePolicy.load(path: file) }
    }

    @Test("without --policy: lifecycle/default.json in the working folder, else the built-in copy")
    func resolve() throws {
        let fromTree = try LifecyclePolicy.resolve(path: nil, workingFolder: PackagePaths.root)
        #expect(fromTree.source == "lifecycle/default.json")
        #expect(fromTree.policy == .default)
        let elsewhere = try LifecyclePolicy.resolve(path: nil, workingFolder: "/nonexistent")
        #expect(elsewhere.source.hasPrefix("built-in default"))
        #expect(elsewhere.policy == .default)
        #expect(throws: LifecyclePolicyError.self) { try LifecyclePolicy.resolve(path: "/nonexistent/p.json", workingFolder: PackagePaths.root) }
    }
}
