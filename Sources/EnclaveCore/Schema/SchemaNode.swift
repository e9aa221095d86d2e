/// The compiled form of one schema object: every keyword already type-checked, so validation never
/// meets a malformed keyword and can stay non-throwing.
///
/// A final class (immutable, hence Sendable) because schemas nest recursively.
final class SchemaNode: Sendable {
    /// `true`/`false` boolean schemas; nil for object schemas.
    let alwaysValid: Bool?
    let types: [String]?
    let enumValues: [JSONValue]?
    /// The `const` value; `.some(.null)` means "must be null", nil means no `const`.
    let constValue: JSONValue?
    let properties: [String: SchemaNode]
    let required: [String]
    let additionalProperties: SchemaNode?
    let unevaluatedProperties: SchemaNode?
    let items: SchemaNode?
    let minItems: Int?
    let maxItems: Int?
    let uniqueItems: Bool
    let minimum: Double?
    let maximum: Double?
    let exclusiveMinimum: Double?
    let exclusiveMaximum: Double?
    let multipleOf: Double?
    let minLength: Int?
    let maxLength: Int?
    /// Kept as text: `Regex` is not Sendable, so it is compiled once here to check it and again per use.
    let pattern: String?
    let format: SchemaFormat?
    let allOf: [SchemaNode]
    let ifSchema: SchemaNode?
    let thenSchema: SchemaNode?
    let elseSchema: SchemaNode?

    /// Keywords that carry data or documentation only; their values are never scanned for keywords.
    static let annotationKeywords: Set<String> = [
        "$schema", "$id", "$comment", "title", "description", "default", "examples", "readOnly", "writeOnly",
        "deprecated",
        // Azure TRE's extensions.
        "updateable", "sensitive", "authorizedRoles", "uiSchema", "customActions", "pipeline", "actions",
        "parentWorkspaceService",
    ]

    /// Fields of Azure TRE's stored template document, allowed only at the root of a template schema.
    static let rootOnlyKeywords: Set<String> = ["name", "version", "current", "resourceType", "id", "system_properties"]

    static let validationKeywords: Set<String> = [
        "type", "enum", "const", "properties", "required", "additionalProperties", "unevaluatedProperties",
        "items", "minItems", "maxItems", "uniqueItems", "minimum", "maximum", "exclusiveMinimum",
        "exclusiveMaximum", "multipleOf", "minLength", "maxLength", "pattern", "format", "allOf", "if", "then",
        "else",
    ]

    static let typeNames: Set<String> = ["null", "boolean", "integer", "number", "string", "array", "object"]

    private init(alwaysValid: Bool) {
        self.alwaysValid = alwaysValid
        types = nil
        enumValues = nil
        constValue = nil
        properties = [:]
        required = []
        additionalProperties = nil
        unevaluatedProperties = nil
        items = nil
        minItems = nil
        maxItems = nil
        uniqueItems = false
        minimum = nil
        maximum = nil
        exclusiveMinimum = nil
        exclusiveMaximum = nil
        multipleOf = nil
        minLength = nil
        maxLength = nil
        pattern = nil
        format = nil
        allOf = []
        ifSchema = nil
        thenSchema = nil
        elseSchema = nil
    }

    private init(_ object: [String: JSONValue], at pointer: String) throws(EnclaveError) {
        let reader = KeywordReader(object: object, pointer: pointer)
        alwaysValid = nil
        types = try reader.types()
        enumValues = try reader.array("enum")
        constValue = object["const"]
        let propertyObject = try reader.object("properties") ?? [:]
        var compiled: [String: SchemaNode] = [:]
        for name in propertyObject.keys.sorted() {
            if let value = propertyObject[name] {
                let childPointer = JSONPointer.appending(JSONPointer.appending(pointer, "properties"), name)
                compiled[name] = try SchemaNode.compile(value, at: childPointer)
            }
        }
        properties = compiled
        required = try reader.strings("required") ?? []
        additionalProperties = try reader.subschema("additionalProperties")
        unevaluatedProperties = try reader.subschema("unevaluatedProperties")
        items = try reader.subschema("items")
        minItems = try reader.count("minItems")
        maxItems = try reader.count("maxItems")
        uniqueItems = try reader.bool("uniqueItems") ?? false
        minimum = try reader.number("minimum")
        maximum = try reader.number("maximum")
        exclusiveMinimum = try reader.number("exclusiveMinimum")
        exclusiveMaximum = try reader.number("exclusiveMaximum")
        multipleOf = try reader.number("multipleOf")
        if let multipleOf, multipleOf <= 0 {
            throw reader.malformed("multipleOf", "must be greater than 0")
        }
        minLength = try reader.count("minLength")
        maxLength = try reader.count("maxLength")
        pattern = try reader.string("pattern")
        if let pattern, (try? Regex(pattern)) == nil {
            throw reader.malformed("pattern", "is not a valid regular expression")
        }
        format = try reader.string("format").map(SchemaFormat.init(name:))
        var allOfNodes: [SchemaNode] = []
        for (index, item) in (try reader.array("allOf") ?? []).enumerated() {
            allOfNodes.append(try SchemaNode.compile(item, at: JSONPointer.appending(pointer + "/allOf", index)))
        }
        allOf = allOfNodes
        ifSchema = try reader.subschema("if")
        thenSchema = try reader.subschema("then")
        elseSchema = try reader.subschema("else")
    }

