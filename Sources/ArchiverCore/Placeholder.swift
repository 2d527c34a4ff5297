import CZlib
public enum ArchiverCorePlaceholder {
    public static func zlibVersionString() -> String { String(cString: zlibVersion()) }
}
