import AWSSigV4
// AWS settings and clients (placeholder).
public enum ArchiverAWSPlaceholder {}