    /// Compiles a schema value (object or boolean), rejecting unknown keywords anywhere below it.
    static func compile(_ value: JSONValue, at pointer: String, isRoot: Bool = false) throws(EnclaveError) -> SchemaNode {
        switch value {
        case .bool(let flag):
            return SchemaNode(alwaysValid: flag)
        case .object(let object):
            for key in object.keys.sorted() {
                let allowed = validationKeywords.contains(key) || annotationKeywords.contains(key)
                    || key.hasPrefix("x-") || (isRoot && rootOnlyKeywords.contains(key))
                if !allowed {
                    throw .badRequest(
                        "Template schema uses unsupported keyword '\(key)' at \(pointer.isEmpty ? "/" : pointer)")
                }
            }
            return try SchemaNode(object, at: pointer)
        default:
            throw .badRequest(
                "Template schema at \(pointer.isEmpty ? "/" : pointer) must be an object or a boolean, not \(value.typeName)")
        }
    }
}

/// Reads keyword values from one schema object and reports malformed ones with their pointer.
private struct KeywordReader {
    let object: [String: JSONValue]
    let pointer: String

    func malformed(_ keyword: String, _ problem: String) -> EnclaveError {
        .badRequest("Template schema keyword '\(keyword)' at \(JSONPointer.appending(pointer, keyword)) \(problem)")
    }

    func types() throws(EnclaveError) -> [String]? {
        guard let value = object["type"] else { return nil }
        let names: [String]
        switch value {
        case .string(let name): names = [name]
        case .array(let items):
            var collected: [String] = []
            for item in items {
                guard let name = item.stringValue else { throw malformed("type", "must list type names") }
                collected.append(name)
            }
            names = collected
        default:
            throw malformed("type", "must be a type name or a list of type names")
        }
        for name in names where !SchemaNode.typeNames.contains(name) {
            throw malformed("type", "names unknown type '\(name)'")
        }
        return names
    }

    func array(_ keyword: String) throws(EnclaveError) -> [JSONValue]? {
        guard let value = object[keyword] else { return nil }
        guard let items = value.arrayValue else { throw malformed(keyword, "must be an array") }
        return items
    }

    func object(_ keyword: String) throws(EnclaveError) -> [String: JSONValue]? {
        guard let value = object[keyword] else { return nil }
        guard let members = value.objectValue else { throw malformed(keyword, "must be an object") }
        return members
    }

    func strings(_ keyword: String) throws(EnclaveError) -> [String]? {
        guard let items = try array(keyword) else { return nil }
        var result: [String] = []
        for item in items {
            guard let text = item.stringValue else { throw malformed(keyword, "must be an array of strings") }
            result.append(text)
        }
        return result
    }

    func string(_ keyword: String) throws(EnclaveError) -> String? {
        guard let value = object[keyword] else { return nil }
        guard let text = value.stringValue else { throw malformed(keyword, "must be a string") }
        return text
    }

    func bool(_ keyword: String) throws(EnclaveError) -> Bool? {
        guard let value = object[keyword] else { return nil }
        guard let flag = value.boolValue else { throw malformed(keyword, "must be a boolean") }
        return flag
    }

    func number(_ keyword: String) throws(EnclaveError) -> Double? {
        guard let value = object[keyword] else { return nil }
        guard let number = value.numberValue else { throw malformed(keyword, "must be a number") }
        return number
    }

    func count(_ keyword: String) throws(EnclaveError) -> Int? {
        guard let value = object[keyword] else { return nil }
        guard let count = value.intValue, count >= 0 else { throw malformed(keyword, "must be a non-negative integer") }
        return count
    }

    func subschema(_ keyword: String) throws(EnclaveError) -> SchemaNode? {
        guard let value = object[keyword] else { return nil }
        return try SchemaNode.compile(value, at: JSONPointer.appending(pointer, keyword))
    }
}
