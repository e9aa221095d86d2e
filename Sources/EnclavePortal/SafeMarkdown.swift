import Ink

/// Markdown written by users (a workspace's `overview`) as HTML that is safe to insert into a page.
///
/// Ink renders the markdown, but it passes raw HTML through, writes link and image targets into attributes
/// unescaped, and lets `&…;` sequences through verbatim — so Ink's output is never trusted as is:
/// 1. raw HTML is escaped first: every `<` outside code becomes `&lt;` before Ink reads the text (Ink would
///    otherwise swallow everything after an unclosed `<img …>` into one HTML block); a modifier escapes any
///    HTML block Ink still finds;
/// 2. the whole output then goes through an allowlist: only the tags Ink itself writes survive, links only
///    with `http:`, `https:` or `mailto:` targets (others keep their text and lose the target), images become
///    links to the image (CSP would not load other hosts' images anyway), headings move two levels down
///    so they sit under the page's own `<h2>`; every other `<` becomes `&lt;`.
public enum SafeMarkdown {
    /// HTML for `markdown`; empty for empty input.
    public static func html(_ markdown: String) -> String {
        guard !markdown.isEmpty else { return "" }
        let parser = MarkdownParser(modifiers: [Modifier(target: .html) { input in HTMLText.escape(String(input.markdown)) }])
        return allowlisted(parser.html(from: escapingTags(markdown)))
    }

    /// The markdown with every `<` outside code spans and fenced code blocks written as `&lt;` (which Ink
    /// passes through as the entity, so the reader still sees `<`); code keeps its `<`, which Ink escapes.
    static func escapingTags(_ markdown: String) -> String {
        var out = ""
        out.reserveCapacity(markdown.utf8.count)
        var inFence = false
        for (index, line) in markdown.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if index > 0 { out += "\n" }
            if line.drop(while: { $0 == " " }).hasPrefix("```") {
                inFence.toggle()
                out += line
                continue
            }
            guard !inFence else {
                out += line
                continue
            }
            var inCode = false
            for character in line {
                if character == "`" { inCode.toggle() }
                if character == "<", !inCode { out += "&lt;" } else { out.append(character) }
            }
        }
        return out
    }

    /// Whether a link target may be followed from a page: web and mail addresses only (no `javascript:`,
    /// `data:`, relative or protocol-relative URLs), without whitespace or characters that end an attribute.
    public static func isSafeLinkTarget(_ url: String) -> Bool {
        let lower = url.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") || lower.hasPrefix("mailto:") else { return false }
        // Bytes, not characters: pages check every Connect URL, and the forbidden ones are all ASCII.
        return !url.utf8.contains { $0 <= 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") || $0 == UInt8(ascii: "'") || $0 == UInt8(ascii: "`") }
    }

    static let plainTags: Set<String> = [
        "p", "em", "strong", "s", "code", "pre", "ul", "ol", "li", "blockquote", "table", "thead", "tbody", "tr", "th", "td",
        "br", "hr", "a",
    ]

    /// Keeps the tags Ink writes (rewritten to a known-safe form) and escapes every other `<`.
    static func allowlisted(_ html: String) -> String {
        var out = ""
        out.reserveCapacity(html.utf8.count)
        var rest = Substring(html)
        while let open = rest.firstIndex(of: "<") {
            out += rest[..<open]
            let candidate = rest[open...]
            if let (replacement, length) = tag(at: candidate) {
                out += replacement
                rest = candidate.dropFirst(length)
            } else {
                out += "&lt;"
                rest = candidate.dropFirst()
            }
        }
        out += rest
        return out
    }

    /// The safe form of the tag starting `text` (which starts with `<`) and how many characters it spans, or
    /// nil when it is not one Ink writes.
    static func tag(at text: Substring) -> (String, Int)? {
        guard let close = text.firstIndex(of: ">") else { return nil }
        let inner = text[text.index(after: text.startIndex)..<close]
        let length = inner.count + 2
        guard !inner.contains("<") else { return nil }
        // `</name>` and `<name>`
        let closing = inner.hasPrefix("/")
        let name = closing ? inner.dropFirst() : inner
        if plainTags.contains(String(name)) { return ("<\(closing ? "/" : "")\(name)>", length) }
        if let level = headingLevel(name) {
            return ("<\(closing ? "/" : "")h\(min(6, level + 2))>", length)
        }
        guard !closing else { return nil }
        if let start = attribute(inner, tag: "ol", name: "start"), !start.isEmpty, start.count < 10, start.allSatisfy(\.isASCII),
            start.allSatisfy(\.isNumber)
        {
            return ("<ol start=\"\(start)\">", length)
        }
        for cell in ["th", "td"] {
            if let align = attribute(inner, tag: cell, name: "align"), ["left", "center", "right"].contains(align) {
                return ("<\(cell) class=\"align-\(align)\">", length)
            }
        }
        if attribute(inner, tag: "code", name: "class") != nil { return ("<code>", length) }
        if let href = attribute(inner, tag: "a", name: "href") {
            return (isSafeLinkTarget(href) ? link(href) : "<a>", length)
        }
        if inner.hasPrefix("img "), inner.hasSuffix("/") {
            return image(inner.dropLast()).map { ($0, length) }
        }
        return nil
    }

    static func headingLevel(_ name: Substring) -> Int? {
        guard name.count == 2, name.first == "h", let level = name.last?.wholeNumberValue, (1...6).contains(level) else { return nil }
        return level
    }

    /// The value of `<tag name="value">` when `inner` (the text between `<` and `>`) is exactly that.
    static func attribute(_ inner: Substring, tag: String, name: String) -> String? {
        let prefix = "\(tag) \(name)=\""
        guard inner.hasPrefix(prefix), inner.hasSuffix("\""), inner.count > prefix.count else { return nil }
        let value = inner.dropFirst(prefix.count).dropLast()
        return value.contains("\"") ? nil : String(value)
    }

    static func link(_ href: String) -> String {
        "<a href=\"\(HTMLText.escape(href))\" rel=\"noopener noreferrer\">"
    }

    /// `img src="URL" alt="TEXT"` as a link to the image labelled with its text (the text alone when the
    /// target is not safe to follow).
    static func image(_ inner: Substring) -> String? {
        let prefix = "img src=\""
        guard inner.hasPrefix(prefix) else { return nil }
        let body = inner.dropFirst(prefix.count)
        guard let quote = body.firstIndex(of: "\"") else { return nil }
        let src = String(body[..<quote])
        var alt = ""
        let after = body[body.index(after: quote)...]
        if !after.isEmpty {
            let altPrefix = " alt=\""
            guard after.hasPrefix(altPrefix), after.hasSuffix("\""), after.count > altPrefix.count else { return nil }
            let value = after.dropFirst(altPrefix.count).dropLast()
            guard !value.contains("\""), !value.contains("<") else { return nil }
            alt = String(value)
        }
        let label = alt.isEmpty ? "image" : "image: \(alt)"
        return isSafeLinkTarget(src) ? "\(link(src))\(label)</a>" : label
    }
}
