/// File names inside an airlock request: they become file names on disk, so anything that could leave
/// the request's folder or confuse a shell or a terminal is refused with a reason a person understands.
public enum AirlockFileName {
    public static let maximumBytes = 255

    /// Nil when `name` is acceptable; otherwise what is wrong with it.
    public static func problem(_ name: String) -> String? {
        if name.isEmpty { return "A file name cannot be empty" }
        if name.utf8.count > maximumBytes { return "A file name can be at most \(maximumBytes) bytes long" }
        if name == "." || name == ".." || name.contains("..") { return "A file name cannot contain '..'" }
        if name.contains("/") || name.contains("\\") { return "A file name cannot contain '/' or '\\'" }
        if name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || (0x80...0x9F).contains($0.value) }) {
            return "A file name cannot contain control characters"
        }
        if name.hasPrefix("-") { return "A file name cannot start with '-'" }
        if name.first?.isWhitespace == true || name.last?.isWhitespace == true {
            return "A file name cannot start or end with a space"
        }
        return nil
    }
}
