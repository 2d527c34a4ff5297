// AWS Signature Version 4 (placeholder; the signer lands here).
public enum AWSSigV4Placeholder {}
