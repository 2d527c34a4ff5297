import Foundation

/// The AWS services this package speaks to, with the names each is known by in settings,
/// in request signing and in messages.
public enum AWSService: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Amazon S3 (REST-XML protocol).
    case s3
    /// Amazon DynamoDB (JSON 1.0 protocol).
    case dynamoDB
    /// Amazon DynamoDB Streams (JSON 1.0 protocol).
    case dynamoDBStreams
    /// AWS IAM (query protocol); used only to set up test users.
    case iam
    /// Amazon SQS (JSON 1.0 protocol).
    case sqs
    /// Amazon EventBridge (JSON 1.1 protocol).
    case eventBridge

    /// The name used in messages: "S3", "DynamoDB", "DynamoDB Streams", "SQS", "EventBridge".
    public var description: String {
        switch self {
        case .s3: "S3"
        case .dynamoDB: "DynamoDB"
        case .dynamoDBStreams: "DynamoDB Streams"
        case .iam: "IAM"
        case .sqs: "SQS"
        case .eventBridge: "EventBridge"
        }
    }

    /// The service name in the SigV4 credential scope. DynamoDB Streams signs as "dynamodb", EventBridge as "events".
    public var signingName: String {
        switch self {
        case .s3: "s3"
        case .dynamoDB, .dynamoDBStreams: "dynamodb"
        case .iam: "iam"
        case .sqs: "sqs"
        case .eventBridge: "events"
        }
    }

    /// The suffix of the per-service endpoint variable: `AWS_ENDPOINT_URL_<suffix>`.
    public var environmentSuffix: String {
        switch self {
        case .s3: "S3"
        case .dynamoDB: "DYNAMODB"
        case .dynamoDBStreams: "DYNAMODB_STREAMS"
        case .iam: "IAM"
        case .sqs: "SQS"
        case .eventBridge: "EVENTBRIDGE"
        }
    }

    /// The key of this service inside a `[services name]` section of `~/.aws/config`.
    public var configKey: String {
        switch self {
        case .s3: "s3"
        case .dynamoDB: "dynamodb"
        case .dynamoDBStreams: "dynamodb_streams"
        case .iam: "iam"
        case .sqs: "sqs"
        case .eventBridge: "eventbridge"
        }
    }

    /// The public AWS endpoint of this service in `region`.
    public func defaultEndpoint(region: String) -> URL {
        let suffix = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        let host: String
        switch self {
        case .s3: host = "s3.\(region).\(suffix)"
        case .dynamoDB: host = "dynamodb.\(region).\(suffix)"
        case .dynamoDBStreams: host = "streams.dynamodb.\(region).\(suffix)"
        case .iam: host = region.hasPrefix("cn-") ? "iam.cn-north-1.amazonaws.com.cn" : "iam.amazonaws.com"
        case .sqs: host = "sqs.\(region).\(suffix)"
        case .eventBridge: host = "events.\(region).\(suffix)"
        }
        return URL(string: "https://\(host)")!
    }
}
