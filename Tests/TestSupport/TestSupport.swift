import ArchiverCore
public enum TestSupportPlaceholder {}
