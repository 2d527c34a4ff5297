import AWSClients
import ArchiverAWS
import ArchiverCore
import Foundation
import JSONToolkit
import Testing
import TestSupport

/// What S3 is sent and what `lifecycle show` prints, byte for byte as before the policy had one model.
enum LifecycleGolden {
    static let policies = #"""
        {"Rules": [
          {"ID": "legacy", "Status": "Enabled", "Prefix": "2016/", "Expiration": {"Days": 30}},
          {"ID": "dates", "Status": "Disabled", "Filter": {"Prefix": "x/"},
           "Transitions": [{"Date": "2030-01-01T00:00:00Z", "StorageClass": "GLACIER_IR"}, {"Date": "2031-01-01T00:00:00Z", "StorageClass": "DEEP_ARCHIVE"}],
           "Expiration": {"Date": "2032-01-01T00:00:00Z"}},
          {"ID": "sizes", "Status": "Enabled", "Filter": {"And": {"Prefix": "y/", "ObjectSizeGreaterThan": 1024, "ObjectSizeLessThan": 4096}},
           "NoncurrentVersionTransitions": [{"NoncurrentDays": 30, "StorageClass": "STANDARD_IA", "NewerNoncurrentVersions": 3}],
           "NoncurrentVersionExpiration": {"NoncurrentDays": 90, "NewerNoncurrentVersions": 2}, "Expiration": {"ExpiredObjectDeleteMarker": true}},
          {"ID": "one-in-and", "Status": "Enabled", "Filter": {"And": {"Prefix": "z/"}}, "Expiration": {"Days": 5}},
          {"ID": "empty-filter", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 6}, "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}},
          {"ID": "size-only", "Status": "Enabled", "Filter": {"ObjectSizeGreaterThan": 0}, "Expiration": {"Days": 7}},
          {"ID": "odd &<>\"' \n\t é \u2028 \u2029 ☕ /", "Status": "Enabled", "Filter": {"Prefix": "a&b<c>/"}, "Expiration": {"ExpiredObjectDeleteMarker": false}}
        ]}
        """#

    static let policiesXML = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><LifecycleConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        + "<Rule><Expiration><Days>30</Days></Expiration><ID>legacy</ID><Prefix>2016/</Prefix><Status>Enabled</Status></Rule>"
        + "<Rule><Expiration><Date>2032-01-01T00:00:00Z</Date></Expiration><ID>dates</ID><Filter><Prefix>x/</Prefix></Filter><Status>Disabled</Status><Transition><Date>2030-01-01T00:00:00Z</Date><StorageClass>GLACIER_IR</StorageClass></Transition><Transition><Date>2031-01-01T00:00:00Z</Date><StorageClass>DEEP_ARCHIVE</StorageClass></Transition></Rule>"
        + "<Rule><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration><ID>sizes</ID><Filter><And><Prefix>y/</Prefix><ObjectSizeGreaterThan>1024</ObjectSizeGreaterThan><ObjectSizeLessThan>4096</ObjectSizeLessThan></And></Filter><Status>Enabled</Status><NoncurrentVersionTransition><NoncurrentDays>30</NoncurrentDays><StorageClass>STANDARD_IA</StorageClass><NewerNoncurrentVersions>3</NewerNoncurrentVersions></NoncurrentVersionTransition><NoncurrentVersionExpiration><NoncurrentDays>90</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule>"
        + "<Rule><Expiration><Days>5</Days></Expiration><ID>one-in-and</ID><Filter><Prefix>z/</Prefix></Filter><Status>Enabled</Status></Rule>"
        + "<Rule><Expiration><Days>6</Days></Expiration><ID>empty-filter</ID><Filter></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>2</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>"
        + "<Rule><Expiration><Days>7</Days></Expiration><ID>size-only</ID><Filter><ObjectSizeGreaterThan>0</ObjectSizeGreaterThan></Filter><Status>Enabled</Status></Rule>"
        + "<Rule><Expiration><ExpiredObjectDeleteMarker>false</ExpiredObjectDeleteMarker></Expiration><ID>odd &amp;&lt;&gt;&quot;&apos; &#xA;&#x9; é \u{2028} \u{2029} ☕ /</ID><Filter><Prefix>a&amp;b&lt;c&gt;/</Prefix></Filter><Status>Enabled</Status></Rule></LifecycleConfiguration>"

    static let defaultXML = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><LifecycleConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        + "<Rule><Expiration><Days>2557</Days></Expiration><ID>archive-tiers-and-7-year-retention</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status><Transition><Days>90</Days><StorageClass>STANDARD_IA</StorageClass></Transition><Transition><Days>365</Days><StorageClass>GLACIER</StorageClass></Transition><AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule></LifecycleConfiguration>"

    /// A document with what archiver refuses but a bucket may hold: tag filters, a rule with no filter.
    static let taggedXML = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><LifecycleConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        + "<Rule><Expiration><Days>365</Days></Expiration><ID>r1</ID><Filter><And><Prefix>a/</Prefix><Tag><Key>k</Key><Value>v&amp;&lt;&gt;</Value></Tag><Tag><Key>k2</Key><Value>v2</Value></Tag></And></Filter><Status>Enabled</Status><Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition><NoncurrentVersionTransition><NoncurrentDays>10</NoncurrentDays><StorageClass>STANDARD_IA</StorageClass></NoncurrentVersionTransition><NoncurrentVersionExpiration><NoncurrentDays>40</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration><AbortIncompleteMultipartUpload><DaysAfterInitiation>3</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>"
        + "<Rule><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration><ID>legacy</ID><Prefix>old/</Prefix><Status>Disabled</Status></Rule>"
        + "<Rule><Expiration><Days>1</Days></Expiration><ID>tag</ID><Filter><Tag><Key>a</Key><Value>b</Value></Tag></Filter><Status>Enabled</Status></Rule>"
        + "<Rule><Expiration><Days>1</Days></Expiration><Status>Enabled</Status></Rule></LifecycleConfiguration>"

    static let taggedShown = """
        {
            "Rules": [
                {
                    "Expiration": {
                        "Days": 365
                    },
                    "ID": "r1",
                    "Filter": {
                        "And": {
                            "Prefix": "a/",
                            "Tags": [
                                {
                                    "Key": "k",
                                    "Value": "v&<>"
                                },
                                {
                                    "Key": "k2",
                                    "Value": "v2"
                                }
                            ]
                        }
                    },
                    "Status": "Enabled",
                    "Transitions": [
                        {
                            "Days": 30,
                            "StorageClass": "GLACIER"
                        }
                    ],
                    "NoncurrentVersionTransitions": [
                        {
                            "NoncurrentDays": 10,
                            "StorageClass": "STANDARD_IA"
                        }
                    ],
                    "NoncurrentVersionExpiration": {
                        "NoncurrentDays": 40,
                        "NewerNoncurrentVersions": 2
                    },
                    "AbortIncompleteMultipartUpload": {
                        "DaysAfterInitiation": 3
                    }
                },
                {
                    "Expiration": {
                        "ExpiredObjectDeleteMarker": true
                    },
                    "ID": "legacy",
                    "Prefix": "old/",
                    "Status": "Disabled"
                },
                {
                    "Expiration": {
                        "Days": 1
                    },
                    "ID": "tag",
                    "Filter": {
                        "Tag": {
                            "Key": "a",
                            "Value": "b"
                        }
                    },
                    "Status": "Enabled"
                },
                {
                    "Expiration": {
                        "Days": 1
                    },
                    "Status": "Enabled"
                }
            ]
        }

