// The enriched template: the stored template merged with its type's base schema, as Azure TRE returns
// it from GET …-templates/{name} and validates resource properties against it.

extension ResourceTemplate {
    /// The template as Azure TRE's API returns it (`ResourceTemplateInResponse`).
    ///
    /// Fields: `id`, `name`, `title`, `description`, `version`, `resourceType`, `current`,
    /// `type: "object"`, `required` (base ∪ template), `authorizedRoles`, `properties` (base merged with
    /// the template's, the template winning), `allOf` (when present), `actions: []`, `customActions`,
    /// `pipeline` (when present, as registered), `uiSchema`, `unevaluatedProperties: false`,
    /// `system_properties`, and `parentWorkspaceService` for user-resource templates.
    ///
    /// - Parameter isUpdate: `?is_update=true`: every property (root, and `then`/`else` properties of
    ///   `allOf` items) not marked `updateable: true` gets `readOnly: true`, so a form knows what PATCH accepts.
    public func enriched(isUpdate: Bool = false) -> JSONValue {
        let base = TemplateBaseSchema.parts(for: resourceType)
        var required = base.required
        for name in self.required where !required.contains(name) {
            required.append(name)
        }
        var properties = base.properties.merging(self.properties) { _, template in template }
        var allOf = self.allOf
        if isUpdate {
            properties = properties.mapValues(Self.markedReadOnlyUnlessUpdateable)
            allOf = allOf.map { item in
                guard case .object(var members) = item else { return item }
                for branch in ["then", "else"] {
                    guard case .object(var branchMembers)? = members[branch],
                        case .object(let branchProperties)? = branchMembers["properties"]
                    else { continue }
                    branchMembers["properties"] = .object(branchProperties.mapValues(Self.markedReadOnlyUnlessUpdateable))
                    members[branch] = .object(branchMembers)
                }
                return .object(members)
            }
        }
        var result: [String: JSONValue] = [
            "id": .string(id),
            "name": .string(name),
            "title": .string(title),
            "description": .string(description),
            "version": .string(version),
            "resourceType": .string(resourceType.rawValue),
            "current": .bool(current),
            "type": "object",
            "required": .array(required.map(JSONValue.string)),
            "authorizedRoles": .array(authorizedRoles.map(JSONValue.string)),
            "properties": .object(properties),
            "actions": [],
            "customActions": .array(customActions.map { ["name": .string($0.name), "description": .string($0.description)] }),
            "uiSchema": uiSchema,
            "unevaluatedProperties": false,
            "system_properties": TemplateBaseSchema.systemProperties(for: resourceType),
        ]
        if schema["allOf"] != nil, schema["allOf"] != .null {
            result["allOf"] = .array(allOf)
        }
        if let pipelineValue = schema["pipeline"], pipelineValue != .null {
            result["pipeline"] = pipelineValue
        }
        if resourceType == .userResource {
            result["parentWorkspaceService"] = .string(parentWorkspaceService ?? "")
        }
        return .object(result)
    }

    private static func markedReadOnlyUnlessUpdateable(_ property: JSONValue) -> JSONValue {
        guard case .object(var members) = property, members["updateable"] != .bool(true) else { return property }
        members["readOnly"] = true
        return .object(members)
    }
}
