import EnclaveCore
import EnclaveServer
import EnclaveStore
import EnclaveTesting
import Foundation
import HTTPTypes
import Hummingbird
import Testing

@Suite("Templates and upgrades")
struct TemplateAPITests {
    let admin = TestUsers.admin

    /// A copy of the test workspace template at another version, registered through the API.
    func register(_ api: APIClient, version: String, current: Bool = false) async throws -> APIClient.Reply {
        let schema: JSONValue = [
            "title": "Test workspace", "description": "d", "required": [], "authorizedRoles": [],
            "properties": [
                "sleep_seconds": ["type": "number", "default": 0, "updateable": true],
                "fail": ["type": "boolean", "default": false, "updateable": true],
                "note": ["type": "string", "default": "", "updateable": true],
                "api_key": ["type": "string", "default": "", "sensitive": true, "updateable": true],
                "size": ["type": "string", "enum": ["small", "large"], "default": "small"],
            ],
        ]
        return try await api.call(
            .post, "/api/workspace-templates", as: admin,
            json: ["name": "tre-test-workspace", "version": .string(version), "current": .bool(current), "json_schema": schema])
    }

    @Test("registration answers 201 with the enriched template; the same name and version again is 409")
    func registration() async throws {
        try await withAPI { api in
            let created = try await register(api, version: "1.1.0")
            #expect(created.status == .created)
            #expect(created.json["version"] == "1.1.0")
            #expect(created.json["current"] == false, "registering without current keeps 1.0.0 current")
            #expect(created.json["properties"]?["display_name"]?["updateable"] == true, "base properties are merged in")
            #expect(created.json["system_properties"]?["tre_id"] != nil)
            let again = try await register(api, version: "1.1.0")
            #expect(again.status == .conflict)
            let current = try await api.call(.get, "/api/workspace-templates/tre-test-workspace", as: admin).json
            #expect(current["version"] == "1.0.0")
            let pinned = try await api.call(.get, "/api/workspace-templates/tre-test-workspace?version=1.1.0", as: admin).json
            #expect(pinned["version"] == "1.1.0")
            let forUpdate = try await api.call(.get, "/api/workspace-templates/tre-test-workspace?is_update=true", as: admin).json
            #expect(forUpdate["properties"]?["size"]?["readOnly"] == true, "non-updateable properties are read-only on update")
            #expect(forUpdate["properties"]?["note"]?["readOnly"] == nil)
            #expect(try await api.call(.get, "/api/workspace-templates/tre-test-workspace?version=9.9.9", as: admin).status == .notFound)
            _ = try await register(api, version: "1.2.0", current: true)
            let list = try await api.call(.get, "/api/workspace-templates", as: admin).json["templates"]?.arrayValue ?? []
            #expect(list.filter { $0["name"] == "tre-test-workspace" }.count == 1, "lists show current versions only")
            let newCurrent = try await api.call(.get, "/api/workspace-templates/tre-test-workspace", as: admin).json
            #expect(newCurrent["version"] == "1.2.0")
        }
    }

