extension LifecyclePolicy {
    /// Where the default policy lives in the source tree, relative to the working folder.
    public static let defaultPath = "lifecycle/default.json"

    /// The text of `lifecycle/default.json`, compiled in so that `archiver lifecycle` works from any folder.
    /// A test keeps the two byte-for-byte equal: change both together.
    public static let defaultJSON = #"""
        {
          "Rules": [
            {
              "ID": "archive-tiers-and-7-year-retention",
              "Status": "Enabled",
              "Filter": {
                "Prefix": ""
              },
              "Transitions": [
                {
                  "Days": 90,
                  "StorageClass": "STANDARD_IA"
                },
                {
                  "Days": 365,
                  "StorageClass": "GLACIER"
                }
              ],
              "Expiration": {
                "Days": 2557
              },
              "AbortIncompleteMultipartUpload": {
                "DaysAfterInitiation": 7
              }
            }
          ]
        }

        """#

    /// The default policy: Standard, Standard-IA from 90 days, Glacier Flexible Retrieval from 365 days,
    /// deleted after 2557 days (7 years), unfinished multipart uploads removed after 7 days.
    public static let `default`: LifecyclePolicy = {
        do {
            return try LifecyclePolicy.decode(Array(defaultJSON.utf8))
        } catch {
            fatalError("the built-in lifecycle policy does not load: \(error)")
        }
    }()
}
