import Testing

@testable import EnclaveCore

/// One row of the keyword table: a schema, an instance, and the rules expected to fire (empty = valid).
struct SchemaCase: Sendable, CustomTestStringConvertible {
    var name: String
    var schema: JSONValue
    var instance: JSONValue
    var rules: [String]

    var testDescription: String { name }

    static func valid(_ name: String, _ schema: JSONValue, _ instance: JSONValue) -> SchemaCase {
        SchemaCase(name: name, schema: schema, instance: instance, rules: [])
    }

    static func invalid(_ name: String, _ schema: JSONValue, _ instance: JSONValue, _ rules: String...) -> SchemaCase {
        SchemaCase(name: name, schema: schema, instance: instance, rules: rules)
    }
}

let keywordCases: [SchemaCase] = [
    // type
    .valid("string is a string", ["type": "string"], "x"),
    .invalid("number is not a string", ["type": "string"], 3, "type"),
    .valid("int satisfies integer", ["type": "integer"], 3),
    .valid("integral double satisfies integer", ["type": "integer"], 3.0),
    .invalid("fractional double is not an integer", ["type": "integer"], 3.5, "type"),
    .valid("int satisfies number", ["type": "number"], 3),
    .valid("double satisfies number", ["type": "number"], 3.5),
    .invalid("bool is not a number", ["type": "number"], true, "type"),
    .valid("type list accepts any listed type", ["type": ["string", "null"]], nil),
    .invalid("type list rejects unlisted types", ["type": ["string", "null"]], 1, "type"),
    .valid("boolean", ["type": "boolean"], false),
    .valid("object", ["type": "object"], [:]),
    .invalid("array is not an object", ["type": "object"], [], "type"),
    // enum / const
    .valid("enum member", ["enum": ["small", "medium"]], "small"),
    .invalid("enum non-member", ["enum": ["small", "medium"]], "huge", "enum"),
    .valid("enum compares numbers by value", ["enum": [1, 2]], 1.0),
    .valid("const equal", ["const": true], true),
    .invalid("const different", ["const": true], false, "const"),
    .valid("const null", ["const": nil], nil),
    .invalid("const null rejects values", ["const": nil], 0, "const"),
    // default and annotations
    .valid(
        "annotations never fail",
        [
            "title": "t", "description": "d", "default": "anything", "examples": [1], "$comment": "c",
            "readOnly": true, "writeOnly": false, "updateable": true, "sensitive": true, "x-ui": ["a": 1],
        ], "value"),
    // properties / required / additionalProperties
    .valid("declared property", ["properties": ["a": ["type": "string"]]], ["a": "x"]),
    .invalid("declared property of the wrong type", ["properties": ["a": ["type": "string"]]], ["a": 1], "type"),
    .invalid("missing required property", ["required": ["a"]], [:], "required"),
    .valid("required property present", ["required": ["a"]], ["a": nil]),
    .invalid(
        "additionalProperties false rejects undeclared", ["properties": ["a": true], "additionalProperties": false],
        ["a": 1, "b": 2], "additionalProperties"),
    .invalid(
        "additionalProperties schema applies to undeclared", ["additionalProperties": ["type": "integer"]],
        ["b": "x"], "type"),
    .invalid(
        "unevaluatedProperties false rejects what no branch declares",
        [
            "properties": ["a": true], "unevaluatedProperties": false,
            "allOf": [["if": ["properties": ["a": ["const": 1]]], "then": ["properties": ["b": true]]]],
        ], ["a": 2, "b": 1], "unevaluatedProperties"),
    .valid(
        "unevaluatedProperties false accepts what an applicable branch declares",
        [
            "properties": ["a": true], "unevaluatedProperties": false,
            "allOf": [["if": ["properties": ["a": ["const": 1]]], "then": ["properties": ["b": true]]]],
        ], ["a": 1, "b": 1]),
    .invalid("nested object property is checked", ["properties": ["o": ["properties": ["n": ["type": "integer"]]]]],
        ["o": ["n": "x"]], "type"),
    // arrays
    .valid("items all match", ["items": ["type": "string"]], ["a", "b"]),
    .invalid("an item does not match", ["items": ["type": "string"]], ["a", 1], "type"),
    .invalid("too few items", ["minItems": 2], [1], "minItems"),
    .invalid("too many items", ["maxItems": 1], [1, 2], "maxItems"),
    .valid("item count within bounds", ["minItems": 1, "maxItems": 2], [1, 2]),
    .invalid("duplicate items", ["uniqueItems": true], [1, 2, 1.0], "uniqueItems"),
    .valid("distinct items", ["uniqueItems": true], [["a": 1], ["a": 2]]),
    // numbers
    .invalid("below minimum", ["minimum": 1], 0, "minimum"),
    .valid("at minimum", ["minimum": 1], 1),
    .invalid("above maximum", ["maximum": 1.5], 2, "maximum"),
    .invalid("at exclusive minimum", ["exclusiveMinimum": 1], 1, "exclusiveMinimum"),
    .invalid("at exclusive maximum", ["exclusiveMaximum": 1], 1, "exclusiveMaximum"),
    .valid("inside exclusive bounds", ["exclusiveMinimum": 0, "exclusiveMaximum": 1], 0.5),
    .invalid("not a multiple", ["multipleOf": 5], 12, "multipleOf"),
    .valid("number rules ignore strings", ["minimum": 5], "3"),
    // strings
    .invalid("too short", ["minLength": 3], "ab", "minLength"),
    .invalid("too long", ["maxLength": 3], "abcd", "maxLength"),
    .valid("length counts code points", ["maxLength": 2], "é🙂"),
    .valid("pattern matches anywhere", ["pattern": "[0-9]+"], "ab12"),
    .invalid("pattern does not match", ["pattern": "^[a-z]+$"], "ab12", "pattern"),
    // allOf / if / then / else
    .invalid("every allOf item applies", ["allOf": [["type": "string"], ["minLength": 2]]], "a", "minLength"),
    .invalid(
        "then applies when if holds",
        ["if": ["properties": ["k": ["const": "custom"]], "required": ["k"]], "then": ["required": ["v"]]],
        ["k": "custom"], "required"),
    .valid(
        "then does not apply when if fails",
        ["if": ["properties": ["k": ["const": "custom"]], "required": ["k"]], "then": ["required": ["v"]]],
        ["k": "small"]),
    .invalid(
        "else applies when if fails", ["if": ["required": ["k"]], "else": ["properties": ["x": ["type": "string"]]]],
        ["x": 1], "type"),
    // formats
    .valid("uuid", ["format": "uuid"], "933ad738-7265-4b5f-9eae-a1a62928772e"),
    .invalid("not a uuid", ["format": "uuid"], "933ad738-7265-4b5f-9eae", "format"),
    .valid("date-time", ["format": "date-time"], "2024-02-29T13:45:00.123+01:00"),
    .invalid("not a date-time", ["format": "date-time"], "2023-02-29T13:45:00Z", "format"),
    .valid("uri", ["format": "uri"], "https://example.org/a?b=c"),
    .invalid("relative reference is not a uri", ["format": "uri"], "/just/a/path", "format"),
    .valid("email", ["format": "email"], "ada@example.org"),
    .invalid("not an email", ["format": "email"], "ada at example.org", "format"),
    .valid("ipv4", ["format": "ipv4"], "10.0.1.255"),
    .invalid("not an ipv4", ["format": "ipv4"], "10.0.1.256", "format"),
    .valid("unknown formats are ignored", ["format": "password"], "anything"),
    .valid("formats ignore non-strings", ["format": "uuid"], 1),
    // boolean schemas
    .valid("true schema", true, ["anything": 1]),
    .invalid("false schema", false, 1, "false"),
]

