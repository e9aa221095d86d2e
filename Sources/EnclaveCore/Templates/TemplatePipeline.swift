/// A template's multi-step pipeline: for install, upgrade and uninstall, the ordered steps that run
/// on this resource (`main`) and on related resources (e.g. adding a firewall rule collection).
///
/// Field names are Azure TRE's, so a `template_schema.json` `pipeline` block decodes unchanged.
public struct TemplatePipeline: Codable, Sendable, Hashable {
    public var install: [PipelineStep]?
    public var upgrade: [PipelineStep]?
    public var uninstall: [PipelineStep]?

    public init(install: [PipelineStep]? = nil, upgrade: [PipelineStep]? = nil, uninstall: [PipelineStep]? = nil) {
        self.install = install
        self.upgrade = upgrade
        self.uninstall = uninstall
    }

    /// The steps for `action` (`install`, `upgrade`, `uninstall`); nil for other actions or when absent.
    public func steps(for action: String) -> [PipelineStep]? {
        switch action {
        case "install": install
        case "upgrade": upgrade
        case "uninstall": uninstall
        default: nil
        }
    }

    /// Reads a pipeline from its JSON form in a template schema.
    ///
    /// - Throws: `EnclaveError.unprocessable` naming the malformed field, as a template with an
    ///   unusable pipeline cannot be registered.
    public init(json: JSONValue) throws(EnclaveError) {
        guard let object = json.objectValue else {
            throw .unprocessable("Invalid template - pipeline must be an object")
        }
        for key in object.keys.sorted() where !["install", "upgrade", "uninstall"].contains(key) {
            throw .unprocessable("Invalid template - pipeline action '\(key)' is not one of install, upgrade, uninstall")
        }
        func steps(_ action: String) throws(EnclaveError) -> [PipelineStep]? {
            guard let value = object[action], value != .null else { return nil }
            guard let items = value.arrayValue else {
                throw .unprocessable("Invalid template - pipeline.\(action) must be an array of steps")
            }
            var result: [PipelineStep] = []
            for (index, item) in items.enumerated() {
                result.append(try PipelineStep(json: item, at: "pipeline.\(action)[\(index)]"))
            }
            return result
        }
        self.init(install: try steps("install"), upgrade: try steps("upgrade"), uninstall: try steps("uninstall"))
    }

    /// Checks Azure TRE's registration rule: stepIds are unique across the whole pipeline except
    /// `main`, which may appear at most once per action.
    ///
    /// - Throws: `EnclaveError.unprocessable` with Azure TRE's message
    ///   "Invalid template - duplicate stepIds are not allowed. stepId: <id>".
    public func validateStepIds() throws(EnclaveError) {
        var seen = Set<String>()
        for steps in [install, upgrade, uninstall] {
            var mainSteps = 0
            for step in steps ?? [] {
                if step.stepId == "main" { mainSteps += 1 }
                if seen.contains(step.stepId) || mainSteps > 1 {
                    throw .unprocessable("Invalid template - duplicate stepIds are not allowed. stepId: \(step.stepId)")
                }
                if step.stepId != "main" { seen.insert(step.stepId) }
            }
        }
    }
}

/// One step of a pipeline: `main` (the resource's own deployment) or an update of another resource.
public struct PipelineStep: Codable, Sendable, Hashable {
    /// `main`, or a unique id (Azure TRE templates use UUIDs).
    public var stepId: String
    public var stepTitle: String?
    /// For `shared-service` targets: the template name of the singleton shared service to update.
    public var resourceTemplateName: String?
    /// The target's type: `shared-service`, or `workspace` / `workspace-service` for the primary resource's parents.
    public var resourceType: ResourceType?
    /// The action run on the target; Azure TRE supports only `upgrade` for non-main steps.
    public var resourceAction: String?
    /// Property updates applied to the target (with `{{ }}` substitution) before the step runs.
    public var properties: [PipelineStepProperty]?

    public init(
        stepId: String, stepTitle: String? = nil, resourceTemplateName: String? = nil, resourceType: ResourceType? = nil,
        resourceAction: String? = nil, properties: [PipelineStepProperty]? = nil
    ) {
        self.stepId = stepId
        self.stepTitle = stepTitle
        self.resourceTemplateName = resourceTemplateName
        self.resourceType = resourceType
        self.resourceAction = resourceAction
        self.properties = properties
    }

    /// Whether this is the resource's own deployment step rather than an update of another resource.
    public var isMain: Bool { stepId == "main" }

