/// The per-type base schemas Azure TRE merges into every template (`api_app/schemas/*.json`).
///
/// Embedded as values because `EnclaveCore` does no file I/O; only `required` and `properties` are
/// used by enrichment, so only those are kept. `azuread.json` (also merged into workspaces) is empty.
enum TemplateBaseSchema {
    /// The base `required` list and `properties` for templates of `type`.
    static func parts(for type: ResourceType) -> (required: [String], properties: [String: JSONValue]) {
        let (noun, nameDescription, descriptionDescription, overviewTitle, overviewDescription): (String, String, String, String, String) =
            switch type {
            case .workspace:
                ("workspace", "The name of the workspace to be displayed to users.", "Description of the workspace.",
                 "Workspace Overview", "Long form description of the workspace, in markdown syntax.")
            case .workspaceService:
                ("workspace service", "The name of the workspace service to be displayed to users",
                 "Description of the workspace service", "Workspace Service Overview",
                 "Long form description of the workspace service, in markdown syntax")
            case .userResource:
                ("user resource", "The name of the user resource to be displayed to users", "Description of the user resource",
                 "User Resource Overview", "Long form description of the user resource, in markdown syntax")
            case .sharedService:
                ("shared service", "The name of the shared service to be displayed to users",
                 "Description of the shared service", "Shared Service Overview",
                 "Long form description of the shared service, in markdown syntax")
            }
        let properties: [String: JSONValue] = [
            "display_name": [
                "type": "string", "title": .string("Name for the \(noun)"), "description": .string(nameDescription),
                "updateable": true,
            ],
            "description": [
                "type": "string", "title": .string("Description of the \(noun)"),
                "description": .string(descriptionDescription), "updateable": true,
            ],
            "overview": [
                "type": "string", "title": .string(overviewTitle), "description": .string(overviewDescription),
                "updateable": true,
            ],
        ]
        return (["display_name", "description"], properties)
    }

    /// Azure TRE's `system_properties` block of an enriched template: the properties the API sets itself.
    static func systemProperties(for type: ResourceType) -> JSONValue {
        let idField = type == .sharedService ? "shared_service_id" : "workspace_id"
        return .object([
            "tre_id": ["type": "string"],
            idField: ["type": "string"],
            "azure_location": ["type": "string"],
        ])
    }
}
