public import EnclaveCore
import Foundation

// From a submitted form back to typed properties: the reverse of rendering.

/// A submitted form read back as properties, with the fields whose text could not be read.
public struct ParsedForm: Sendable {
    /// The properties, typed by the schema (numbers, booleans, arrays, nested objects).
    public var properties: [String: JSONValue]
    /// Problems by field name, e.g. `["shared_storage_quota": "Enter a whole number."]`.
    public var errors: [String: String]
}

extension SchemaForm {
    /// Reads `form` into properties typed by the schema.
    ///
    /// Only fields the form shows and lets the user edit are read: hidden, `const`, `readOnly` and (when
    /// editing) non-updateable properties are never sent, so defaults and stored values stay the server's
    /// business. A conditional property is read only when its branch applies to the values read (and, when
    /// editing, the stored ones), decided with the schema's own `if` — so a field shown to a reader without
    /// JavaScript but not applicable is left out rather than rejected. Empty optional fields are left out
    /// when creating; when editing an emptied text field becomes `""` (so it can be cleared) and an empty
    /// secret keeps the stored one. An unchecked checkbox is `false`.
    ///
    /// - Parameter current: the resource's properties when editing (conditions are decided on them merged
    ///   with what was sent, as `validateUpdate` does); empty when creating.
    public func parse(_ form: FormData, current: [String: JSONValue] = [:]) -> ParsedForm {
        var errors: [String: String] = [:]
        let properties = parseObject(root.children, branches: root.branches, form: form, current: current, errors: &errors)
        return ParsedForm(properties: properties, errors: errors)
    }

    /// The properties of an edit that differ from the stored ones (an empty text or list and a missing value
    /// count as the same), so a PATCH carries only what the user changed.
    public func changes(_ properties: [String: JSONValue], from current: [String: JSONValue]) -> [String: JSONValue] {
        properties.filter { key, value in
            let stored = current[key]
            if value == .string("") || value == .array([]), stored == nil || stored == .null { return false }
            return stored != value
        }
    }

    private func parseObject(
        _ specs: [FieldSpec], branches: [Branch], form: FormData, current: [String: JSONValue],
        errors: inout [String: String]
    ) -> [String: JSONValue] {
        // A branch's fields can switch further branches on (Azure TRE's configure_review_vms), so repeat
        // until the set of applicable branches settles; it can only change a bounded number of times.
        var applicable = Set<Int>()
        var result: [String: JSONValue] = [:]
        var resultErrors: [String: String] = [:]
        for _ in 0...(branches.count + 1) {
            var values: [String: JSONValue] = [:]
            var passErrors: [String: String] = [:]
            for spec in specs where !spec.hidden && !spec.locked {
                guard spec.branchIndexes.isEmpty || !applicable.isDisjoint(with: spec.branchIndexes) else { continue }
                if let value = parseField(spec, form: form, current: current[spec.key], errors: &passErrors) {
                    values[spec.key] = value
                }
            }
            let merged = current.merging(values) { _, new in new }
            let next = Set(branches.indices.filter { branches[$0].holds(for: merged) })
            result = values
            resultErrors = passErrors
            if next == applicable { break }
            applicable = next
        }
        errors.merge(resultErrors) { first, _ in first }
        return result
    }

    private func parseField(
        _ spec: FieldSpec, form: FormData, current: JSONValue?, errors: inout [String: String]
    ) -> JSONValue? {
        switch spec.kind {
        case .checkbox:
            return .bool(form.all(spec.name).contains("true"))
        case .input, .textarea, .select:
            let raw = form[spec.name] ?? ""
            let keepAsTyped = spec.kind == .textarea || spec.inputType == "password"
            let text = keepAsTyped ? raw : raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if text.isEmpty {
                if spec.sensitive || spec.inputType == "password" || mode == .create { return nil }
                return spec.type == "string" && spec.enumValues.isEmpty ? .string("") : nil
            }
            if spec.kind == .select {
                guard let value = spec.enumValues.first(where: { Self.text(of: $0) == text }) else {
                    errors[spec.name] = "Choose one of the listed values."
                    return nil
                }
                return value
            }
            return scalar(text, type: spec.type, name: spec.name, errors: &errors)
        case .choices:
            var picked: [JSONValue] = []
            for text in form.all(spec.name) {
                guard let value = spec.itemEnum.first(where: { Self.text(of: $0) == text }) else {
                    errors[spec.name] = "Choose only the listed values."
                    return nil
                }
                picked.append(value)
            }
            return .array(picked)
        case .lines:
            let lines = (form[spec.name] ?? "").split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            if lines.isEmpty {
                return mode == .create && spec.defaultValue == nil && !spec.required ? nil : .array([])
            }
            var items: [JSONValue] = []
            for (index, line) in lines.enumerated() {
                var lineErrors: [String: String] = [:]
                guard let value = scalar(line, type: spec.itemType, name: spec.name, errors: &lineErrors) else {
                    errors[spec.name] = "Line \(index + 1): " + (lineErrors[spec.name] ?? "not a valid value.")
                    return nil
                }
                items.append(value)
            }
            return .array(items)
        case .json:
            let text = (form[spec.name] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            if text.isEmpty { return nil }
            guard let value = try? JSONValue.parse(Array(text.utf8)) else {
                errors[spec.name] = "Enter valid JSON."
                return nil
            }
            if spec.type == "array", value.arrayValue == nil {
                errors[spec.name] = "Enter a JSON list: [ … ]."
                return nil
            }
            if spec.type == "object", value.objectValue == nil {
                errors[spec.name] = "Enter a JSON object: { … }."
                return nil
            }
            return value
        case .group:
            let children = parseObject(
                spec.children, branches: spec.branches, form: form, current: current?.objectValue ?? [:], errors: &errors)
            return children.isEmpty && !spec.required ? nil : .object(children)
        }
    }

    /// One typed value from text: integers and numbers parsed (a whole number stays an integer), booleans
    /// from `true`/`false`, strings as they are.
    private func scalar(_ text: String, type: String, name: String, errors: inout [String: String]) -> JSONValue? {
        switch type {
        case "integer":
            if let value = Int(text) { return .int(value) }
            if let value = Double(text), value.isFinite, value.rounded() == value, abs(value) < 9e15 { return .int(Int(value)) }
            errors[name] = "Enter a whole number."
            return nil
        case "number":
            if let value = Int(text) { return .int(value) }
            if let value = Double(text), value.isFinite { return .double(value) }
            errors[name] = "Enter a number."
            return nil
        case "boolean":
            switch text.lowercased() {
            case "true": return .bool(true)
            case "false": return .bool(false)
            default:
                errors[name] = "Enter true or false."
                return nil
            }
        default:
            return .string(text)
        }
    }
}
