// End to end, as root: a researcher's personal notebook (JupyterLab under a JupyterLab service) runs as
// her own uid on her own home, opens only for her (and the workspace owners), stops and starts, and
// leaves no process when the workspace is deleted. Its own suite, so it runs beside the desktop's.
import EnclaveCore
import EnclaveLocal
import EnclaveServer
import EnclaveTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@Suite(
    "Personal notebook end to end", .serialized,
    .enabled(if: WorkloadE2ESupport.shouldRun, "needs root, ip, nft, setpriv, bwrap, python3 (\(WorkloadE2ESupport.unavailableReason ?? ""))"))
struct PersonalNotebookWorkloadTests: WorkloadE2E {
    let command = HostCommand()

    @Test func aPersonalNotebookRunsAsItsOwnersOwnUidInTheirHome() async throws {
        let settings = ParallelHostPlane.make("n").settings
        let enclave = try await TestEnclave.make(workers: 2, templatesDir: try TestPaths.combinedTemplates(), dataPlane: settings)
        defer { enclave.remove() }
        let owner = TestUsers.owner
        let admin = TestUsers.admin
        let alice = TestUsers.researcher
        let bob = TestUsers.researcher2
        try await buildApplication(enclave.deps).test(.live) { client in
            let ws = try await createRestrictedWorkspace(client, enclave, owner: owner, description: "notebook")
            let workspaceUid = try #require(
                try await call(client, enclave, .get, "/api/workspaces/\(ws)", as: admin).json["workspace"]?["properties"]?["workspace_uid"]?.intValue
            )
            _ = try await call(
                client, enclave, .post, "/api/workspaces/\(ws)/users/assign", as: admin,
                json: ["role_id": "WorkspaceResearcher", "user_ids": [.string(alice.id), .string(bob.id)]])
            let createSvc = try await call(
                client, enclave, .post, "/api/workspaces/\(ws)/workspace-services", as: owner,
                json: ["templateName": "tre-service-jupyterlab", "properties": ["display_name": "Lab", "description": "e2e"]])
            let svcOp = try await wait(client, enclave, createSvc.location, as: owner, timeout: 900)
            #expect(svcOp["status"] == "deployed", "\(svcOp)")
            let svc = try #require(svcOp["resourceId"]?.stringValue)

            let urBase = "/api/workspaces/\(ws)/workspace-services/\(svc)/user-resources"
            let started = Date()
            let createUr = try await call(
                client, enclave, .post, urBase, as: alice,
                json: ["templateName": "tre-user-resource-notebook", "properties": ["display_name": "Mine", "description": "e2e"]])
            let urOp = try await wait(client, enclave, createUr.location, as: alice, timeout: 300)
            #expect(urOp["status"] == "deployed", "\(urOp)")
            let ur = try #require(urOp["resourceId"]?.stringValue)
            print("Personal notebook: deployed in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
            let personal = "/workspaces/\(ws)/services/\(svc)/user-resources/\(ur)"
            #expect(try await call(client, enclave, .get, "\(personal)/api/status", as: alice).status == .ok)
            #expect(try await call(client, enclave, .get, "\(personal)/api/status", as: bob).status == .forbidden)

            // A file saved through her notebook is hers: her own uid, the workspace's group, in her 0700 home.
            let saved = try await call(
                client, enclave, .put, "\(personal)/api/contents/notebooks/hello.txt", as: alice,
                json: ["type": "file", "format": "text", "content": "hello"])
            #expect(saved.status == .created || saved.status == .ok, "\(saved.text)")
            let homePath = enclave.dataDir.path + "/workspaces/\(ws)/home/\(alice.id)"
            let file = try FileManager.default.attributesOfItem(atPath: homePath + "/notebooks/hello.txt")
            let aliceUid = try #require((file[.ownerAccountID] as? NSNumber)?.intValue)
            #expect(aliceUid != workspaceUid && aliceUid >= 410_000)
            #expect((file[.groupOwnerAccountID] as? NSNumber)?.intValue == workspaceUid)
            let home = try FileManager.default.attributesOfItem(atPath: homePath)
            #expect((home[.ownerAccountID] as? NSNumber)?.intValue == aliceUid)
            #expect((home[.posixPermissions] as? NSNumber)?.intValue == 0o700)

            let stop = try await call(client, enclave, .post, "\(urBase)/\(ur)/invoke-action?action=stop", as: alice)
            #expect(try await wait(client, enclave, stop.location, as: alice, timeout: 60)["status"] == "action_succeeded")
            #expect(try await poll(client, enclave, "\(personal)/api/status", as: alice, until: .serviceUnavailable).status == .serviceUnavailable)
            let start = try await call(client, enclave, .post, "\(urBase)/\(ur)/invoke-action?action=start", as: alice)
            #expect(try await wait(client, enclave, start.location, as: alice, timeout: 120)["status"] == "action_succeeded")
            #expect(try await poll(client, enclave, "\(personal)/api/status", as: alice, until: .ok).status == .ok)

            let disable = try await call(
                client, enclave, .patch, "/api/workspaces/\(ws)", as: admin, json: ["isEnabled": false], headers: [HTTPField.Name("etag")!: "*"])
            #expect(try await wait(client, enclave, disable.location, as: admin, timeout: 300)["status"] == "updated")
            let delete = try await call(client, enclave, .delete, "/api/workspaces/\(ws)", as: admin)
            #expect(try await wait(client, enclave, delete.location, as: admin, timeout: 300)["status"] == "deleted")
            let uids = try await command.check(["ps", "-e", "-o", "uid="]).split(separator: "\n").compactMap {
                Int($0.trimmingCharacters(in: .whitespaces))
            }
            #expect(!uids.contains(workspaceUid) && !uids.contains(aliceUid), "no process of the workspace's uids")
        }
    }
}
