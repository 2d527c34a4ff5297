import Foundation
import JSONToolkit

/// `--to -`: prints each item as DynamoDB JSON, one per line (what `aws dynamodb put-item --item` takes).
public struct StandardOutputTarget: RestoreTarget {
    public init() {}
    public var location: String { "standard output" }

    public func restore(_ items: [RestoreItem], overwrite: Bool, dryRun: Bool) async throws -> [RestoreOutcome] {
        var text = ""
        for item in items {
            item.item.dynamoJSON.write(to: &text)
            text += "\n"
        }
        FileHandle.standardOutput.write(Data(text.utf8))
        return items.map { _ in .restored }
    }
}
