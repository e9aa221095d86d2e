/// A registered template version: what a workspace, service, user resource or shared service may be
/// created from, in Azure TRE's `ResourceTemplates` document shape.
///
/// The registered `json_schema` is kept whole in `schema` so that nothing an author wrote (uiSchema
/// hints, conditional `allOf` branches, unknown-to-us annotations) is lost between registration and
/// the enriched template the API returns; the typed accessors read from it.
public struct ResourceTemplate: Codable, Sendable, Hashable {
    /// UUID of this template version's document.
    public var id: String
    /// Bundle name, e.g. `tre-workspace-base`; unique per resource type (and parent service for user resources).
    public var name: String
    /// From `json_schema.title`.
    public var title: String
    /// From `json_schema.description`.
    public var description: String
    /// `MAJOR.MINOR.PATCH[-pre]`, checked at registration.
    public var version: String
    public var resourceType: ResourceType
    /// Whether this is the version new resources get; exactly one per name (the store keeps that invariant).
    public var current: Bool
    /// The `json_schema` object exactly as registered.
    public var schema: JSONValue
    /// Actions beyond install/upgrade/uninstall (e.g. `start`, `stop`) that `invoke-action` accepts.
    public var customActions: [CustomAction]
    /// For user-resource templates: the name of the workspace-service template they belong under.
    public var parentWorkspaceService: String?

    public init(
        id: String, name: String, title: String, description: String, version: String, resourceType: ResourceType,
        current: Bool, schema: JSONValue, customActions: [CustomAction] = [], parentWorkspaceService: String? = nil
    ) {
        self.id = id
        self.name = name
        self.title = title
        self.description = description
        self.version = version
        self.resourceType = resourceType
        self.current = current
        self.schema = schema
        self.customActions = customActions
        self.parentWorkspaceService = parentWorkspaceService
    }

    /// Roles of which the caller needs at least one to create a resource from this template; empty means everyone.
    public var authorizedRoles: [String] {
        schema["authorizedRoles"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    /// The template's own required property names (without the per-type base ones).
    public var required: [String] {
        schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    /// The template's own root property definitions (without the per-type base ones).
    public var properties: [String: JSONValue] {
        schema["properties"]?.objectValue ?? [:]
    }

    /// The conditional `allOf` items (`if`/`then`/`else`) of the template, empty when it has none.
    public var allOf: [JSONValue] {
        schema["allOf"]?.arrayValue ?? []
    }

    /// The multi-step pipeline, nil when the template has none (or `"pipeline": null`).
    ///
    /// Registration rejects malformed pipelines, so nil here never hides a broken one.
    public var pipeline: TemplatePipeline? {
        guard let value = schema["pipeline"], value != .null else { return nil }
        return try? TemplatePipeline(json: value)
    }

    /// The UI hints object (`{}` when absent), passed through to clients untouched.
    public var uiSchema: JSONValue {
        if let value = schema["uiSchema"], case .object = value { return value }
        return .object([:])
    }

    /// Whether a caller with `roles` may create resources from this template (Azure TRE answers 403
    /// "User not authorized to use template <name>" otherwise).
    public func isAuthorized(roles: some Sequence<String>) -> Bool {
        let allowed = authorizedRoles
        return allowed.isEmpty || roles.contains(where: allowed.contains)
    }

    /// Whether `action` may be invoked through `invoke-action`.
    public func hasCustomAction(_ action: String) -> Bool {
        customActions.contains { $0.name == action }
    }
}

/// A custom action a template's bundle implements (listed by `porter explain`, e.g. `start`, `stop`).
public struct CustomAction: Codable, Sendable, Hashable {
    public var name: String
    public var description: String

    public init(name: String, description: String = "") {
        self.name = name
        self.description = description
    }

    enum CodingKeys: String, CodingKey {
        case name, description
    }

    /// Decodes Azure TRE's shape, where `description` may be omitted (it defaults to `""`).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        description = try container.decodeIfPresent(String.self, forKey: .description) ?? ""
    }
}
