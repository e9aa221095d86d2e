/// A compiled JSON Schema, restricted to the subset Azure TRE templates use.
///
/// No JSON Schema validator exists in our package set, so Enclave implements the keywords templates
/// need and rejects every other keyword when the schema is compiled. Rejecting up front (rather than
/// ignoring) means a template can never look valid while a constraint it relies on is silently skipped.
///
/// Supported: `type` (one or a list), `enum`, `const`, `properties`, `required`,
/// `additionalProperties`, `unevaluatedProperties` (boolean or schema), `items`, `minItems`, `maxItems`,
/// `uniqueItems`, `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`, `multipleOf`,
/// `minLength`, `maxLength`, `pattern`, `allOf`, `if`/`then`/`else`, `format` (`uuid`, `date-time`,
/// `uri`, `email`, `ipv4` are checked; other format names are accepted and ignored).
/// Annotations (`title`, `description`, `default`, `examples`, `$schema`, `$id`, `$comment`,
/// `readOnly`, `writeOnly`, `x-…`) and Azure TRE's extensions (`updateable`, `sensitive`,
/// `authorizedRoles`, `uiSchema`, `customActions`, `pipeline`, `actions`, `parentWorkspaceService`)
/// are accepted and ignored.
public struct JSONSchema: Sendable {
    let root: SchemaNode

    /// The schema as it was given, so callers can still read annotations such as `default` or `updateable`.
    public let source: JSONValue

    /// Compiles `schema`, checking every keyword and keyword value.
    ///
    /// - Throws: `EnclaveError.badRequest` naming the first unsupported keyword or malformed keyword
    ///   value together with its JSON Pointer inside the schema, e.g.
    ///   "Template schema uses unsupported keyword 'oneOf' at /properties/foo".
    public init(_ schema: JSONValue) throws(EnclaveError) {
        self.source = schema
        self.root = try SchemaNode.compile(schema, at: "", isRoot: true)
    }

    /// Checks `instance` against the schema and returns every rule it breaks.
    ///
    /// Returns an empty array when the instance is valid. Violations are sorted by instance pointer
    /// (then rule) so messages built from them are stable.
    public func validate(_ instance: JSONValue) -> [SchemaViolation] {
        validate(instance, at: "")
    }

    /// Validates `instance` as if it sat at `pointer` inside a larger document, so violations of a
    /// single property's schema read as violations of that property.
    func validate(_ instance: JSONValue, at pointer: String) -> [SchemaViolation] {
        var violations: [SchemaViolation] = []
        root.validate(instance, at: pointer, into: &violations)
        return Self.sortedUnique(violations)
    }

    /// Whether `instance` satisfies the schema; cheaper to read than `validate(_:).isEmpty`.
    public func isValid(_ instance: JSONValue) -> Bool {
        root.isValid(instance)
    }

    static func sortedUnique(_ violations: [SchemaViolation]) -> [SchemaViolation] {
        var seen = Set<SchemaViolation>()
        return violations.filter { seen.insert($0).inserted }
            .sorted { ($0.pointer, $0.rule, $0.message) < ($1.pointer, $1.rule, $1.message) }
    }
}

/// One rule an instance breaks, located by a JSON Pointer into the instance.
///
/// Kept as data (not only text) so the API can report all problems in one response and tests can
/// assert on the rule that fired rather than on wording.
public struct SchemaViolation: Sendable, Hashable, CustomStringConvertible {
    /// JSON Pointer into the validated instance, e.g. `/address_space_size`; `""` is the instance itself.
    public var pointer: String
    /// The schema keyword that was broken, e.g. `enum`, `required`, `type`.
    public var rule: String
    /// A sentence a person can act on, starting with the pointer, e.g.
    /// `/address_space_size: must be one of ["small","medium"] (enum)`.
    public var message: String

    public init(pointer: String, rule: String, message: String) {
        self.pointer = pointer
        self.rule = rule
        self.message = message
    }

    /// Builds the violation with the standard message layout "<pointer>: <problem> (<rule>)".
    init(at pointer: String, _ rule: String, _ problem: String) {
        self.pointer = pointer
        self.rule = rule
        self.message = "\(pointer.isEmpty ? "/" : pointer): \(problem) (\(rule))"
    }

    public var description: String { message }
}

/// JSON Pointer helpers shared by schema compilation and validation.
enum JSONPointer {
    /// Escapes one reference token (RFC 6901: `~` → `~0`, `/` → `~1`).
    static func escape(_ token: String) -> String {
        token.replacing("~", with: "~0").replacing("/", with: "~1")
    }

    static func appending(_ pointer: String, _ token: String) -> String {
        pointer + "/" + escape(token)
    }

    static func appending(_ pointer: String, _ index: Int) -> String {
        pointer + "/" + String(index)
    }
}

extension JSONValue {
    /// JSON equality as JSON Schema defines it: numbers compare by value, so `1` equals `1.0`.
    func schemaEquals(_ other: JSONValue) -> Bool {
        switch (self, other) {
        case (.int(let a), .int(let b)): return a == b
        case (.int, .double), (.double, .int), (.double, .double):
            return numberValue == other.numberValue
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.schemaEquals($1) }
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            for (key, value) in a {
                guard let otherValue = b[key], value.schemaEquals(otherValue) else { return false }
            }
            return true
        default:
            return self == other
        }
    }
}
