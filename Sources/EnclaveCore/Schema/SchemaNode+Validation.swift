// Validation of instances against compiled schema nodes.

extension SchemaNode {
    /// Appends every violation of this node by `instance` (located at `pointer`) to `violations`.
    func validate(_ instance: JSONValue, at pointer: String, into violations: inout [SchemaViolation]) {
        if let alwaysValid {
            if !alwaysValid {
                violations.append(SchemaViolation(at: pointer, "false", "is not allowed"))
            }
            return
        }
        if let types, !types.contains(where: { instance.matchesSchemaType($0) }) {
            let expected = types.count == 1 ? types[0] : "one of " + types.joined(separator: ", ")
            violations.append(SchemaViolation(at: pointer, "type", "must be \(expected), not \(instance.typeName)"))
        }
        if let enumValues, !enumValues.contains(where: { $0.schemaEquals(instance) }) {
            let list = JSONValue.array(enumValues).description
            violations.append(SchemaViolation(at: pointer, "enum", "must be one of \(list)"))
        }
        if let constValue, !constValue.schemaEquals(instance) {
            violations.append(SchemaViolation(at: pointer, "const", "must be \(constValue.description)"))
        }
        switch instance {
        case .object(let members): validateObject(members, at: pointer, into: &violations)
        case .array(let elements): validateArray(elements, at: pointer, into: &violations)
        case .string(let text): validateString(text, at: pointer, into: &violations)
        case .int, .double: validateNumber(instance.numberValue ?? 0, at: pointer, into: &violations)
        case .null, .bool: break
        }
        for node in allOf {
            node.validate(instance, at: pointer, into: &violations)
        }
        if let ifSchema {
            if ifSchema.isValid(instance) {
                thenSchema?.validate(instance, at: pointer, into: &violations)
            } else {
                elseSchema?.validate(instance, at: pointer, into: &violations)
            }
        }
    }

    /// Whether `instance` satisfies this node; used for `if` and by callers that need only a yes/no.
    func isValid(_ instance: JSONValue) -> Bool {
        var violations: [SchemaViolation] = []
        validate(instance, at: "", into: &violations)
        return violations.isEmpty
    }

    /// The member names of `object` this node "evaluates" in the sense of `unevaluatedProperties`:
    /// declared `properties`, everything when `additionalProperties` is present, and the names
    /// evaluated by `allOf` items and by whichever of `if`+`then` / `else` applies.
    func evaluatedPropertyNames(of object: [String: JSONValue]) -> Set<String> {
        if let alwaysValid { return alwaysValid ? Set(object.keys) : [] }
        if unevaluatedProperties != nil { return Set(object.keys) }
        return locallyEvaluatedPropertyNames(of: object)
    }

    private func validateObject(_ members: [String: JSONValue], at pointer: String, into violations: inout [SchemaViolation]) {
        for name in required where members[name] == nil {
            violations.append(
                SchemaViolation(at: JSONPointer.appending(pointer, name), "required", "is required but missing"))
        }
        for (name, value) in members {
            let childPointer = JSONPointer.appending(pointer, name)
            if let schema = properties[name] {
                schema.validate(value, at: childPointer, into: &violations)
            } else if let additionalProperties {
                if additionalProperties.alwaysValid == false {
                    violations.append(
                        SchemaViolation(at: childPointer, "additionalProperties", "is not a property the schema allows"))
                } else {
                    additionalProperties.validate(value, at: childPointer, into: &violations)
                }
            }
        }
        if let unevaluatedProperties {
            let evaluated = locallyEvaluatedPropertyNames(of: members)
            for name in members.keys where !evaluated.contains(name) {
                let childPointer = JSONPointer.appending(pointer, name)
                if unevaluatedProperties.alwaysValid == false {
                    violations.append(
                        SchemaViolation(at: childPointer, "unevaluatedProperties", "is not a property the schema defines"))
                } else if let value = members[name] {
                    unevaluatedProperties.validate(value, at: childPointer, into: &violations)
                }
            }
        }
    }