    @Test("available upgrades are listed; a minor upgrade works, a major one needs force, a downgrade is refused")
    func upgrades() async throws {
        try await withAPI { api in
            let id = try await api.createAndWait("/api/workspaces", template: "tre-test-workspace")
            _ = try await register(api, version: "1.1.0")
            _ = try await register(api, version: "2.0.0")
            let path = "/api/workspaces/\(id)"
            let ws = try await api.call(.get, path, as: admin).json["workspace"]
            #expect(ws?["availableUpgrades"] == [
                ["version": "1.1.0", "forceUpdateRequired": false], ["version": "2.0.0", "forceUpdateRequired": true],
            ])
            let major = try await api.call(.patch, path, as: admin, json: ["templateVersion": "2.0.0"], headers: [.etag: "*"])
            #expect(major.status == .badRequest)
            #expect(major.text.contains("major version upgrade is not allowed"))
            let minor = try await api.call(.patch, path, as: admin, json: ["templateVersion": "1.1.0"], headers: [.etag: "*"])
            #expect(minor.status == .accepted)
            _ = try await api.wait(minor.location)
            #expect(try await api.call(.get, path, as: admin).json["workspace"]?["templateVersion"] == "1.1.0")
            let down = try await api.call(.patch, path, as: admin, json: ["templateVersion": "1.0.0"], headers: [.etag: "*"])
            #expect(down.status == .badRequest && down.text.contains("downgrade"))
            let unknown = try await api.call(.patch, path, as: admin, json: ["templateVersion": "1.5.0"], headers: [.etag: "*"])
            #expect(unknown.status == .badRequest)
            let forced = try await api.call(
                .patch, "\(path)?force_version_update=true", as: admin, json: ["templateVersion": "2.0.0"], headers: [.etag: "*"])
            #expect(forced.status == .accepted)
            _ = try await api.wait(forced.location)
            let after = try await api.call(.get, path, as: admin).json["workspace"]
            #expect(after?["templateVersion"] == "2.0.0" && after?["availableUpgrades"] == [])
        }
    }

    @Test("workspace users: the creator is owner; assign and unassign roles; unknown roles are 400")
    func users() async throws {
        try await withAPI { api in
            let id = try await api.createAndWait("/api/workspaces", template: "tre-workspace-base")
            let path = "/api/workspaces/\(id)"
            let researcher = TestUsers.researcher
            // A user seen by the API is listed with their name.
            _ = try await api.call(.get, "/api/workspaces", as: researcher)
            let bad = try await api.call(
                .post, "\(path)/users/assign", as: admin, json: ["role_id": "Superuser", "user_ids": [.string(researcher.id)]])
            #expect(bad.status == .badRequest && bad.text.contains("WorkspaceOwner"))
            #expect(try await api.call(.get, path, as: researcher).status == .forbidden)
            let assigned = try await api.call(
                .post, "\(path)/users/assign", as: admin, json: ["role_id": "WorkspaceResearcher", "user_ids": [.string(researcher.id)]])
            #expect(assigned.status == .accepted)
            #expect(try await api.call(.get, path, as: researcher).status == .ok)
            let mine = try await api.call(.get, "/api/workspaces", as: researcher).json["workspaces"]?.arrayValue ?? []
            #expect(mine.map { $0["id"] } == [.string(id)], "non-admins list only workspaces where they hold a role")
            let users = try await api.call(.get, "\(path)/users", as: researcher).json["users"]?.arrayValue ?? []
            #expect(users.count == 2)
            #expect(users.first { $0["id"] == .string(researcher.id) }?["displayName"] == .string(researcher.name))
            #expect(users.first { $0["id"] == .string(admin.id) }?["roles"]?.arrayValue?.first?["id"] == "WorkspaceOwner")
            let roles = try await api.call(.get, "\(path)/roles", as: admin).json["roles"]?.arrayValue ?? []
            #expect(roles.count == 3)
            let removed = try await api.call(
                .delete, "\(path)/users/assign?user_id=\(researcher.id)&role_id=WorkspaceResearcher", as: admin)
            #expect(removed.status == .accepted)
            #expect(try await api.call(.get, path, as: researcher).status == .forbidden)
        }
    }

    @Test("a template's authorizedRoles decide who may create from it and who sees it listed in a workspace")
    func authorizedRoles() async throws {
        try await withAPI { api in
            let owner = TestUsers.owner
            let manager = TestUsers.manager
            let ws = try await api.createAndWait(
                "/api/workspaces", template: "tre-workspace-base", properties: ["workspace_owner_object_id": .string(owner.id)])
            _ = try await api.call(
                .post, "/api/workspaces/\(ws)/users/assign", as: admin,
                json: ["role_id": "AirlockManager", "user_ids": [.string(manager.id)]])
            let svc = try await api.createAndWait("/api/workspaces/\(ws)/workspace-services", template: "tre-service-jupyterlab", as: owner)
            let listPath = "/api/workspaces/\(ws)/workspace-service-templates/tre-service-jupyterlab/user-resource-templates"
            let forOwner = try await api.call(.get, listPath, as: owner).json["templates"]?.arrayValue ?? []
            #expect(forOwner.contains { $0["name"] == "tre-user-resource-notebook" })
            let forManager = try await api.call(.get, listPath, as: manager).json["templates"]?.arrayValue ?? []
            #expect(!forManager.contains { $0["name"] == "tre-user-resource-notebook" }, "the notebook is for owners and researchers")
            let refused = try await api.call(
                .post, "/api/workspaces/\(ws)/workspace-services/\(svc)/user-resources", as: manager,
                json: ["templateName": "tre-user-resource-notebook", "properties": ["display_name": "N", "description": "d"]])
            #expect(refused.status == .forbidden)
            #expect(refused.text.contains("not authorized to use template"))
        }
    }

    @Test("built-in templates register once: a restart adds nothing, a new version folder becomes current")
    func builtInRegistration() async throws {
        let templates = try TestPaths.combinedTemplates()
        let first = try await TestEnclave.make(workers: 0, templatesDir: templates)
        defer { first.remove() }
        let before = try await first.deps.store.templates(type: .workspace, name: nil, parent: nil)
        // A second start on the same data dir, with a new version of one template added.
        let fm = FileManager.default
        let source = URL(fileURLWithPath: templates).appendingPathComponent("workspaces/test-workspace")
        let copy = URL(fileURLWithPath: templates).appendingPathComponent("workspaces/test-workspace-v2")
        try fm.copyItem(at: source, to: copy)
        let manifest = copy.appendingPathComponent("bundle.yaml")
        let text = try String(contentsOf: manifest, encoding: .utf8).replacingOccurrences(of: "version: 1.0.0", with: "version: 1.1.0")
        try text.write(to: manifest, atomically: true, encoding: .utf8)
        var config = first.deps.configuration
        config.templatesDir = templates
        let second = try await buildDependencies(config)
        let after = try await second.store.templates(type: .workspace, name: nil, parent: nil)
        #expect(after.count == before.count + 1)
        let versions = after.filter { $0.name == "tre-test-workspace" }
        #expect(versions.map(\.version) == ["1.0.0", "1.1.0"])
        #expect(versions.filter(\.current).map(\.version) == ["1.1.0"])
    }
}