    init(json: JSONValue, at location: String) throws(EnclaveError) {
        guard let object = json.objectValue else {
            throw .unprocessable("Invalid template - \(location) must be an object")
        }
        let fields = TemplateFields(object: object, location: location)
        guard let stepId = try fields.string("stepId") else {
            throw .unprocessable("Invalid template - \(location) has no stepId")
        }
        var resourceType: ResourceType?
        if let typeName = try fields.string("resourceType") {
            guard let parsed = ResourceType(rawValue: typeName) else {
                throw .unprocessable("Invalid template - \(location).resourceType '\(typeName)' is not a resource type")
            }
            resourceType = parsed
        }
        var properties: [PipelineStepProperty]?
        if let value = object["properties"], value != .null {
            guard let items = value.arrayValue else {
                throw .unprocessable("Invalid template - \(location).properties must be an array")
            }
            var parsed: [PipelineStepProperty] = []
            for (index, item) in items.enumerated() {
                parsed.append(try PipelineStepProperty(json: item, at: "\(location).properties[\(index)]"))
            }
            properties = parsed
        }
        self.init(
            stepId: stepId, stepTitle: try fields.string("stepTitle"),
            resourceTemplateName: try fields.string("resourceTemplateName"), resourceType: resourceType,
            resourceAction: try fields.string("resourceAction"), properties: properties)
    }
}

/// How a pipeline step changes an array property of the target resource.
public enum ArraySubstitutionAction: String, Codable, Sendable, Hashable, CaseIterable {
    /// Replace the whole array with `[value]`.
    case overwrite
    /// Add `value` at the end.
    case append
    /// Replace the element whose `arrayMatchField` equals the value's, or append when none does.
    case replace
    /// Remove the elements whose `arrayMatchField` equals the value's.
    case remove
}

/// One property a pipeline step sets on its target resource.
public struct PipelineStepProperty: Codable, Sendable, Hashable {
    public var name: String
    /// The property's JSON type, e.g. `string` or `array` (only `array` changes behaviour).
    public var type: String
    /// A string or object that may contain `{{ resource… }}` tokens; `.null` when absent.
    public var value: JSONValue
    /// For `type: array`: how the substituted value combines with the existing array. Azure TRE
    /// writes `""` for "none", which decodes to nil.
    public var arraySubstitutionAction: ArraySubstitutionAction?
    /// For `replace`/`remove`: the member of array elements that identifies them.
    public var arrayMatchField: String?

    public init(
        name: String, type: String, value: JSONValue, arraySubstitutionAction: ArraySubstitutionAction? = nil,
        arrayMatchField: String? = nil
    ) {
        self.name = name
        self.type = type
        self.value = value
        self.arraySubstitutionAction = arraySubstitutionAction
        self.arrayMatchField = arrayMatchField
    }

    enum CodingKeys: String, CodingKey {
        case name, type, value, arraySubstitutionAction, arrayMatchField
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        type = try container.decode(String.self, forKey: .type)
        value = try container.decodeIfPresent(JSONValue.self, forKey: .value) ?? .null
        let action = try container.decodeIfPresent(String.self, forKey: .arraySubstitutionAction) ?? ""
        if action.isEmpty {
            arraySubstitutionAction = nil
        } else if let parsed = ArraySubstitutionAction(rawValue: action) {
            arraySubstitutionAction = parsed
        } else {
            throw DecodingError.dataCorruptedError(
                forKey: .arraySubstitutionAction, in: container,
                debugDescription: "'\(action)' is not one of overwrite, append, replace, remove")
        }
        let matchField = try container.decodeIfPresent(String.self, forKey: .arrayMatchField) ?? ""
        arrayMatchField = matchField.isEmpty ? nil : matchField
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(type, forKey: .type)
        try container.encode(value, forKey: .value)
        try container.encodeIfPresent(arraySubstitutionAction, forKey: .arraySubstitutionAction)
        try container.encodeIfPresent(arrayMatchField, forKey: .arrayMatchField)
    }

    init(json: JSONValue, at location: String) throws(EnclaveError) {
        guard let object = json.objectValue else {
            throw .unprocessable("Invalid template - \(location) must be an object")
        }
        let fields = TemplateFields(object: object, location: location)
        guard let name = try fields.string("name") else {
            throw .unprocessable("Invalid template - \(location) has no name")
        }
        guard let type = try fields.string("type") else {
            throw .unprocessable("Invalid template - \(location) has no type")
        }
        var action: ArraySubstitutionAction?
        if let text = try fields.string("arraySubstitutionAction"), !text.isEmpty {
            guard let parsed = ArraySubstitutionAction(rawValue: text) else {
                throw .unprocessable(
                    "Invalid template - \(location).arraySubstitutionAction '\(text)' is not one of overwrite, append, replace, remove")
            }
            action = parsed
        }
        let matchField = try fields.string("arrayMatchField")
        self.init(
            name: name, type: type, value: object["value"] ?? .null, arraySubstitutionAction: action,
            arrayMatchField: matchField?.isEmpty == false ? matchField : nil)
    }
}

/// Reads optional string fields of a pipeline object, reporting a wrong type as 422.
private struct TemplateFields {
    let object: [String: JSONValue]
    let location: String

    func string(_ key: String) throws(EnclaveError) -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        case let other?:
            throw .unprocessable("Invalid template - \(location).\(key) must be a string, not \(other.typeName)")
        }
    }
}