    /// The evaluated names at this level, not counting this node's own `unevaluatedProperties`.
    private func locallyEvaluatedPropertyNames(of object: [String: JSONValue]) -> Set<String> {
        var names = Set(object.keys.filter { properties[$0] != nil })
        if additionalProperties != nil { names.formUnion(object.keys) }
        for node in allOf {
            names.formUnion(node.evaluatedPropertyNames(of: object))
        }
        if let ifSchema {
            if ifSchema.isValid(.object(object)) {
                names.formUnion(ifSchema.evaluatedPropertyNames(of: object))
                if let thenSchema { names.formUnion(thenSchema.evaluatedPropertyNames(of: object)) }
            } else if let elseSchema {
                names.formUnion(elseSchema.evaluatedPropertyNames(of: object))
            }
        }
        return names
    }

    private func validateArray(_ elements: [JSONValue], at pointer: String, into violations: inout [SchemaViolation]) {
        if let minItems, elements.count < minItems {
            violations.append(SchemaViolation(at: pointer, "minItems", "must have at least \(minItems) items"))
        }
        if let maxItems, elements.count > maxItems {
            violations.append(SchemaViolation(at: pointer, "maxItems", "must have at most \(maxItems) items"))
        }
        if uniqueItems {
            outer: for i in elements.indices {
                for j in elements.indices where j > i && elements[i].schemaEquals(elements[j]) {
                    violations.append(SchemaViolation(at: pointer, "uniqueItems", "must not contain duplicate items"))
                    break outer
                }
            }
        }
        if let items {
            for (index, element) in elements.enumerated() {
                items.validate(element, at: JSONPointer.appending(pointer, index), into: &violations)
            }
        }
    }

    private func validateString(_ text: String, at pointer: String, into violations: inout [SchemaViolation]) {
        // JSON Schema counts characters as Unicode code points.
        let length = text.unicodeScalars.count
        if let minLength, length < minLength {
            violations.append(SchemaViolation(at: pointer, "minLength", "must be at least \(minLength) characters long"))
        }
        if let maxLength, length > maxLength {
            violations.append(SchemaViolation(at: pointer, "maxLength", "must be at most \(maxLength) characters long"))
        }
        if let pattern, let regex = try? Regex(pattern), !text.contains(regex) {
            violations.append(SchemaViolation(at: pointer, "pattern", "must match the pattern \(JSONValue.string(pattern))"))
        }
        if let format, !format.accepts(text) {
            violations.append(SchemaViolation(at: pointer, "format", "must be a valid \(format.name)"))
        }
    }

    private func validateNumber(_ number: Double, at pointer: String, into violations: inout [SchemaViolation]) {
        if let minimum, number < minimum {
            violations.append(SchemaViolation(at: pointer, "minimum", "must be at least \(Self.show(minimum))"))
        }
        if let maximum, number > maximum {
            violations.append(SchemaViolation(at: pointer, "maximum", "must be at most \(Self.show(maximum))"))
        }
        if let exclusiveMinimum, number <= exclusiveMinimum {
            violations.append(
                SchemaViolation(at: pointer, "exclusiveMinimum", "must be greater than \(Self.show(exclusiveMinimum))"))
        }
        if let exclusiveMaximum, number >= exclusiveMaximum {
            violations.append(
                SchemaViolation(at: pointer, "exclusiveMaximum", "must be less than \(Self.show(exclusiveMaximum))"))
        }
        if let multipleOf {
            let quotient = number / multipleOf
            if !quotient.isFinite || abs(quotient - quotient.rounded()) > 1e-9 {
                violations.append(SchemaViolation(at: pointer, "multipleOf", "must be a multiple of \(Self.show(multipleOf))"))
            }
        }
    }

    private static func show(_ number: Double) -> String {
        JSONValue.double(number).description
    }
}

extension JSONValue {
    /// Whether this value is of JSON Schema type `name`; an integral `.double` counts as `integer`.
    func matchesSchemaType(_ name: String) -> Bool {
        switch (name, self) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object): true
        case ("number", .int), ("number", .double), ("integer", .int): true
        case ("integer", .double(let value)): value.isFinite && value.rounded() == value
        default: false
        }
    }
}
