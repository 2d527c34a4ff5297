import AWSClients
import Foundation
import Testing

@Suite("GetRecords results")
struct FormatTests {
    @Test func getRecordsResultSplitsRecords() throws {
        let body = Array(#"{"Records":[{"eventName":"REMOVE"},{"eventName":"INSERT"}],"NextShardIterator":"x"}"#.utf8)
        let result = DynamoDBGetRecordsResult(body: body, nextShardIterator: "x")
        #expect(try result.recordRanges().count == 2)
    }
}
