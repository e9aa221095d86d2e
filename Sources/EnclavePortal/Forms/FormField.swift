/// One control of a form generated from a template's JSON Schema, ready for the `schema-field` partial.
///
/// Every flag the partial tests is a stored property: mustache reads view models through `Mirror`,
/// which sees stored properties only, and has no comparisons of its own. Optional values are read
/// with a leading dot (`{{#.error}}`) so a field without one never picks up its parent fieldset's.
public struct FormField: Sendable {
    public enum Kind: String, Sendable {
        /// `<input>` (text, email, url, number or password — see `inputType`).
        case input
        case textarea
        case select
        /// A boolean: one checkbox that sends `true` when checked and nothing otherwise.
        case checkbox
        /// An array of enumerated values: one checkbox per value, all under the same name.
        case choices
        /// An array of plain values: a textarea with one value per line.
        case lines
        /// Anything a form cannot express field by field (arrays of objects, free-form objects): JSON text.
        case json
        /// A nested object: a fieldset of its own fields, named `parent.child`.
        case group
    }

    public struct Option: Sendable {
        public var value: String
        public var label: String
        public var selected: Bool
        /// For checkbox choices, the id of this option's box.
        public var id: String
    }

    public var kind: Kind
    /// The form name: the property's name, dotted below nested objects (`airlock_output_checks.threshold`).
    public var name: String
    /// `field-NAME`: the control's id, and the anchor error summaries link to.
    public var id: String
    public var label: String
    /// The property's `ui:help` or `description`.
    public var help: String?
    /// The value shown (never a sensitive one); for `lines` and `json` the textarea's text.
    public var value: String
    public var checked: Bool
    public var options: [Option]
    public var children: [FormField]

    /// `text`, `email`, `url`, `number` or `password` for `input` fields.
    public var inputType: String
    public var min: String?
    public var max: String?
    public var step: String?
    public var minLength: String?
    public var maxLength: String?
    /// A browser-checkable pattern, only when the schema's pattern is anchored and means the same in HTML.
    public var pattern: String?
    public var placeholder: String?

    /// Marked "(required)" in its label.
    public var isRequired: Bool
    /// Carries the HTML `required` attribute: required, and not inside a conditional branch or an optional object.
    public var requiredAttribute: Bool
    /// Shown but not editable: `readOnly`, `const`, or not `updateable` when editing.
    public var disabled: Bool
    public var sensitive: Bool
    /// The problem with the submitted value, shown under the control and referenced by `aria-describedby`.
    public var error: String?

    /// JSON the `schema-form.js` script evaluates to show or hide the field live (`data-show-if`).
    public var showIf: String?
    /// When the field applies, in words ("Applies when “Auth type” is Manual"), for readers without JavaScript.
    public var condition: String?
    /// Whether a shown conditional field is required then (the script sets `required` while it is shown).
    public var requiredWhenShown: Bool

    // One flag per kind, for the partial.
    public private(set) var isInput = false
    public private(set) var isTextarea = false
    public private(set) var isSelect = false
    public private(set) var isCheckbox = false
    public private(set) var isChoices = false
    public private(set) var isLines = false
    public private(set) var isJSON = false
    public private(set) var isGroup = false
    /// Whether `aria-describedby` has anything to point at (help, condition or error).
    public private(set) var describedBy: String?

    init(kind: Kind, name: String, label: String) {
        self.kind = kind
        self.name = name
        self.id = "field-" + name
        self.label = label
        value = ""
        checked = false
        options = []
        children = []
        inputType = "text"
        isRequired = false
        requiredAttribute = false
        disabled = false
        sensitive = false
        requiredWhenShown = false
    }

    /// Sets the derived flags once every other property is final.
    mutating func finish() {
        isInput = kind == .input
        isTextarea = kind == .textarea
        isSelect = kind == .select
        isCheckbox = kind == .checkbox
        isChoices = kind == .choices
        isLines = kind == .lines
        isJSON = kind == .json
        isGroup = kind == .group
        var ids: [String] = []
        if help != nil { ids.append(id + "-help") }
        if condition != nil { ids.append(id + "-when") }
        if error != nil { ids.append(id + "-error") }
        describedBy = ids.isEmpty ? nil : ids.joined(separator: " ")
    }
}

/// A form's fields plus its error summary (shown at the top and linking to each field).
public struct RenderedForm: Sendable {
    public struct Problem: Sendable {
        public var label: String
        public var message: String
        /// `#field-NAME`, or nil for problems no field shows (they are listed at the top only).
        public var href: String?
        /// "Label: message", or the message alone when it belongs to no field.
        public var text: String

        init(label: String, message: String, href: String?) {
            self.label = label
            self.message = message
            self.href = href
            self.text = label.isEmpty ? message : "\(label): \(message)"
        }
    }

    public let fields: [FormField]
    public let problems: [Problem]
    /// Whether there is a summary to show (stored: templates read stored properties only).
    public let showProblems: Bool

    init(fields: [FormField], problems: [Problem]) {
        self.fields = fields
        self.problems = problems
        self.showProblems = !problems.isEmpty
    }
}