let unsupportedKeywordCases: [(String, JSONValue, String)] = [
    ("oneOf", ["properties": ["foo": ["oneOf": [["type": "string"]]]]], "/properties/foo"),
    ("$ref", ["$ref": "#/definitions/x"], "/"),
    ("patternProperties", ["allOf": [["then": ["patternProperties": [:]]]]], "/allOf/0/then"),
    ("dependencies", ["items": ["dependencies": [:]]], "/items"),
    ("name", ["properties": ["a": ["name": "only allowed at the root"]]], "/properties/a"),
]

let malformedKeywordCases: [(JSONValue, String)] = [
    (["type": "text"], "Template schema keyword 'type' at /type names unknown type 'text'"),
    (["required": "a"], "Template schema keyword 'required' at /required must be an array"),
    (
        ["properties": ["a": ["minLength": -1]]],
        "Template schema keyword 'minLength' at /properties/a/minLength must be a non-negative integer"
    ),
    (["pattern": "("], "Template schema keyword 'pattern' at /pattern is not a valid regular expression"),
    (["properties": ["a": 3]], "Template schema at /properties/a must be an object or a boolean, not integer"),
]

@Suite("JSON Schema subset")
struct JSONSchemaTests {
    @Test(arguments: keywordCases)
    func keywordBehavesAsJSONSchemaSays(_ row: SchemaCase) throws {
        let schema = try JSONSchema(row.schema)
        let rules = schema.validate(row.instance).map(\.rule)
        #expect(rules == row.rules, "\(row.name): \(schema.validate(row.instance).map(\.message))")
        #expect(schema.isValid(row.instance) == row.rules.isEmpty)
    }