        """

    /// S3's own ways of writing: padding inside values, `<Prefix/>`, `And` around one condition, milliseconds in dates.
    static let s3XML = """
        <?xml version="1.0" encoding="UTF-8"?>
        <LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
          <Rule>
            <ID>archive-tiers</ID>
            <Filter><Prefix></Prefix></Filter>
            <Status> Enabled </Status>
            <Transition><Days> 90 </Days><StorageClass>STANDARD_IA</StorageClass></Transition>
            <Transition><Date>2030-01-01T00:00:00.000Z</Date><StorageClass>GLACIER</StorageClass></Transition>
            <Expiration><Days>2557</Days><ExpiredObjectDeleteMarker> true </ExpiredObjectDeleteMarker></Expiration>
            <AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload>
          </Rule>
          <Rule>
            <ID>p</ID><Prefix/><Status>Disabled</Status><Expiration><Days>3</Days></Expiration>
          </Rule>
          <Rule>
            <Filter><And><Prefix>q/</Prefix></And></Filter><Status>Enabled</Status><Expiration><Days>3</Days></Expiration>
            <NoncurrentVersionTransition><NoncurrentDays>31</NoncurrentDays><StorageClass>ONEZONE_IA</StorageClass></NoncurrentVersionTransition>
          </Rule>
        </LifecycleConfiguration>
        """

    static let s3Shown = """
        {
            "Rules": [
                {
                    "Expiration": {
                        "Days": 2557,
                        "ExpiredObjectDeleteMarker": true
                    },
                    "ID": "archive-tiers",
                    "Filter": {
                        "Prefix": ""
                    },
                    "Status": "Enabled",
                    "Transitions": [
                        {
                            "Days": 90,
                            "StorageClass": "STANDARD_IA"
                        },
                        {
                            "Date": "2030-01-01T00:00:00.000Z",
                            "StorageClass": "GLACIER"
                        }
                    ],
                    "AbortIncompleteMultipartUpload": {
                        "DaysAfterInitiation": 7
                    }
                },
                {
                    "Expiration": {
                        "Days": 3
                    },
                    "ID": "p",
                    "Prefix": "",
                    "Status": "Disabled"
                },
                {
                    "Expiration": {
                        "Days": 3
                    },
                    "Filter": {
                        "Prefix": "q/"
                    },
                    "Status": "Enabled",
                    "NoncurrentVersionTransitions": [
                        {
                            "NoncurrentDays": 31,
                            "StorageClass": "ONEZONE_IA"
                        }
                    ]
                }
            ]
        }

