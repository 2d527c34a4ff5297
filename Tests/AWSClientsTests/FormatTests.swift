import AWSClients
import Foundation
import Testing

@Suite("GetRecords results and lifecycle documents")
struct FormatTests {
    @Test func getRecordsResultSplitsRecords() throws {
        let body = Array(#"{"Records":[{"eventName":"REMOVE"},{"eventName":"INSERT"}],"NextShardIterator":"x"}"#.utf8)
        let result = DynamoDBGetRecordsResult(body: body, nextShardIterator: "x")
        #expect(try result.recordRanges().count == 2)
    }

    @Test func lifecycleJSONToXMLAndBack() throws {
        let json = """
            {"Rules": [{"ID": "r1", "Status": "Enabled", "Filter": {"And": {"Prefix": "a/", "Tags": [{"Key": "k", "Value": "v&<>"}]}},
              "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}], "Expiration": {"Days": 365},
              "NoncurrentVersionTransitions": [{"NoncurrentDays": 10, "StorageClass": "STANDARD_IA"}],
              "NoncurrentVersionExpiration": {"NoncurrentDays": 40, "NewerNoncurrentVersions": 2},
              "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 3}},
             {"ID": "legacy", "Status": "Disabled", "Prefix": "old/", "Expiration": {"ExpiredObjectDeleteMarker": true}}]}
            """
        let configuration = try S3LifecycleConfiguration(json: Array(json.utf8))
        let xml = String(decoding: configuration.xml(), as: UTF8.self)
        #expect(xml.contains(#"<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">"#))
        #expect(xml.contains("<Filter><And><Prefix>a/</Prefix><Tag><Key>k</Key><Value>v&amp;&lt;&gt;</Value></Tag></And></Filter>"))
        #expect(xml.contains("<Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition>"))
        #expect(xml.contains("<AbortIncompleteMultipartUpload><DaysAfterInitiation>3</DaysAfterInitiation></AbortIncompleteMultipartUpload>"))
        #expect(xml.contains("<Prefix>old/</Prefix>"))
        let fromXML = try S3LifecycleConfiguration(xml: configuration.xml())
        #expect(fromXML == configuration)
        #expect(try S3LifecycleConfiguration(json: fromXML.json()) == configuration)
        let printed = String(decoding: configuration.json(), as: UTF8.self)
        #expect(printed.hasPrefix("{\n    \"Rules\": [\n        {\n"))
    }

    @Test func lifecycleJSONErrorsNameTheMember() {
        func error(_ json: String) -> String? {
            do {
                _ = try S3LifecycleConfiguration(json: Array(json.utf8))
                return nil
            } catch {
                return "\(error)"
            }
        }
        #expect(error(#"{"Rules":[{"Status":"On","Expiration":{"Days":1}}]}"#)?.contains("Rules[0].Status") == true)
        #expect(error(#"{"Rules":[{"Status":"Enabled","Expiration":{"Dayz":1}}]}"#)?.contains("Rules[0].Expiration.Dayz") == true)
        #expect(error(#"{"Rules":[{"Status":"Enabled"}]}"#)?.contains("at least one action") == true)
        #expect(error(#"{"Rules":[{"Status":"Enabled","Expiration":{"Days":"1"}}]}"#)?.contains("whole number") == true)
        #expect(error(#"{"Rulez":[]}"#) != nil)
        #expect(error("not json") != nil)
    }
}
