import Foundation

/// The control plane's property validation messages, split into one problem per field so a form can
/// show each next to its field.
///
/// `ResourceTemplate.validateCreate`/`validateUpdate` report every problem in one message:
/// "Invalid properties for template 'NAME': /a: must be at most 5 (maximum); /b/c: is required but missing
/// (required)" on create, "'x' is not updateable" items on update. Each item names its property by JSON
/// Pointer (`/b/c` → field `b.c`) or in quotes; items naming none stay whole.
public enum PropertyErrors {
    public struct Split: Sendable, Equatable {
        /// Problems by field name (`parent.child`; array elements as `list.0`), in words for that field.
        public var fields: [String: String]
        /// Problems that name no property.
        public var other: [String]
    }

    static let prefix = "Invalid properties for template '"

    /// Splits a validation message; nil when `message` is not one (any other error: show it whole).
    public static func split(_ message: String) -> Split? {
        guard message.hasPrefix(prefix), let end = message.range(of: "': ") else { return nil }
        // Items are joined by "; " and each starts with a pointer or a quoted name; a "; " inside an item
        // (an enum value, say) is followed by neither, so it is glued back on.
        var items: [String] = []
        for piece in message[end.upperBound...].components(separatedBy: "; ") {
            if let last = items.indices.last, !(piece.hasPrefix("/") || piece.hasPrefix("'")) {
                items[last] += "; " + piece
            } else {
                items.append(piece)
            }
        }
        var split = Split(fields: [:], other: [])
        for item in items {
            guard let (name, problem) = field(of: item) else {
                split.other.append(item)
                continue
            }
            split.fields[name] = split.fields[name].map { "\($0) \(problem)" } ?? problem
        }
        return split
    }

    /// `/a/b: must be … (rule)` → (`a.b`, "Must be …."); `'a' is not updateable` → (`a`, "Cannot be changed.").
    static func field(of item: String) -> (String, String)? {
        if item.hasPrefix("'"), let close = item.dropFirst().firstIndex(of: "'") {
            let name = String(item[item.index(after: item.startIndex)..<close])
            let rest = item[item.index(after: close)...].trimmingCharacters(in: .whitespaces)
            let problem = rest == "is not updateable" ? "Cannot be changed once created." : sentence(rest)
            return name.isEmpty ? nil : (name, problem)
        }
        guard item.hasPrefix("/"), let colon = item.range(of: ": ") else { return nil }
        let pointer = item[item.index(after: item.startIndex)..<colon.lowerBound]
        guard !pointer.isEmpty else { return nil }
        let name = pointer.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~") }
            .joined(separator: ".")
        var problem = String(item[colon.upperBound...])
        var rule = ""
        if problem.hasSuffix(")"), let open = problem.range(of: " (", options: .backwards) {
            rule = String(problem[open.upperBound...].dropLast())
            problem = String(problem[..<open.lowerBound])
        }
        switch rule {
        case "required": return (name, "Required: fill this in.")
        case "unevaluatedProperties", "additionalProperties": return (name, "Not a property of this template.")
        default: return (name, sentence(problem))
        }
    }

    /// "must be at most 5" → "Must be at most 5."
    static func sentence(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let first = trimmed.first else { return trimmed }
        let capitalised = first.uppercased() + trimmed.dropFirst()
        return capitalised.hasSuffix(".") ? capitalised : capitalised + "."
    }
}