        """
}

@Suite("Bucket lifecycle: the policy as S3's XML")
struct BucketLifecycleXMLTests {
    @Test("a policy goes to S3 as the same XML, element for element, as before")
    func xmlSent() throws {
        let policy = try LifecyclePolicy.decode(Array(LifecycleGolden.policies.utf8))
        #expect(String(decoding: BucketLifecycleXML.xml(policy), as: UTF8.self) == LifecycleGolden.policiesXML)
        #expect(String(decoding: BucketLifecycleXML.xml(.default), as: UTF8.self) == LifecycleGolden.defaultXML)
    }

    @Test("the XML S3 returns reads back to the same policy, and shows as the aws CLI prints it")
    func xmlReturned() throws {
        let policy = try LifecyclePolicy.decode(Array(LifecycleGolden.policies.utf8))
        #expect(try BucketLifecycleXML.policy(BucketLifecycleXML.xml(policy)).document == policy.document)
        #expect(try BucketLifecycleXML.policy(BucketLifecycleXML.xml(.default)) == .default)
        let tagged = try BucketLifecycleXML.policy(Array(LifecycleGolden.taggedXML.utf8))
        #expect(String(decoding: tagged.json(), as: UTF8.self) == LifecycleGolden.taggedShown)
        #expect(String(decoding: BucketLifecycleXML.xml(tagged), as: UTF8.self) == LifecycleGolden.taggedXML)
        let fromS3 = try BucketLifecycleXML.policy(Array(LifecycleGolden.s3XML.utf8))
        #expect(String(decoding: fromS3.json(), as: UTF8.self) == LifecycleGolden.s3Shown)
        #expect(fromS3.rules[0].transitions?[1].date?.text == "2030-01-01T00:00:00.000Z")
    }

    @Test("the JSON shown reads back to the same rules, tag filters and all")
    func shownReadsBack() throws {
        let tagged = try BucketLifecycleXML.policy(Array(LifecycleGolden.taggedXML.utf8))
        #expect(try JSONDecoder().decode(LifecyclePolicy.self, from: Data(tagged.json())) == tagged)
        #expect(try LifecyclePolicy.decode(LifecyclePolicy.default.json()) == .default)
    }

    @Test("a document S3 would not return is refused, saying what is wrong")
    func badXML() {
        func error(_ xml: String) -> String {
            do {
                _ = try BucketLifecycleXML.policy(Array(xml.utf8))
                return "read"
            } catch {
                return "\(error)"
            }
        }
        #expect(error("<Other/>").contains("expected <LifecycleConfiguration>, got <Other>"))
        #expect(error("<LifecycleConfiguration><Rule").contains("malformed XML"))
        #expect(error("<LifecycleConfiguration><Rule><Status>On</Status></Rule></LifecycleConfiguration>").contains("Rule[0].Status"))
        #expect(
            error("<LifecycleConfiguration><Rule><Status>Enabled</Status><Transition><Days>1</Days><StorageClass>TAPE</StorageClass></Transition></Rule></LifecycleConfiguration>")
                .contains("Rule[0].Transition[0].StorageClass: \"TAPE\""))
    }
}

@Suite("Bucket lifecycle against moto")
struct BucketLifecycleMotoTests {
    /// A new bucket on the shared moto server, and its lifecycle.
    static func freshBucket(_ name: String) async throws -> (S3Client, String, BucketLifecycle) {
        let server = try await MotoServer.shared()
        let s3 = S3Client(settings: server.settings(), retryPolicy: RetryPolicy(maxAttempts: 2))
        let bucket = MotoServer.uniqueName(name)
        try await s3.createBucket(bucket)
        return (s3, bucket, try BucketLifecycle(location: .s3(bucket: bucket, prefix: ""), client: s3))
    }

    @Test func applyReadShowDelete() async throws {
        let (s3, bucket, lifecycle) = try await Self.freshBucket("lifecycle")
        #expect(try await lifecycle.configuration() == nil)
        #expect(try await lifecycle.show() == nil)
        #expect(try await lifecycle.currentRuleCount() == 0)
        let json = """
            {
              "Rules": [
                {
                  "ID": "archive-then-expire",
                  "Status": "Enabled",
                  "Filter": {"Prefix": "archive/"},
                  "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}, {"Days": 90, "StorageClass": "GLACIER"}],
                  "Expiration": {"Days": 365},
                  "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                  "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}
                },
                {
                  "ID": "tmp",
                  "Status": "Disabled",
                  "Filter": {"Prefix": "tmp/"},
                  "Expiration": {"Days": 1}
                }
              ]
            }
            """
        let policy = try LifecyclePolicy.decode(Array(json.utf8))
        try await lifecycle.apply(policy)
        let back = try #require(try await lifecycle.configuration())
        #expect(back.rules.count == 2)
        #expect(back.rules[0].id == "archive-then-expire")
        #expect(back.rules[0].filter?.prefix == "archive/")
        #expect(back.rules[0].transitions == [LifecycleTransition(days: 30, storageClass: .standardIA), LifecycleTransition(days: 90, storageClass: .glacier)])
        #expect(back.rules[0].expiration?.days == 365)
        #expect(back.rules[0].noncurrentVersionExpiration?.noncurrentDays == 30)
        #expect(back.rules[0].abortIncompleteMultipartUpload?.daysAfterInitiation == 7)
        #expect(back.rules[1].status == .disabled)
        #expect(try await lifecycle.currentRuleCount() == 2)
        // Back to the CLI's JSON: it reads in again to the same rules.
        #expect(try LifecyclePolicy.decode(try #require(try await lifecycle.show())) == policy)
        try await s3.deleteBucketLifecycle(bucket: bucket)
        #expect(try await lifecycle.configuration() == nil)
    }

    @Test func applyRefusesAnInvalidPolicyAndLeavesTheBucketAlone() async throws {
        let (_, _, lifecycle) = try await Self.freshBucket("lifecycle-bad")
        let error = await #expect(throws: LifecyclePolicyError.self) { try await lifecycle.apply(LifecyclePolicy(rules: [])) }
        #expect(error?.location == "Rules")
        #expect(try await lifecycle.configuration() == nil)
    }
}