    @Test(arguments: unsupportedKeywordCases)
    func unsupportedKeywordIsRejectedWithItsPointer(keyword: String, schema: JSONValue, pointer: String) {
        #expect(throws: EnclaveError.badRequest("Template schema uses unsupported keyword '\(keyword)' at \(pointer)")) {
            try JSONSchema(schema)
        }
    }

    @Test
    func dataKeywordsAreNotScannedForKeywords() throws {
        let schema: JSONValue = [
            "default": ["oneOf": 1], "const": ["$ref": "x"], "enum": [["allOf": 1]], "examples": [["not": 1]],
            "uiSchema": ["ui:widget": "textarea", "oneOf": 1], "pipeline": ["install": [["stepId": "main", "$ref": 1]]],
        ]
        _ = try JSONSchema(schema)
    }

    @Test
    func rootOnlyTemplateFieldsAreAcceptedAtTheRoot() throws {
        _ = try JSONSchema([
            "name": "t", "version": "1.0.0", "current": true, "resourceType": "workspace", "id": "x",
            "authorizedRoles": [], "customActions": [], "actions": [], "unevaluatedProperties": false,
        ])
    }

    @Test(arguments: malformedKeywordCases)
    func malformedKeywordValueIsRejectedWithItsPointer(schema: JSONValue, message: String) {
        #expect(throws: EnclaveError.badRequest(message)) { try JSONSchema(schema) }
    }

    @Test
    func violationsAreSortedByPointerAndReadAsSentences() throws {
        let schema = try JSONSchema([
            "required": ["display_name"],
            "properties": ["address_space_size": ["enum": ["small", "medium"]], "a": ["type": "string"]],
        ])
        let violations = schema.validate(["address_space_size": "huge", "a": 1])
        #expect(violations.map(\.pointer) == ["/a", "/address_space_size", "/display_name"])
        #expect(violations[1].message == #"/address_space_size: must be one of ["small","medium"] (enum)"#)
        #expect(violations[2].rule == "required")
    }

    @Test
    func pointersEscapeSlashAndTilde() throws {
        let schema = try JSONSchema(["properties": ["a/b~c": ["type": "string"]]])
        #expect(schema.validate(["a/b~c": 1]).map(\.pointer) == ["/a~1b~0c"])
    }

    @Test
    func arrayItemViolationsPointAtTheIndex() throws {
        let schema = try JSONSchema(["properties": ["uris": ["items": ["required": ["name"]]]]])
        #expect(schema.validate(["uris": [["name": "a"], [:]]]).map(\.pointer) == ["/uris/1/name"])
    }
}
