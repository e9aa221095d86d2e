/// Text made safe to write into HTML by hand, for the few places that build markup without a template
/// (sanitised markdown, the sign-in pages).
public enum HTMLText {
    /// `&`, `<`, `>`, `"` and `'` as entities: text that can sit in element content or a quoted attribute.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
