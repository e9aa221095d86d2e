import EnclaveCore
import Foundation

// From the compiled schema to the field view models the `schema-field` partial renders.

extension SchemaForm {
    /// The form's fields and its problem summary.
    ///
    /// - Parameters:
    ///   - values: the properties to show — the resource's own when editing; none for a new resource, so
    ///     every field shows its `default`. Sensitive values are never shown.
    ///   - submitted: what the user sent, when the form comes back with problems: typed text is kept as typed.
    ///   - errors: problems by field name (`parent.child`); one for a name no field shows (an array element,
    ///     a hidden property) goes to the nearest shown field above it, or to the summary only.
    ///   - otherProblems: problems about no field in particular, listed in the summary.
    public func render(
        values: [String: JSONValue] = [:], submitted: FormData? = nil, errors: [String: String] = [:],
        otherProblems: [String] = []
    ) -> RenderedForm {
        let shown = Set(fieldNames)
        var placed: [String: String] = [:]
        var unplaced: [RenderedForm.Problem] = []
        for (name, message) in errors.sorted(by: { $0.key < $1.key }) {
            var candidate = name
            while !shown.contains(candidate), let dot = candidate.lastIndex(of: ".") { candidate = String(candidate[..<dot]) }
            if shown.contains(candidate) {
                placed[candidate] = placed[candidate].map { "\($0) \(message)" } ?? message
            } else {
                unplaced.append(.init(label: spec(named: name).map(Self.label) ?? name, message: message, href: nil))
            }
        }
        let fields = build(root.children, branches: root.branches, parentName: "", values: values, submitted: submitted, errors: placed)
        var problems: [RenderedForm.Problem] = []
        func collect(_ fields: [FormField]) {
            for field in fields {
                if let error = field.error { problems.append(.init(label: field.label, message: error, href: "#" + field.id)) }
                collect(field.children)
            }
        }
        collect(fields)
        return RenderedForm(
            fields: fields, problems: problems + unplaced + otherProblems.map { .init(label: "", message: $0, href: nil) })
    }

    /// The compiled property with this dotted name, shown or hidden.
    func spec(named name: String) -> FieldSpec? {
        var specs = root.children
        var found: FieldSpec?
        for part in name.split(separator: ".") {
            guard let next = specs.first(where: { $0.key == part }) else { return nil }
            found = next
            specs = next.children
        }
        return found
    }

    static func label(_ spec: FieldSpec) -> String {
        let title = spec.ui["ui:title"]?.stringValue ?? spec.definition["title"]?.stringValue ?? ""
        return title.isEmpty ? humanised(spec.key) : title
    }

