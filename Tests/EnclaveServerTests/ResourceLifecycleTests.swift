import EnclaveCore
import EnclaveTesting
import Foundation
import Hummingbird
import HTTPTypes
import Testing

@Suite("Resource lifecycle")
struct ResourceLifecycleTests {
    let admin = TestUsers.admin

    @Test("a workspace is created (202 + Location), deployed, carries system properties and outputs, and reads back")
    func createWorkspace() async throws {
        try await withAPI { api in
            let reply = try await api.call(
                .post, "/api/workspaces", as: admin,
                json: ["templateName": "tre-test-workspace", "properties": ["display_name": "W", "description": "d", "note": "hello"]])
            #expect(reply.status == .accepted)
            let op = reply.json["operation"] ?? .null
            let id = try #require(op["resourceId"]?.stringValue)
            #expect(reply.location == "/api/workspaces/\(id)/operations/\(op["id"]?.stringValue ?? "")")
            #expect(op["status"] == "awaiting_deployment")
            let done = try await api.wait(reply.location)
            #expect(done["status"] == "deployed")
            #expect(done["steps"]?.arrayValue?.first?["status"] == "deployed")

            let ws = try await api.call(.get, "/api/workspaces/\(id)", as: admin).json["workspace"] ?? .null
            #expect(ws["deploymentStatus"] == "deployed")
            #expect(ws["resourcePath"] == .string("/workspaces/\(id)"))
            #expect(ws["properties"]?["scope_id"] == "api://enclave")
            #expect(ws["properties"]?["workspace_owner_object_id"] == .string(admin.id))
            #expect(ws["properties"]?["echo_note"] == "hello", "deployer outputs are merged into properties")
            #expect(ws["properties"]?["size"] == "small", "template defaults are applied")
            #expect(ws["_etag"]?.stringValue?.isEmpty == false)
            #expect(ws["availableUpgrades"] == [])
            let scope = try await api.call(.get, "/api/workspaces/\(id)/scopeid", as: TestUsers.treUser).json
            #expect(scope == ["workspaceAuth": ["scopeId": "api://enclave"]])
        }
    }

    @Test("a sensitive property is stored as REDACTED and reaches only the deployer")
    func sensitiveValues() async throws {
        try await withAPI { api in
            let id = try await api.createAndWait(
                "/api/workspaces", template: "tre-test-workspace", properties: ["api_key": "s3cret"])
            let ws = try await api.call(.get, "/api/workspaces/\(id)", as: admin).json["workspace"] ?? .null
            #expect(ws["properties"]?["api_key"] == "REDACTED")
            #expect(ws["properties"]?["echo_key"] == "s3cret", "the deployer received the real value")
            let raw = try String(contentsOf: api.enclave.dataDir.appendingPathComponent("enclave.sqlite"), encoding: .isoLatin1)
            #expect(!raw.contains("\"api_key\":\"s3cret\""), "the database holds no plain copy under the property name")
        }
    }

    @Test("PATCH needs the current etag: missing is 422, stale is 409 and nothing changes, * forces")
    func etags() async throws {
        try await withAPI { api in
            let id = try await api.createAndWait("/api/workspaces", template: "tre-test-workspace")
            let path = "/api/workspaces/\(id)"
            let before = try await api.call(.get, path, as: admin).json["workspace"] ?? .null
            let noEtag = try await api.call(.patch, path, as: admin, json: ["properties": ["note": "x"]])
            #expect(noEtag.status == .unprocessableContent)
            let stale = try await api.call(
                .patch, path, as: admin, json: ["properties": ["note": "x"]], headers: [.etag: "stale"])
            #expect(stale.status == .conflict)
            #expect(stale.text.contains("modified by another user"))
            let after = try await api.call(.get, path, as: admin).json["workspace"] ?? .null
            #expect(after == before, "a refused PATCH changes nothing")
            #expect(try await api.call(.get, "\(path)/history", as: admin).json["resource_history"] == [])

            let etag = try #require(before["_etag"]?.stringValue)
            let ok = try await api.call(
                .patch, path, as: admin, json: ["properties": ["note": "v2"]], headers: [.etag: etag])
            #expect(ok.status == .accepted)
            #expect(try await api.wait(ok.location)["status"] == "updated")
            let updated = try await api.call(.get, path, as: admin).json["workspace"] ?? .null
            #expect(updated["resourceVersion"] == 1)
            #expect(updated["properties"]?["echo_note"] == "v2")
            let history = try await api.call(.get, "\(path)/history", as: admin).json["resource_history"]?.arrayValue ?? []
            #expect(history.count == 1 && history[0]["properties"]?["note"] == "")

            let notUpdateable = try await api.call(
                .patch, path, as: admin, json: ["properties": ["size": "large"]], headers: [.etag: "*"])
            #expect(notUpdateable.status == .badRequest)
            #expect(notUpdateable.text.contains("size") && notUpdateable.text.contains("updateable"))
            let extra = try await api.call(.patch, path, as: admin, json: ["colour": "red"], headers: [.etag: "*"])
            #expect(extra.status == .unprocessableContent)
        }
    }

