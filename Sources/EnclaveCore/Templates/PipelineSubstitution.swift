/// The `{{ resource.… }}` substitution Azure TRE applies to a pipeline step's property values before
/// the step updates another resource (`service_bus/substitutions.py`), as a pure function.
///
/// The substitution context has the shape
/// `{"resource": {"id": …, "properties": {…}, "parent": {"id": …, "properties": {…}, "parent": {…}}}}`:
/// `resource` is the primary resource (the one whose operation runs the pipeline), `resource.parent`
/// its workspace (for a workspace service) or workspace service (for a user resource), and
/// `resource.parent.parent` a user resource's workspace. Any other member of the primary resource
/// (`templateName`, …) may be added and is reachable the same way.
public enum PipelineSubstitution {
    /// The new value of `property.name` on the target resource.
    ///
    /// - Parameters:
    ///   - property: the step's property: its `value` (string or object with tokens) and, for arrays,
    ///     how to combine with the existing value.
    ///   - context: the substitution context described on the type.
    ///   - current: the target resource's current value of that property (nil when unset).
    /// - Returns: for an object value with `type: array`, the existing array changed by
    ///   `arraySubstitutionAction` (unchanged when the action is absent); otherwise the substituted value.
    ///   As in Azure TRE, array actions apply only to object values: a string value (for example a
    ///   whole-token `{{ resource.properties.list }}`) replaces the property outright.
    public static func newValue(for property: PipelineStepProperty, context: JSONValue, current: JSONValue?) -> JSONValue {
        guard case .object = property.value else {
            return substituted(property.value, context: context)
        }
        let value = substituted(property.value, context: context)
        guard property.type == "array" else { return value }
        var array = current?.arrayValue ?? []
        switch property.arraySubstitutionAction {
        case nil:
            break
        case .overwrite?:
            array = [value]
        case .append?:
            array.append(value)
        case .replace?:
            if let index = array.firstIndex(where: { matches($0, value, field: property.arrayMatchField) }) {
                array[index] = value
            } else {
                array.append(value)
            }
        case .remove?:
            array.removeAll { matches($0, value, field: property.arrayMatchField) }
        }
        return .array(array)
    }

    /// The property updates a step makes on its target, computed from the target's current properties.
    ///
    /// Every property is computed from `target` as it was before the step, as Azure TRE does.
    public static func properties(
        for step: PipelineStep, context: JSONValue, target: [String: JSONValue]
    ) -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        for property in step.properties ?? [] {
            result[property.name] = newValue(for: property, context: context, current: target[property.name])
        }
        return result
    }

    /// Substitutes tokens in every string inside `value` (objects and arrays recursively).
    public static func substituted(_ value: JSONValue, context: JSONValue) -> JSONValue {
        switch value {
        case .string(let text): substitute(text, context: context)
        case .object(let members): .object(members.mapValues { substituted($0, context: context) })
        case .array(let elements): .array(elements.map { substituted($0, context: context) })
        default: value
        }
    }

    /// Substitutes the `{{ path }}` tokens of one string.
    ///
    /// Rules (Azure TRE's): a string without tokens is returned as is; if any token's path is missing
    /// the whole result is `""`; if a token resolves to an object or array, that value is returned and
    /// surrounding text is dropped; a string that is exactly one token becomes the raw value (numbers
    /// and booleans keep their type); otherwise tokens are replaced by their text, with Python's
    /// spelling of scalars (`True`, `False`, `None`) so concatenations match Azure TRE's.
    public static func substitute(_ text: String, context: JSONValue) -> JSONValue {
        let segments = parse(text)
        guard segments.contains(where: { if case .token = $0 { true } else { false } }) else { return .string(text) }
        var resolved: [JSONValue?] = []
        for segment in segments {
            guard case .token(let path) = segment else {
                resolved.append(nil)
                continue
            }
            guard let value = lookup(path, in: context) else { return "" }
            switch value {
            case .object, .array: return value
            default: resolved.append(value)
            }
        }
        if segments.count == 1, let only = resolved[0] { return only }
        var output = ""
        for (segment, value) in zip(segments, resolved) {
            switch segment {
            case .literal(let literal): output += literal
            case .token: output += value.map(pythonText) ?? ""
            }
        }
        return .string(output)
    }

    private enum Segment {
        case literal(String)
        case token(String)
    }

    /// Splits `text` into literal runs and `{{ … }}` tokens (whitespace inside the braces ignored).
    private static func parse(_ text: String) -> [Segment] {
        var segments: [Segment] = []
        var rest = Substring(text)
        while let open = rest.firstRange(of: "{{"),
            let close = rest[open.upperBound...].firstRange(of: "}}")
        {
            if open.lowerBound > rest.startIndex {
                segments.append(.literal(String(rest[..<open.lowerBound])))
            }
            let path = rest[open.upperBound..<close.lowerBound].trimmingWhitespace()
            segments.append(.token(String(path)))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { segments.append(.literal(String(rest))) }
        return segments
    }

    /// Follows a dotted path from the context root; nil when any step is missing or not an object.
    private static func lookup(_ path: String, in context: JSONValue) -> JSONValue? {
        var current = context
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            guard let next = current[String(part)] else { return nil }
            current = next
        }
        return current
    }

    /// Whether array element `element` is the one `value` designates: equal `field` members, or equal
    /// values when no match field is given. Elements without the field never match.
    private static func matches(_ element: JSONValue, _ value: JSONValue, field: String?) -> Bool {
        guard let field else { return element.schemaEquals(value) }
        guard let elementField = element[field], let valueField = value[field] else { return false }
        return elementField.schemaEquals(valueField)
    }

    /// How Python's `str()` spells a scalar, which is what Azure TRE concatenates.
    private static func pythonText(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): text
        case .bool(let flag): flag ? "True" : "False"
        case .null: "None"
        case .int(let number): String(number)
        case .double(let number): String(number)
        case .array, .object: value.description
        }
    }
}

private extension Substring {
    func trimmingWhitespace() -> Substring {
        var result = self
        while let first = result.first, first.isWhitespace { result = result.dropFirst() }
        while let last = result.last, last.isWhitespace { result = result.dropLast() }
        return result
    }
}