    private func build(
        _ specs: [FieldSpec], branches: [Branch], parentName: String, values: [String: JSONValue], submitted: FormData?,
        errors: [String: String]
    ) -> [FormField] {
        specs.filter { !$0.hidden }.map { spec in
            var field = FormField(kind: spec.kind, name: spec.name, label: Self.label(spec))
            var help = [spec.definition["description"]?.stringValue, spec.ui["ui:help"]?.stringValue]
                .compactMap { $0?.isEmpty == false ? $0 : nil }
            if spec.kind == .lines { help.append("One value per line.") }
            if spec.kind == .json { help.append("Written as JSON.") }
            field.help = help.isEmpty ? nil : help.joined(separator: " ")
            field.isRequired = spec.required
            let textual = [.input, .textarea, .select].contains(spec.kind)
            // An empty secret on an edit keeps the stored one, so it is never required there.
            let keepsSecret = spec.sensitive && mode == .update
            field.requiredAttribute = spec.requiredChain && !spec.locked && textual && !keepsSecret
            field.disabled = spec.locked
            field.sensitive = spec.sensitive
            field.error = errors[spec.name]
            describeCondition(of: spec, into: &field, siblings: specs, branches: branches, parentName: parentName)
            field.requiredWhenShown = field.showIf != nil && spec.required && !spec.locked && textual && !keepsSecret

            let stored = values[spec.key] ?? spec.defaultValue
            let typed = spec.locked ? nil : submitted
            switch spec.kind {
            case .input, .textarea:
                fillText(spec, into: &field, stored: stored, typed: typed?[spec.name])
            case .select:
                let current = typed?[spec.name] ?? Self.text(of: stored)
                var options: [FormField.Option] = []
                if !spec.required || current.isEmpty {
                    options.append(.init(value: "", label: spec.required ? "Choose…" : "(none)", selected: current.isEmpty, id: ""))
                }
                options += spec.enumValues.map { value in
                    let text = Self.text(of: value)
                    return .init(value: text, label: text, selected: text == current, id: "")
                }
                field.options = options
            case .checkbox:
                field.checked = typed.map { $0.all(spec.name).contains("true") } ?? (stored == .bool(true))
            case .choices:
                let picked = Set(typed.map { $0.all(spec.name) } ?? (stored?.arrayValue ?? []).map(Self.text(of:)))
                field.options = spec.itemEnum.enumerated().map { index, value in
                    let text = Self.text(of: value)
                    return .init(value: text, label: text, selected: picked.contains(text), id: "\(field.id)-\(index)")
                }
            case .lines:
                field.value = typed?[spec.name] ?? (stored?.arrayValue ?? []).map(Self.text(of:)).joined(separator: "\n")
            case .json:
                field.value = typed?[spec.name] ?? stored.map(Self.prettyJSON) ?? ""
            case .group:
                field.children = build(
                    spec.children, branches: spec.branches, parentName: spec.name, values: stored?.objectValue ?? [:],
                    submitted: submitted, errors: errors)
            }
            field.finish()
            return field
        }
    }

    private func fillText(_ spec: FieldSpec, into field: inout FormField, stored: JSONValue?, typed: String?) {
        let definition = spec.definition
        field.inputType = spec.inputType
        if spec.sensitive || spec.inputType == "password" {
            // Never echoed: not the stored secret (which is masked anyway), nor what was typed before a problem.
            field.value = ""
            field.placeholder = mode == .update ? "Unchanged: type a new value to replace it" : nil
        } else {
            field.value = typed ?? Self.text(of: stored)
            let example = definition["examples"]?.arrayValue?.first.map { "e.g. " + Self.text(of: $0) }
            field.placeholder = spec.ui["ui:placeholder"]?.stringValue ?? example
        }
        if spec.inputType == "number" {
            field.min = definition["minimum"]?.description
            field.max = definition["maximum"]?.description
            field.step = definition["multipleOf"]?.description ?? (spec.type == "integer" ? "1" : "any")
        } else {
            field.minLength = definition["minLength"]?.description
            field.maxLength = definition["maxLength"]?.description
            field.pattern = definition["pattern"]?.stringValue.flatMap(Self.htmlPattern)
        }
    }

    private func describeCondition(
        of spec: FieldSpec, into field: inout FormField, siblings: [FieldSpec], branches: [Branch], parentName: String
    ) {
        guard !spec.branchIndexes.isEmpty else { return }
        let branch = branches[spec.branchIndexes[0]]
        guard spec.branchIndexes.count == 1, branch.condition != nil else {
            if spec.branchIndexes.contains(where: { branches[$0].condition != nil }) {
                field.condition = "Applies only with some of the choices above."
            }
            return
        }
        guard let clauses = branch.clauses, !clauses.isEmpty else {
            field.condition = "Applies only with some of the choices above."
            return
        }
        field.showIf = FormCondition.script(clauses, negate: branch.negate, prefix: parentName)
        field.condition = FormCondition.sentence(clauses, negate: branch.negate) { key in
            siblings.first { $0.key == key }.map(Self.label) ?? Self.humanised(key)
        }
    }

    static func prettyJSON(_ value: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).flatMap { String(data: $0, encoding: .utf8) } ?? value.description
    }
}
