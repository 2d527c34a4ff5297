import Foundation

/// A simple, deterministic feed for tests that need many records: INSERT, MODIFY and REMOVE
/// (manual and TTL) of items with composite keys, over several days, with increasing sequence numbers.
public enum SampleFeed {
    /// What a feed holds.
    public struct Counts: Sendable, Equatable {
        public var inserts = 0
        public var modifies = 0
        public var removesManual = 0
        public var removesTTL = 0
        public var removesWithoutImage = 0
        public var malformed = 0
        public var removes: Int { removesManual + removesTTL }
        public var total: Int { inserts + modifies + removes + removesWithoutImage + malformed }
    }

    /// Line `index` of the feed (no newline). Every 500th line is malformed; every 997th REMOVE lacks its image.
    public static func line(_ index: Int, counts: inout Counts) -> String {
        if index % 500 == 499 {
            counts.malformed += 1
            return "{\"eventID\":\"\(index)\",\"eventName\":\"REMOVE\",\"dynamodb\":{\"Keys\": broken"
        }
        let time = 1_705_315_800 + index * 37
        let sequence = "1000000" + String(100_000_000_000_000 + index)
        let user = "USER#\(index % 1000)"
        let sk = "ITEM#\(index)/\(index % 7 == 0 ? "../x" : "y")"
        let keys = "{\"PK\":{\"S\":\"\(user)\"},\"SK\":{\"S\":\"\(sk)\"}}"
        let image = "{\"PK\":{\"S\":\"\(user)\"},\"SK\":{\"S\":\"\(sk)\"},\"n\":{\"N\":\"\(index)\"},\"big\":{\"N\":\"12345678901234567890123456789012345678\"},\"note\":{\"S\":\"héllo \(index) ✓\"},\"tags\":{\"SS\":[\"a\",\"b\"]},\"blob\":{\"B\":\"AAEC\"},\"expiresAt\":{\"N\":\"\(time)\"}}"
        switch index % 10 {
        case 0, 1, 2, 3:
            counts.inserts += 1
            return "{\"eventID\":\"\(index)\",\"eventName\":\"INSERT\",\"eventSource\":\"aws:dynamodb\",\"awsRegion\":\"us-east-1\",\"dynamodb\":{\"ApproximateCreationDateTime\":\(time),\"Keys\":\(keys),\"NewImage\":\(image),\"SequenceNumber\":\"\(sequence)\",\"SizeBytes\":200,\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"}}"
        case 4, 5:
            counts.modifies += 1
            return "{\"eventID\":\"\(index)\",\"eventName\":\"MODIFY\",\"eventSource\":\"aws:dynamodb\",\"awsRegion\":\"us-east-1\",\"dynamodb\":{\"ApproximateCreationDateTime\":\(time),\"Keys\":\(keys),\"NewImage\":\(image),\"OldImage\":\(image),\"SequenceNumber\":\"\(sequence)\",\"SizeBytes\":400,\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"}}"
        default:
            let ttl = index % 3 == 0
            let identity = ttl ? ",\"userIdentity\":{\"type\":\"Service\",\"principalId\":\"dynamodb.amazonaws.com\"}" : ""
            if index % 997 == 6 {
                counts.removesWithoutImage += 1
                return "{\"eventID\":\"\(index)\",\"eventName\":\"REMOVE\"\(identity),\"dynamodb\":{\"ApproximateCreationDateTime\":\(time),\"Keys\":\(keys),\"SequenceNumber\":\"\(sequence)\",\"StreamViewType\":\"KEYS_ONLY\"}}"
            }
            if ttl { counts.removesTTL += 1 } else { counts.removesManual += 1 }
            return "{\"eventID\":\"\(index)\",\"eventName\":\"REMOVE\"\(identity),\"eventSource\":\"aws:dynamodb\",\"awsRegion\":\"us-east-1\",\"dynamodb\":{\"ApproximateCreationDateTime\":\(time),\"Keys\":\(keys),\"OldImage\":\(image),\"SequenceNumber\":\"\(sequence)\",\"SizeBytes\":300,\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"}}"
        }
    }

    /// Lines `range` joined with newlines (and a final newline), with their counts.
    public static func text(_ range: Range<Int>) -> (String, Counts) {
        var counts = Counts()
        var out = ""
        for i in range {
            out += line(i, counts: &counts)
            out += "\n"
        }
        return (out, counts)
    }

    /// Writes lines `range` to a new file at `path`.
    public static func write(_ range: Range<Int>, to path: String) throws -> Counts {
        let (text, counts) = self.text(range)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return counts
    }
}

/// The bytes the JSON-lines source hands over for a line: spaces, tabs, CR and LF removed at both ends.
public func recordBytes(ofLine line: [UInt8]) -> [UInt8] {
    func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
    var start = 0
    var end = line.count
    while start < end && isBlank(line[start]) { start += 1 }
    while end > start && isBlank(line[end - 1]) { end -= 1 }
    return Array(line[start..<end])
}
