import EnclaveCore
import Foundation

/// The `if` of an `allOf` item in the one shape a browser script can check without a JSON Schema
/// validator: "each of these sibling fields has one of these values".
///
/// Azure TRE's templates write their conditions that way (`{"properties": {"auth_type": {"const":
/// "Manual"}}, "required": ["auth_type"]}`); any other `if` gives no clauses, and the field is then
/// always shown (the server still decides, with the real schema, whether its value is sent).
enum FormCondition {
    struct Clause: Sendable, Hashable {
        /// The sibling property's name within the same object.
        var key: String
        /// The values that satisfy the clause; empty means "any value, as long as there is one".
        var values: [JSONValue]
        /// Listed in the `if`'s `required`: a missing (hidden, disabled) control fails the clause.
        var required: Bool
    }

    /// The clauses of a simple `if`, or nil when it uses anything else.
    static func clauses(of condition: JSONValue) -> [Clause]? {
        guard let members = condition.objectValue,
            Set(members.keys).isSubset(of: ["properties", "required", "type"])
        else { return nil }
        let required = members["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
        var clauses: [Clause] = []
        for (key, rule) in members["properties"]?.objectValue ?? [:] {
            guard let rule = rule.objectValue, Set(rule.keys).isSubset(of: ["const", "enum", "type"]) else { return nil }
            let values = rule["const"].map { [$0] } ?? rule["enum"]?.arrayValue ?? []
            clauses.append(Clause(key: key, values: values, required: required.contains(key)))
        }
        for key in required where !clauses.contains(where: { $0.key == key }) {
            clauses.append(Clause(key: key, values: [], required: true))
        }
        return clauses.sorted { $0.key < $1.key }
    }

    /// The `data-show-if` value: `{"all": [{"name": …, "values": […], "required": …}], "negate": …}`, with
    /// values as the strings the controls submit (`true`/`false` for checkboxes).
    static func script(_ clauses: [Clause], negate: Bool, prefix: String) -> String {
        let all: [JSONValue] = clauses.map { clause in
            [
                "name": .string(prefix.isEmpty ? clause.key : prefix + "." + clause.key),
                "values": .array(clause.values.map { .string(SchemaForm.text(of: $0)) }),
                "required": .bool(clause.required),
            ]
        }
        return JSONValue.object(["all": .array(all), "negate": .bool(negate)]).description
    }

    /// The condition in words, naming the controlling fields by their labels.
    static func sentence(_ clauses: [Clause], negate: Bool, label: (String) -> String) -> String {
        let parts = clauses.map { clause -> String in
            let name = "“\(label(clause.key))”"
            switch clause.values {
            case []: return "\(name) is filled in"
            case [.bool(true)]: return "\(name) is on"
            case [.bool(false)]: return "\(name) is off"
            case let values where values.count == 1: return "\(name) is \(SchemaForm.text(of: values[0]))"
            case let values: return "\(name) is one of \(values.map(SchemaForm.text(of:)).joined(separator: ", "))"
            }
        }
        return (negate ? "Applies unless " : "Applies when ") + parts.joined(separator: " and ") + "."
    }
}

extension SchemaForm {
    /// A value as the text a control shows and submits: strings as they are, numbers and booleans as JSON.
    static func text(of value: JSONValue?) -> String {
        switch value {
        case .string(let text)?: text
        case .null?, nil: ""
        case let other?: other.description
        }
    }

    /// `name` as a label when the schema gives no `title`: `shared_storage_quota` → "Shared storage quota".
    static func humanised(_ name: String) -> String {
        let words = name.replacingOccurrences(of: "_", with: " ")
        return words.prefix(1).uppercased() + words.dropFirst()
    }

    /// The schema's `pattern` for the HTML `pattern` attribute, or nil when the browser might read it
    /// differently. Browsers match the whole value (`^(?:…)$`, `v` flag), JSON Schema searches; an anchored
    /// pattern means the same in both, and the `v` flag rejects some class syntax JSON Schema allows
    /// (`[._-]`), which would make the browser ignore the attribute or refuse every value. Only patterns
    /// free of those constructs are passed on; the server checks every pattern anyway.
    static func htmlPattern(_ pattern: String) -> String? {
        guard pattern.hasPrefix("^"), pattern.hasSuffix("$"), !pattern.hasSuffix("\\$") else { return nil }
        let chars = Array(pattern)
        var index = 0
        var inClass = false
        let classSyntax: Set<Character> = ["(", ")", "[", "{", "}", "/", "|"]
        while index < chars.count {
            let c = chars[index]
            if c == "\\" {
                index += 2
                continue
            }
            if inClass {
                if c == "]" {
                    inClass = false
                } else if classSyntax.contains(c) {
                    return nil
                } else if c == "-" {
                    let previous = index > 0 ? chars[index - 1] : " "
                    let next = index + 1 < chars.count ? chars[index + 1] : " "
                    guard previous.isLetter || previous.isNumber, next.isLetter || next.isNumber else { return nil }
                } else if !(c.isLetter || c.isNumber), index + 1 < chars.count, chars[index + 1] == c {
                    return nil  // `v` reserves doubled punctuation (`..`, `&&`) inside classes
                }
            } else if c == "[" {
                inClass = true
                if index + 1 < chars.count, chars[index + 1] == "^" { index += 1 }
            } else if c == "]" || c == "}" {
                return nil
            } else if c == "{" {
                // Only a quantifier `{n}`, `{n,}`, `{n,m}` may stand unescaped.
                var end = index + 1
                while end < chars.count, chars[end].isNumber || chars[end] == "," { end += 1 }
                guard end < chars.count, chars[end] == "}", end > index + 1 else { return nil }
                index = end
            }
            index += 1
        }
        return inClass ? nil : pattern
    }
}
