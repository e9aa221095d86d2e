public import EnclaveCore
import Foundation

/// A form generated from a template's JSON Schema (Azure TRE's `template_schema.json`, enriched with the
/// base properties) and its `uiSchema`: the fields to show, and the way back from a submitted form to
/// typed `properties`.
///
/// Pure: no I/O. The server passes the template's enriched schema (`ResourceTemplate.enriched(isUpdate:)`)
/// and renders the fields with the `schema-field` partial; the control plane still validates whatever
/// comes back, so the form only has to be helpful, never authoritative.
///
/// What maps to what: strings → text inputs (`enum` → `<select>`, `format` email/uri → typed inputs,
/// `ui:widget` `textarea`/`password`, `sensitive` → password); numbers and integers → number inputs with
/// their bounds; booleans → a checkbox (an unchecked box sends nothing, which reads as `false`); arrays of
/// enumerated values → one checkbox each; other arrays of scalars → a textarea with one value per line;
/// nested objects → a fieldset whose fields are named `parent.child`; anything else (arrays of objects,
/// free-form objects) → JSON text. Properties under `allOf` `then`/`else` are shown with a `data-show-if`
/// condition that `schema-form.js` evaluates live, and with the condition in words for readers without
/// JavaScript. `ui:order` (with `*`), `ui:help`, `ui:placeholder`, `ui:widget: hidden` and Azure TRE's
/// `classNames: tre-hidden` are honoured.
public struct SchemaForm: Sendable {
    public enum Mode: Sendable {
        /// A new resource: defaults filled, empty optional fields left out.
        case create
        /// PATCH: properties not `updateable` (and `readOnly` ones) are shown disabled and never sent.
        case update
    }

    public let mode: Mode
    let root: FieldSpec

    /// - Parameters:
    ///   - schema: the template's schema object (`properties`, `required`, `allOf`); for updates the enriched
    ///     schema with `isUpdate: true`, whose `readOnly` marks are honoured as well as `updateable`.
    ///   - uiSchema: the UI hints; by default the schema's own `uiSchema` member.
    public init(schema: JSONValue, uiSchema: JSONValue? = nil, mode: Mode) {
        self.mode = mode
        let ui = uiSchema ?? schema["uiSchema"] ?? .object([:])
        var root = FieldSpec(key: "", name: "", definition: schema, ui: ui, kind: .group, type: "object")
        root.required = true
        root.requiredChain = true
        (root.children, root.branches) = Self.compileObject(schema, ui: ui, parent: root, mode: mode, depth: 0)
        self.root = root
    }

    /// Every field name the form shows (nested ones dotted), in display order.
    public var fieldNames: [String] {
        var names: [String] = []
        func walk(_ specs: [FieldSpec]) {
            for spec in specs where !spec.hidden {
                names.append(spec.name)
                walk(spec.children)
            }
        }
        walk(root.children)
        return names
    }
}

/// One property of the schema, compiled once: its kind, its place and every rule the form needs.
struct FieldSpec: Sendable {
    var key: String
    var name: String
    var definition: JSONValue
    var ui: JSONValue
    var kind: FormField.Kind
    /// The JSON type values are parsed to (for arrays: `array`; see `itemType`).
    var type: String
    var itemType = "string"
    var enumValues: [JSONValue] = []
    var itemEnum: [JSONValue] = []
    var inputType = "text"
    /// Listed in its object's (or its branch's) `required`.
    var required = false
    /// Required all the way up and not conditional: safe for the HTML `required` attribute.
    var requiredChain = false
    var locked = false
    var hidden = false
    var sensitive = false
    /// Indexes into the parent's `branches` this property is declared in; empty for unconditional ones.
    var branchIndexes: [Int] = []
    var children: [FieldSpec] = []
    var branches: [Branch] = []

    init(key: String, name: String, definition: JSONValue, ui: JSONValue, kind: FormField.Kind, type: String) {
        self.key = key
        self.name = name
        self.definition = definition
        self.ui = ui
        self.kind = kind
        self.type = type
    }

