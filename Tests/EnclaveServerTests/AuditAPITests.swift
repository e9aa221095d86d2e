import EnclaveCore
import EnclaveServer
import EnclaveStore
import EnclaveTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// What the API records in the audit log, and `GET /api/audit`.
@Suite("Audit API")
struct AuditAPITests {
    func records(_ api: APIClient, _ query: String = "") async throws -> [JSONValue] {
        let reply = try await api.call(.get, "/api/audit\(query)", as: TestUsers.admin)
        #expect(reply.status == .ok, "\(reply.text)")
        return reply.json["auditRecords"]?.arrayValue ?? []
    }

    func chainIsIntact(_ api: APIClient) async throws {
        let all = try await api.enclave.deps.store.auditRecords(AuditFilter(), after: nil, limit: 100_000)
        guard case .intact = AuditChain.verify(all) else {
            Issue.record("chain broken: \(AuditChain.verify(all))")
            return
        }
    }

    @Test("start-up registration of built-in templates is recorded as Enclave's own")
    func builtInTemplatesAreRecordedAsSystem() async throws {
        try await withAPI(workers: 0) { api in
            let registered = try await records(api, "?action=template.register&limit=1000")
            #expect(!registered.isEmpty)
            #expect(registered.allSatisfy { $0["actor"]?["id"] == "system:enclave" && $0["requestId"] == nil })
            #expect(registered.contains { $0["target"] == "/workspace-templates/tre-workspace-base" })
        }
    }

    @Test("creating a workspace records the creation and its owner's role, with the request id and operation")
    func creatingAWorkspaceIsRecorded() async throws {
        try await withAPI { api in
            let ws = try await api.createAndWait(
                "/api/workspaces", template: "tre-workspace-base",
                properties: ["workspace_owner_object_id": .string(TestUsers.owner.id)])
            let mine = try await records(api, "?target=/workspaces/\(ws)")
            #expect(mine.map { $0["action"] } == ["role.assign", "resource.create"])
            let create = try #require(mine.last)
            #expect(create["actor"] == ["id": .string(TestUsers.admin.id), "name": .string(TestUsers.admin.name)])
            #expect(create["outcome"] == "success")
            #expect(create["details"]?["templateName"] == "tre-workspace-base")
            #expect(create["details"]?["templateVersion"]?.stringValue != nil)
            #expect(create["requestId"]?.stringValue?.isEmpty == false)
            #expect(mine.first?["requestId"] == create["requestId"], "one request, one id")
            let ops = try await api.call(.get, "/api/workspaces/\(ws)/operations", as: TestUsers.admin).json["operations"]
            #expect(create["details"]?["operationId"] == ops?.arrayValue?.first?["id"])
            #expect(mine.first?["details"] == ["role": "WorkspaceOwner", "userIds": [.string(TestUsers.owner.id)]])
            try await chainIsIntact(api)
        }
    }

    @Test("assigning and removing a role are recorded; removing a role not held is 404 and records nothing")
    func roleChangesAreRecorded() async throws {
        try await withAPI { api in
            let ws = try await api.createAndWait("/api/workspaces", template: "tre-workspace-base")
            let assign = try await api.call(
                .post, "/api/workspaces/\(ws)/users/assign", as: TestUsers.admin,
                json: ["role_id": "WorkspaceResearcher", "user_ids": [.string(TestUsers.researcher.id)]])
            #expect(assign.status == .accepted)
            let remove = "/api/workspaces/\(ws)/users/assign?user_id=\(TestUsers.researcher.id)&role_id=WorkspaceResearcher"
            #expect(try await api.call(.delete, remove, as: TestUsers.admin).status == .accepted)
            #expect(try await api.call(.delete, remove, as: TestUsers.admin).status == .notFound)

            let roles = try await records(api, "?action=role&target=/workspaces/\(ws)")
            #expect(roles.map { $0["action"] } == ["role.assign", "role.assign", "role.unassign"])
            #expect(roles[1]["details"] == ["role": "WorkspaceResearcher", "userIds": [.string(TestUsers.researcher.id)]])
            #expect(roles[2]["details"] == ["role": "WorkspaceResearcher", "userIds": [.string(TestUsers.researcher.id)]])
            #expect(roles.allSatisfy { $0["outcome"] == "success" })
            try await chainIsIntact(api)
        }
    }