    @Test("a failing action fails its operation and keeps the tail of its error output")
    func failingAction() async throws {
        try await withAPI { api in
            let reply = try await api.call(
                .post, "/api/workspaces", as: admin,
                json: ["templateName": "tre-test-workspace", "properties": ["display_name": "F", "description": "d", "fail": true]])
            let op = try await api.wait(reply.location)
            #expect(op["status"] == "deployment_failed")
            #expect(op["message"]?.stringValue?.contains("the action was told to fail") == true, "\(op)")
            let id = try #require(op["resourceId"]?.stringValue)
            #expect(try await api.call(.get, "/api/workspaces/\(id)", as: admin).json["workspace"]?["deploymentStatus"] == "deployment_failed")
        }
    }

    @Test("services only under a deployed workspace; delete only when disabled; disable cascades; delete cascades deepest first")
    func cascades() async throws {
        try await withAPI { api in
            // A workspace still deploying refuses children with 409.
            let slow = try await api.call(
                .post, "/api/workspaces", as: admin,
                json: ["templateName": "tre-test-workspace", "properties": ["display_name": "S", "description": "d", "sleep_seconds": 2]])
            let slowId = try #require(slow.json["operation"]?["resourceId"]?.stringValue)
            let early = try await api.call(
                .post, "/api/workspaces/\(slowId)/workspace-services", as: admin,
                json: ["templateName": "tre-service-jupyterlab", "properties": ["display_name": "J", "description": "d"]])
            #expect(early.status == .conflict)
            #expect(early.text.contains("not deployed"))
            _ = try await api.wait(slow.location)

            let ws = try await api.createAndWait("/api/workspaces", template: "tre-workspace-base")
            let svc = try await api.createAndWait("/api/workspaces/\(ws)/workspace-services", template: "tre-service-jupyterlab")
            let ur = try await api.createAndWait(
                "/api/workspaces/\(ws)/workspace-services/\(svc)/user-resources", template: "tre-user-resource-notebook")

            let enabledDelete = try await api.call(.delete, "/api/workspaces/\(ws)", as: admin)
            #expect(enabledDelete.status == .badRequest)
            #expect(enabledDelete.text.contains("needs to be disabled"))

            let disable = try await api.call(
                .patch, "/api/workspaces/\(ws)", as: admin, json: ["isEnabled": false], headers: [.etag: "*"])
            let disableOp = try await api.wait(disable.location)
            #expect(disableOp["status"] == "updated")
            #expect(disableOp["steps"]?.arrayValue?.map { $0["resourceId"]?.stringValue ?? "" } == [ur, svc, ws])
            let urPath = "/api/workspaces/\(ws)/workspace-services/\(svc)/user-resources/\(ur)"
            // The creator of the workspace is its owner, so may read the user resource: disabled by the cascade.
            #expect(try await api.call(.get, urPath, as: admin).json["userResource"]?["isEnabled"] == false)
            let svcHistory = try await api.call(.get, "/api/workspaces/\(ws)/workspace-services/\(svc)/history", as: admin)
            #expect(svcHistory.json["resource_history"]?.arrayValue?.count == 1, "the cascade versions each child")

            let delete = try await api.call(.delete, "/api/workspaces/\(ws)", as: admin)
            #expect(delete.status == .ok)
            #expect(delete.location != nil)
            let steps = delete.json["operation"]?["steps"]?.arrayValue ?? []
            #expect(steps.map { $0["resourceId"]?.stringValue ?? "" } == [ur, svc, ws], "uninstall runs deepest first")
            #expect(try await api.wait(delete.location)["status"] == "deleted")
            #expect(try await api.call(.get, "/api/workspaces/\(ws)", as: admin).status == .notFound)
            let listed = try await api.call(.get, "/api/workspaces", as: admin).json["workspaces"]?.arrayValue ?? []
            #expect(!listed.contains { $0["id"] == .string(ws) })
            let storage = api.enclave.dataDir.appendingPathComponent("workspaces/\(ws)")
            #expect(!FileManager.default.fileExists(atPath: storage.path), "uninstall removed the workspace's storage")
        }
    }

