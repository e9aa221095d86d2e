// Rules about a resource's `properties` that come from its template: validation on create and on
// PATCH, defaults, and masking of sensitive values.

extension ResourceTemplate {
    /// Checks the properties of a new resource against the enriched template (base + template,
    /// `unevaluatedProperties: false`): a property is unknown unless declared at the root or in the
    /// `then`/`else` branch of an `allOf` item that applies to this input. Defaults are not applied
    /// first (Azure TRE validates the body as sent), so a branch switched on only by a default does
    /// not apply; call `applyingDefaults(to:)` before validating to be more lenient.
    ///
    /// - Throws: `EnclaveError.badRequest` listing every violation in one message, each naming the
    ///   property's JSON Pointer and the broken rule, e.g.
    ///   "Invalid properties for template 'tre-workspace-base': /address_space_size: must be one of […] (enum)".
    public func validateCreate(_ properties: [String: JSONValue]) throws(EnclaveError) {
        try validateCreate(properties, against: try createSchema())
    }

    /// The compiled schema `validateCreate` checks against. A template never changes once registered,
    /// so callers may compile it once per template id and pass it to `validateCreate(_:against:)`.
    public func createSchema() throws(EnclaveError) -> JSONSchema {
        try JSONSchema(enriched())
    }

    /// `validateCreate` with a schema compiled earlier by `createSchema()` of this same template.
    public func validateCreate(_ properties: [String: JSONValue], against schema: JSONSchema) throws(EnclaveError) {
        let violations = schema.validate(.object(properties))
        if !violations.isEmpty {
            throw invalidProperties(violations.map(\.message))
        }
    }

    /// Checks a PATCH's `properties` with Azure TRE's rules: only properties marked `updateable: true`
    /// (at the root or in an applicable `allOf` branch) may appear, and each value must satisfy its
    /// definition; nothing is required.
    ///
    /// - Parameters:
    ///   - patch: the properties being changed.
    ///   - current: the resource's properties before the patch; `allOf` conditions are decided on
    ///     `current` merged with `patch`, so a branch switched on by an existing value is honoured.
    /// - Throws: `EnclaveError.badRequest` naming every offending property, e.g. "'auth_type' is not updateable".
    public func validateUpdate(_ patch: [String: JSONValue], current: [String: JSONValue] = [:]) throws(EnclaveError) {
        let merged = current.merging(patch) { _, new in new }
        let definitions = declaredProperties(for: merged)
        var problems: [String] = []
        for name in patch.keys.sorted() {
            guard let candidates = definitions[name] else {
                problems.append("'\(name)' is not a property of template '\(self.name)'")
                continue
            }
            let updateable = candidates.filter { $0["updateable"] == .bool(true) }
            guard !updateable.isEmpty, let value = patch[name] else {
                problems.append("'\(name)' is not updateable")
                continue
            }
            var violations: [SchemaViolation] = []
            for definition in updateable {
                let schema = try JSONSchema(definition)
                violations += schema.validate(value, at: JSONPointer.appending("", name))
            }
            problems += JSONSchema.sortedUnique(violations).map(\.message)
        }
        if !problems.isEmpty {
            throw invalidProperties(problems)
        }
    }

    /// `properties` with the `default` of every missing property filled in: root properties (base
    /// included) and properties of the `allOf` branches that apply.
    ///
    /// Repeats until nothing changes, because a default can switch a branch on (base workspace:
    /// `enable_airlock` defaults to true, which brings `configure_review_vms` and its default).
    /// `null` defaults are not applied (they mean "no value"), nor are defaults their own definition
    /// rejects (Azure TRE's `aml_compute` declares `"default": ""` with `minLength: 1`), so filling in
    /// defaults never turns valid input invalid.
    public func applyingDefaults(to properties: [String: JSONValue]) -> [String: JSONValue] {
        var result = properties
        // Terminates: every pass either adds a property from the template's finite set of names or stops.
        var changed = true
        while changed {
            changed = false
            for (name, definitions) in declaredProperties(for: result) where result[name] == nil {
                let candidates = definitions.compactMap { definition -> JSONValue? in
                    guard let value = definition["default"], value != .null,
                        (try? JSONSchema(definition))?.isValid(value) == true
                    else { return nil }
                    return value
                }
                if let value = candidates.first {
                    result[name] = value
                    changed = true
                }
            }
        }
        return result
    }

    /// Names of properties marked `sensitive: true` anywhere in the template: root, nested object
    /// properties, array items and `allOf` branches (`if` conditions excluded, as in Azure TRE).
    public var sensitivePropertyNames: Set<String> {
        var names = Set<String>()
        Self.collectSensitive(in: schema, into: &names)
        return names
    }

    /// `properties` with the value of every sensitive property (at any object depth) replaced by
    /// `"REDACTED"`, which is how Azure TRE stores them.
    public func masked(_ properties: [String: JSONValue]) -> [String: JSONValue] {
        Self.mask(properties, sensitive: sensitivePropertyNames)
    }

    /// The placeholder stored instead of a sensitive value (Azure TRE's `REDACTED_SENSITIVE_VALUE`).
    public static let redactedValue = "REDACTED"

    // MARK: - Helpers

    /// Every definition of each property name that applies to `properties`: the enriched root
    /// definitions, then those of applicable `allOf` branches (an `allOf` item without `if` always applies).
    func declaredProperties(for properties: [String: JSONValue]) -> [String: [JSONValue]] {
        var result: [String: [JSONValue]] = [:]
        let root = enriched()
        for (name, definition) in root["properties"]?.objectValue ?? [:] {
            result[name, default: []].append(definition)
        }
        for branch in applicableBranches(for: properties) {
            for (name, definition) in branch["properties"]?.objectValue ?? [:] {
                result[name, default: []].append(definition)
            }
        }
        return result
    }

    /// The schema objects from `allOf` that apply to `properties`: `then` when `if` holds, `else`
    /// otherwise, or the item itself when it has no `if`.
    func applicableBranches(for properties: [String: JSONValue]) -> [JSONValue] {
        var branches: [JSONValue] = []
        for item in allOf {
            guard let condition = item["if"] else {
                branches.append(item)
                continue
            }
            let holds = (try? JSONSchema(condition))?.isValid(.object(properties)) ?? false
            if let branch = item[holds ? "then" : "else"] {
                branches.append(branch)
            }
        }
        return branches
    }

    private func invalidProperties(_ problems: [String]) -> EnclaveError {
        .badRequest("Invalid properties for template '\(name)': " + problems.joined(separator: "; "))
    }

    private static func collectSensitive(in node: JSONValue, into names: inout Set<String>) {
        guard case .object(let members) = node else { return }
        for (name, definition) in members["properties"]?.objectValue ?? [:] {
            if definition["sensitive"] == .bool(true) { names.insert(name) }
            collectSensitive(in: definition, into: &names)
        }
        for key in ["items", "additionalProperties", "then", "else"] {
            if let child = members[key] { collectSensitive(in: child, into: &names) }
        }
        for item in members["allOf"]?.arrayValue ?? [] {
            collectSensitive(in: item, into: &names)
        }
    }

    private static func mask(_ properties: [String: JSONValue], sensitive: Set<String>) -> [String: JSONValue] {
        var result = properties
        for (name, value) in properties {
            if sensitive.contains(name) {
                result[name] = .string(redactedValue)
            } else if case .object(let nested) = value {
                result[name] = .object(mask(nested, sensitive: sensitive))
            }
        }
        return result
    }
}