    @Test("a 403 records who was refused what and why, and nothing else")
    func denialsAreRecorded() async throws {
        try await withAPI(workers: 0) { api in
            let before = try await records(api, "?limit=1000").count
            let reply = try await api.call(
                .post, "/api/workspaces", as: TestUsers.treUser,
                json: ["templateName": "tre-workspace-base", "properties": ["display_name": "x", "description": "y"]])
            #expect(reply.status == .forbidden)
            let after = try await records(api, "?limit=1000")
            #expect(after.count == before + 1)
            let denial = try #require(after.last)
            #expect(denial["action"] == "auth.denied")
            #expect(denial["outcome"] == "denied")
            #expect(denial["actor"]?["id"] == .string(TestUsers.treUser.id))
            #expect(denial["target"] == "/workspaces")
            #expect(denial["details"]?["method"] == "POST")
            #expect(denial["details"]?["path"] == "/api/workspaces")
            #expect(denial["details"]?["reason"]?.stringValue?.contains("TREAdmin") == true)
            #expect(denial["requestId"]?.stringValue?.isEmpty == false)
            #expect(try await api.enclave.deps.store.resources(ResourceFilter(type: .workspace)).isEmpty)
        }
    }

    @Test("only TREAdmins read the audit log; a refused reader is recorded too")
    func nonAdminsAreRefused() async throws {
        try await withAPI(workers: 0) { api in
            for user in [TestUsers.treUser, TestUsers.owner, TestUsers.noRole] {
                #expect(try await api.call(.get, "/api/audit", as: user).status == .forbidden)
            }
            #expect(try await api.call(.get, "/api/audit", as: nil).status == .unauthorized)
            let denials = try await records(api, "?action=auth.denied&target=/audit")
            #expect(denials.count == 3)
        }
    }

    @Test("filters by actor, action family and time, and pages with after and next")
    func filtersAndPaging() async throws {
        try await withAPI(workers: 0) { api in
            _ = try await api.call(.get, "/api/workspace-templates", as: TestUsers.treUser)  // denied
            _ = try await api.call(.get, "/api/shared-services/\(UUID())", as: TestUsers.noRole)  // denied
            let byActor = try await records(api, "?actor=\(TestUsers.treUser.id)")
            #expect(byActor.count == 1 && byActor[0]["target"] == "/workspace-templates")
            let denials = try await records(api, "?action=auth")
            #expect(denials.count == 2)
            #expect(try await records(api, "?action=auth.den").isEmpty, "prefixes match whole segments")

            let all = try await records(api, "?limit=1000")
            let first = try #require(all.first?["time"]?.numberValue)
            let iso = Date(timeIntervalSince1970: first).formatted(.iso8601)
            #expect(try await records(api, "?to=2000-01-01").isEmpty)
            #expect(try await records(api, "?from=2000-01-01T00:00:00Z&limit=1000").count == all.count)
            #expect(try await records(api, "?from=2999-01-01T00:00:00.000Z").isEmpty)
            #expect(try await records(api, "?from=\(iso.replacingOccurrences(of: "+", with: "%2B"))&limit=1000").count <= all.count)

            // Pages: follow `next` until it is null; together the pages are the whole log, in order.
            var seen: [JSONValue] = []
            var after = 0
            while true {
                let page = try await api.call(.get, "/api/audit?limit=3&after=\(after)", as: TestUsers.admin).json
                seen += page["auditRecords"]?.arrayValue ?? []
                guard let next = page["next"]?.intValue else {
                    #expect(page["next"] == .null)
                    break
                }
                after = next
            }
            // The pages were read after `all`, and reading is not recorded, so they match exactly.
            #expect(seen.map { $0["sequence"] } == all.map { $0["sequence"] })
        }
    }

    @Test("bad query values are 422 with a message saying what to send", arguments: [
        ("from=yesterday", "ISO 8601"), ("to=2025-13-45", "ISO 8601"), ("limit=0", "limit"), ("limit=abc", "limit"),
        ("limit=5000", "limit"), ("after=-1", "after"),
    ])
    func badQueries(query: String, mentions: String) async throws {
        try await withAPI(workers: 0) { api in
            let reply = try await api.call(.get, "/api/audit?\(query)", as: TestUsers.admin)
            #expect(reply.status == .unprocessableContent, "\(reply.text)")
            #expect(reply.text.contains(mentions), "\(reply.text)")
        }
    }
}
