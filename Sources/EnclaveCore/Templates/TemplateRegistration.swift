/// The body of `POST /api/{workspace|workspace-service|shared-service|user-resource}-templates`,
/// with Azure TRE's wire names (`json_schema`, `customActions`).
public struct TemplateRegistration: Codable, Sendable, Hashable {
    public var name: String
    public var version: String
    /// Whether the new version becomes current. The store must make the first registration of a
    /// name current regardless, and flip the previous current version off when this is true.
    public var current: Bool?
    /// The template's `template_schema.json`, possibly merged with `porter explain` output.
    /// Named as on the wire so the registration body and the Swift value read the same.
    public var json_schema: JSONValue
    public var customActions: [CustomAction]?

    public init(name: String, version: String, current: Bool? = nil, json_schema: JSONValue, customActions: [CustomAction]? = nil) {
        self.name = name
        self.version = version
        self.current = current
        self.json_schema = json_schema
        self.customActions = customActions
    }

}

extension ResourceTemplate {
    /// Builds the stored template for a registration, enforcing every rule that does not need the store.
    ///
    /// Checks, in order: `name` is not empty; `json_schema` is an object; it compiles as a schema
    /// (unsupported keywords rejected with their pointer); `title`, `description` and `authorizedRoles`
    /// have the right types; `version` is semantic; the pipeline is well-formed with unique stepIds.
    /// Version conflicts (409) and the `current` flag are the store's business.
    ///
    /// - Parameters:
    ///   - type: the kind of resource the template creates (from the registration route).
    ///   - parent: the workspace-service template name, for user-resource templates.
    ///   - id: the new document's UUID (injected so tests are deterministic).
    /// - Throws: `EnclaveError.badRequest` for schema and version problems,
    ///   `EnclaveError.unprocessable` for pipeline problems (Azure TRE answers 422 there).
    public init(
        registration: TemplateRegistration, type resourceType: ResourceType, parent parentWorkspaceService: String? = nil,
        id: String
    ) throws(EnclaveError) {
        guard !registration.name.isEmpty else {
            throw .badRequest("Template name must not be empty")
        }
        guard case .object(let schema) = registration.json_schema else {
            throw .badRequest("json_schema must be a JSON object, not \(registration.json_schema.typeName)")
        }
        _ = try JSONSchema(registration.json_schema)
        func text(_ key: String) throws(EnclaveError) -> String {
            switch schema[key] {
            case nil, .null?: return ""
            case .string(let value)?: return value
            case let other?: throw .badRequest("json_schema.\(key) must be a string, not \(other.typeName)")
            }
        }
        let title = try text("title")
        let description = try text("description")
        if let roles = schema["authorizedRoles"], roles != .null,
            roles.arrayValue?.allSatisfy({ $0.stringValue != nil }) != true
        {
            throw .badRequest("json_schema.authorizedRoles must be an array of role names")
        }
        if let uiSchema = schema["uiSchema"], uiSchema != .null, uiSchema.objectValue == nil {
            throw .badRequest("json_schema.uiSchema must be an object")
        }
        guard SemanticVersion(registration.version) != nil else {
            throw .badRequest(
                "Template version '\(registration.version)' is not a semantic version (MAJOR.MINOR.PATCH with an optional -prerelease)")
        }
        if let pipelineValue = schema["pipeline"], pipelineValue != .null {
            try TemplatePipeline(json: pipelineValue).validateStepIds()
        }
        if resourceType == .userResource, parentWorkspaceService?.isEmpty ?? true {
            throw .badRequest("A user-resource template must be registered under a workspace-service template")
        }
        self.init(
            id: id, name: registration.name, title: title, description: description, version: registration.version,
            resourceType: resourceType, current: registration.current ?? false, schema: registration.json_schema,
            customActions: registration.customActions ?? [],
            parentWorkspaceService: resourceType == .userResource ? parentWorkspaceService : nil)
    }
}