    @Test("custom actions: unknown action is 400; start and stop report the power state")
    func customActions() async throws {
        try await withAPI { api in
            let owner = TestUsers.owner
            let ws = try await api.createAndWait(
                "/api/workspaces", template: "tre-workspace-base", properties: ["workspace_owner_object_id": .string(owner.id)])
            let svc = try await api.createAndWait("/api/workspaces/\(ws)/workspace-services", template: "tre-service-jupyterlab", as: owner)
            let base = "/api/workspaces/\(ws)/workspace-services/\(svc)/user-resources"
            let ur = try await api.createAndWait(base, template: "tre-user-resource-notebook", as: owner)
            let unknown = try await api.call(.post, "\(base)/\(ur)/invoke-action?action=explode", as: owner)
            #expect(unknown.status == .badRequest)
            #expect(unknown.text.contains("explode") && unknown.text.contains("start"))
            let stop = try await api.call(.post, "\(base)/\(ur)/invoke-action?action=stop", as: owner)
            #expect(stop.status == .accepted)
            #expect(try await api.wait(stop.location, as: owner)["status"] == "action_succeeded")
            let state = try await api.call(.get, "\(base)/\(ur)", as: owner).json["userResource"]?["azureStatus"]
            #expect(state == ["powerState": "stopped"])
            let noActions = try await api.call(.post, "/api/workspaces/\(ws)/invoke-action?action=start", as: admin)
            #expect(noActions.status == .badRequest)
        }
    }

    @Test("shared services are singletons, and non-admins see a restricted view")
    func sharedServices() async throws {
        try await withAPI { api in
            let id = try await api.createAndWait("/api/shared-services", template: "tre-shared-service-firewall")
            let again = try await api.call(
                .post, "/api/shared-services", as: admin,
                json: ["templateName": "tre-shared-service-firewall", "properties": ["display_name": "x", "description": "y"]])
            #expect(again.status == .conflict)
            let full = try await api.call(.get, "/api/shared-services/\(id)", as: admin).json["sharedService"]?["properties"]
            #expect(full?["tre_id"] == "enclave")
            let restricted = try await api.call(.get, "/api/shared-services/\(id)", as: TestUsers.treUser).json["sharedService"]?["properties"]
            #expect(restricted?["tre_id"] == nil && restricted?["display_name"] != nil)
        }
    }

    @Test("an unrestricted workspace's pipeline updates the firewall shared service by substitution")
    func pipelines() async throws {
        try await withAPI { api in
            let fw = try await api.createAndWait("/api/shared-services", template: "tre-shared-service-firewall")
            let ws = try await api.createAndWait("/api/workspaces", template: "tre-workspace-unrestricted")
            let rules = try await api.call(.get, "/api/shared-services/\(fw)", as: admin).json["sharedService"]?["properties"]?["network_rule_collections"]
            let names = rules?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            #expect(names.contains("nrc_ws_\(ws)"), "\(String(describing: rules))")
            let fwHistory = try await api.call(.get, "/api/shared-services/\(fw)/history", as: admin).json["resource_history"]?.arrayValue
            #expect(fwHistory?.count == 1, "the pipeline patch is versioned like any other change")
        }
    }
}