    var defaultValue: JSONValue? {
        guard let value = definition["default"], value != .null else { return nil }
        return value
    }
}

/// A `then` or `else` of one `allOf` item, or an `allOf` item without `if` (always applies).
struct Branch: Sendable {
    var condition: JSONSchema?
    /// The `else` side: applies when the condition does not hold.
    var negate: Bool
    /// The condition in the simple shape `schema-form.js` understands, nil when it is not that simple.
    var clauses: [FormCondition.Clause]?

    func holds(for values: [String: JSONValue]) -> Bool {
        guard let condition else { return true }
        return condition.isValid(.object(values)) != negate
    }
}

extension SchemaForm {
    /// The fields and conditional branches of one object schema, in display order.
    static func compileObject(
        _ schema: JSONValue, ui: JSONValue, parent: FieldSpec, mode: Mode, depth: Int
    ) -> ([FieldSpec], [Branch]) {
        let properties = schema["properties"]?.objectValue ?? [:]
        let required = Set(schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        var specs: [String: FieldSpec] = [:]
        for (key, definition) in properties {
            specs[key] = compileField(
                key, definition, ui: ui[key] ?? .object([:]), required: required.contains(key), parent: parent, mode: mode,
                depth: depth)
        }
        var branches: [Branch] = []
        for item in schema["allOf"]?.arrayValue ?? [] {
            var sides: [(JSONValue, Bool)] = []
            if let condition = item["if"] {
                for (side, negate) in [("then", false), ("else", true)] {
                    if let branch = item[side], branch.objectValue != nil { sides.append((branch, negate)) }
                }
                for (branchSchema, negate) in sides {
                    branches.append(
                        Branch(
                            condition: try? JSONSchema(condition), negate: negate, clauses: FormCondition.clauses(of: condition)))
                    addBranchFields(branchSchema, index: branches.count - 1)
                }
            } else {
                branches.append(Branch(condition: nil, negate: false, clauses: []))
                addBranchFields(item, index: branches.count - 1)
            }
        }

        func addBranchFields(_ branch: JSONValue, index: Int) {
            let branchRequired = Set(branch["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            for (key, definition) in branch["properties"]?.objectValue ?? [:] where properties[key] == nil {
                if specs[key] != nil {
                    specs[key]?.branchIndexes.append(index)
                    continue
                }
                var spec = compileField(
                    key, definition, ui: ui[key] ?? .object([:]), required: branchRequired.contains(key), parent: parent,
                    mode: mode, depth: depth)
                spec.branchIndexes = [index]
                spec.requiredChain = false
                spec.children = spec.children.map(Self.notRequiredChain)
                specs[key] = spec
            }
        }

        return (order(specs, ui: ui, branches: branches), branches)
    }

    private static func notRequiredChain(_ spec: FieldSpec) -> FieldSpec {
        var spec = spec
        spec.requiredChain = false
        spec.children = spec.children.map(notRequiredChain)
        return spec
    }

    static func compileField(
        _ key: String, _ definition: JSONValue, ui: JSONValue, required: Bool, parent: FieldSpec, mode: Mode, depth: Int
    ) -> FieldSpec {
        let name = parent.name.isEmpty ? key : parent.name + "." + key
        let type = resolvedType(definition)
        var spec = FieldSpec(key: key, name: name, definition: definition, ui: ui, kind: .input, type: type)
        spec.required = required
        spec.requiredChain = required && parent.requiredChain
        spec.sensitive = definition["sensitive"] == .bool(true)
        let classNames = ui["classNames"]?.stringValue?.split(separator: " ").map(String.init) ?? []
        spec.hidden = ui["ui:widget"]?.stringValue == "hidden" || classNames.contains("tre-hidden")
        spec.locked = parent.locked || definition["readOnly"] == .bool(true) || definition["const"] != nil
            || ui["ui:readonly"] == .bool(true) || ui["ui:disabled"] == .bool(true)
            || (mode == .update && depth == 0 && definition["updateable"] != .bool(true))
        spec.enumValues = definition["enum"]?.arrayValue ?? []
        let widget = ui["ui:widget"]?.stringValue
        switch type {
        case "boolean":
            spec.kind = .checkbox
        case "object":
            spec.kind = (definition["properties"]?.objectValue?.isEmpty ?? true) ? .json : .group
        case "array":
            let items = definition["items"]
            let itemType = items.map(resolvedType) ?? "string"
            if ["string", "integer", "number", "boolean"].contains(itemType), items?["properties"] == nil {
                spec.itemType = itemType
                spec.itemEnum = items?["enum"]?.arrayValue ?? []
                spec.kind = spec.itemEnum.isEmpty ? .lines : .choices
            } else {
                spec.kind = .json
            }
        case "integer", "number":
            spec.kind = spec.enumValues.isEmpty ? .input : .select
            spec.inputType = "number"
        default:
            if !spec.enumValues.isEmpty {
                spec.kind = .select
            } else if spec.sensitive || widget == "password" {
                spec.inputType = "password"
            } else if widget == "textarea" {
                spec.kind = .textarea
            } else {
                spec.inputType = switch definition["format"]?.stringValue {
                case "email": "email"
                case "uri": "url"
                default: "text"
                }
            }
        }
        if spec.kind == .group {
            (spec.children, spec.branches) = compileObject(definition, ui: ui, parent: spec, mode: mode, depth: depth + 1)
        }
        return spec
    }

    /// The JSON type a property's values take: its `type` (the first that is not `null`), else what its other
    /// keywords imply (`properties` → object, `items` → array, an `enum` or `const` value's own type).
    static func resolvedType(_ definition: JSONValue) -> String {
        switch definition["type"] {
        case .string(let name)?: return name
        case .array(let names)?:
            if let name = names.compactMap(\.stringValue).first(where: { $0 != "null" }) { return name }
        default: break
        }
        if definition["properties"] != nil { return "object" }
        if definition["items"] != nil { return "array" }
        if let sample = definition["enum"]?.arrayValue?.first ?? definition["const"] {
            return sample.typeName == "null" ? "string" : sample.typeName
        }
        return "string"
    }

    /// Display order: `ui:order` first (`*` standing for everything not listed), unlisted unconditional
    /// properties at `*` (the base trio first, then by name), and unlisted conditional ones right after the
    /// property their condition names, so a choice and what it switches on stay together.
    static func order(_ specs: [String: FieldSpec], ui: JSONValue, branches: [Branch]) -> [FieldSpec] {
        let listed = ui["ui:order"]?.arrayValue?.compactMap(\.stringValue) ?? ["*"]
        let listedSet = Set(listed)
        let baseFirst = ["display_name", "description", "overview"]
        let rest = specs.values.filter { !listedSet.contains($0.key) && $0.branchIndexes.isEmpty }
            .sorted { a, b in
                let (ia, ib) = (baseFirst.firstIndex(of: a.key) ?? 99, baseFirst.firstIndex(of: b.key) ?? 99)
                return ia != ib ? ia < ib : a.key < b.key
            }
        var keys: [String] = []
        for entry in listed {
            if entry == "*" {
                keys += rest.map(\.key)
            } else if specs[entry] != nil, !keys.contains(entry) {
                keys.append(entry)
            }
        }
        if !listedSet.contains("*") { keys += rest.map(\.key) }
        let conditional = specs.values.filter { !listedSet.contains($0.key) && !$0.branchIndexes.isEmpty }.sorted { $0.key < $1.key }
        for spec in conditional {
            let controllers = spec.branchIndexes.flatMap { branches[$0].clauses ?? [] }.map(\.key)
            if let at = keys.lastIndex(where: { controllers.contains($0) }) {
                // After the controller and the conditional fields already placed after it.
                var index = at + 1
                while index < keys.count, let placed = specs[keys[index]], !placed.branchIndexes.isEmpty, !listedSet.contains(placed.key) {
                    index += 1
                }
                keys.insert(spec.key, at: index)
            } else {
                keys.append(spec.key)
            }
        }
        return keys.compactMap { specs[$0] }
    }
}
