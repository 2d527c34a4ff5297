import Foundation
import JSONToolkit

/// `--to -`: prints each item as DynamoDB JSON, one per line (what `aws dynamodb put-item --item` takes).
///
/// There is no table behind it, so nothing exists to be overwritten and every item is `.restored`.
public struct StandardOutputTarget: RestoreTarget {
    private let output: FileHandle

    /// A target that prints to `output` (standard output unless told otherwise).
    public init(output: FileHandle = .standardOutput) {
        self.output = output
    }

    public var location: String { "standard output" }

    public func restore(_ items: [RestoreItem], overwrite: Bool, dryRun: Bool) async throws -> [RestoreOutcome] {
        var text = ""
        for item in items {
            item.item.dynamoJSON.write(to: &text)
            text += "\n"
        }
        output.write(Data(text.utf8))
        return items.map { _ in .restored }
    }
}
