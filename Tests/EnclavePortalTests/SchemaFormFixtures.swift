import EnclaveCore
import Foundation

/// Template schemas for the form builder's tests.
enum SchemaFormFixtures {
    static func json(_ text: String) -> JSONValue {
        (try? JSONValue.parse(Array(text.utf8))) ?? .null
    }

    /// Azure TRE's base workspace template, cut down to what a form must handle: enums, numbers, booleans,
    /// `allOf` with `if`/`then`/`else` (one branch switched on by another branch's field), a sensitive
    /// property, a nested object, arrays of strings, of enumerated values and of objects, a pattern, a
    /// hidden property and `ui:order`.
    static let workspace = json(
        #"""
        {
          "title": "Base Workspace", "description": "Foundation for workspaces.",
          "required": ["auth_type", "address_space_size"],
          "authorizedRoles": [],
          "properties": {
            "shared_storage_quota": {"type": "integer", "title": "Shared Storage Quota", "description": "Quota in GB.", "minimum": 1, "maximum": 100, "default": 10, "updateable": true},
            "enable_airlock": {"type": "boolean", "title": "Enable Airlock", "default": true, "updateable": true},
            "address_space_size": {"type": "string", "title": "Address space size", "default": "small", "enum": ["small", "medium", "large", "custom"]},
            "auth_type": {"type": "string", "title": "Workspace Authentication Type", "default": "Automatic", "enum": ["Automatic", "Manual"], "updateable": true},
            "ratio": {"type": "number", "title": "Ratio", "minimum": 0, "maximum": 1},
            "contact_email": {"type": "string", "title": "Contact", "format": "email", "maxLength": 100, "updateable": true},
            "code": {"type": "string", "title": "Code", "pattern": "^[A-Z]{3}[0-9]{2}$", "examples": ["ABC12"]},
            "notes": {"type": "string", "title": "Notes", "updateable": true},
            "kernels": {"type": "array", "title": "Kernels", "items": {"type": "string", "enum": ["python3", "ir"]}, "default": ["python3"], "updateable": true},
            "address_spaces": {"type": "array", "title": "Address spaces", "items": {"type": "string"}, "updateable": true},
            "ports": {"type": "array", "title": "Ports", "items": {"type": "integer"}},
            "redirect_uris": {"type": "array", "title": "Redirect URIs", "items": {"type": "object", "properties": {"name": {"type": "string"}, "value": {"type": "string"}}}},
            "output_checks": {
              "type": "object", "title": "Output checks", "updateable": true,
              "required": ["threshold"],
              "properties": {
                "threshold": {"type": "integer", "title": "Minimum cell count", "minimum": 1, "default": 10},
                "check_identifiers": {"type": "boolean", "title": "Look for identifiers", "default": true}
              }
            },
            "owner_id": {"type": "string", "title": "Owner"}
          },
          "allOf": [
            {"if": {"properties": {"enable_airlock": {"const": true}}, "required": ["enable_airlock"]},
             "then": {"properties": {"configure_review_vms": {"type": "boolean", "title": "Configure Review VMs", "default": false, "updateable": true}}}},
            {"if": {"properties": {"enable_airlock": {"const": true}, "configure_review_vms": {"const": true}}, "required": ["enable_airlock", "configure_review_vms"]},
             "then": {"properties": {"review_workspace_id": {"type": "string", "title": "Review workspace", "updateable": true}}, "required": ["review_workspace_id"]}},
            {"if": {"properties": {"address_space_size": {"enum": ["custom"]}}, "required": ["address_space_size"]},
             "then": {"properties": {"address_space": {"type": "string", "title": "Address space"}}, "required": ["address_space"]}},
            {"if": {"properties": {"auth_type": {"const": "Manual"}}, "required": ["auth_type"]},
             "then": {"properties": {
                "client_id": {"type": "string", "title": "Application (Client) ID", "updateable": true},
                "client_secret": {"type": "string", "title": "Application (Client) Secret", "sensitive": true, "updateable": true}
              }, "required": ["client_id"]},
             "else": {"properties": {"create_aad_groups": {"type": "boolean", "title": "Create AAD Groups", "default": false, "updateable": true}}}}
          ],
          "uiSchema": {
            "owner_id": {"classNames": "tre-hidden"},
            "notes": {"ui:widget": "textarea", "ui:help": "Anything reviewers should know."},
            "ui:order": ["display_name", "description", "overview", "shared_storage_quota", "address_space_size", "address_space", "auth_type", "*"]
          }
        }
        """#)

    static var workspaceTemplate: ResourceTemplate {
        ResourceTemplate(
            id: "t-1", name: "tre-workspace-test", title: "Base Workspace", description: "d", version: "1.0.0",
            resourceType: .workspace, current: true, schema: workspace)
    }
}
