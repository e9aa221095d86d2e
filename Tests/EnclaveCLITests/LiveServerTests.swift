import EnclaveCLI
import EnclaveCore
import EnclaveServer
import EnclaveTesting
import Foundation
import HummingbirdTesting
import Testing

/// The client commands against the real server, started in-process on a free port.
@Suite("Client commands against a live server", .serialized)
struct LiveServerTests {
    /// Runs `body` with a live server, the URL to reach it and environment variables holding an admin's
    /// token and a private config dir.
    func withServer(_ body: @Sendable (_ variables: [String: String]) async throws -> Void) async throws {
        let enclave = try await TestEnclave.make()
        defer { enclave.remove() }
        let home = try temporaryConfigHome()
        defer { try? FileManager.default.removeItem(at: home) }
        let token = try await enclave.token(TestUsers.admin)
        let app = try buildApplication(enclave.deps)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            try await body([
                "ENCLAVE_URL": "http://127.0.0.1:\(port)", "ENCLAVE_TOKEN": token, "XDG_CONFIG_HOME": home.path,
            ])
        }
    }

    func json(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    @Test("A base workspace is created and waited for, listed, disabled and deleted")
    func workspaceLifecycle() async throws {
        try await withServer { variables in
            let definition = #"{"templateName": "tre-workspace-base", "properties": {"display_name": "Genomics", "description": "d"}}"#
            let created = await runCLI(
                ["workspaces", "new", "--definition", definition, "--poll-interval", "0.1", "-o", "json"], variables: variables)
            #expect(created.exitCode == 0, "\(created.stderr)")
            let operation = try json(created.stdout)["operation"]
            #expect(operation?["status"]?.stringValue == "deployed")
            #expect(created.stderr.contains("deployed · Main step for"))
            let id = try #require(operation?["resourceId"]?.stringValue)

            let listed = await runCLI(["workspaces", "list"], variables: variables)
            #expect(listed.exitCode == 0)
            let row = try #require(listed.stdout.split(separator: "\n").first { $0.hasPrefix(id) })
            #expect(row.contains("Genomics") && row.contains("tre-workspace-base") && row.contains("deployed"))
            #expect(row.hasSuffix("yes"))

            let shown = await runCLI(["workspaces", "show", id, "-o", "json"], variables: variables)
            let etag = try #require(try json(shown.stdout)["workspace"]?["_etag"]?.stringValue)

            let disabled = await runCLI(
                ["workspaces", "set-enabled", id, "--etag", etag, "--disable", "--poll-interval", "0.1"], variables: variables)
            #expect(disabled.exitCode == 0, "\(disabled.stderr)")
            #expect(disabled.stdout.contains("updated"))
            let afterDisable = await runCLI(["workspaces", "show", id], variables: variables)
            #expect(afterDisable.stdout.split(separator: "\n").last?.hasSuffix("no") == true)

            let deleted = await runCLI(["workspaces", "delete", id, "--yes", "--poll-interval", "0.1"], variables: variables)
            #expect(deleted.exitCode == 0, "\(deleted.stderr)")
            #expect(deleted.stdout.contains("deleted"))
            let after = await runCLI(["workspaces", "list"], variables: variables)
            #expect(!after.stdout.contains(id))
        }
    }

    @Test("Deleting an enabled workspace prints the API's 400 message and fails")
    func apiErrorIsPrintedAndFails() async throws {
        try await withServer { variables in
            let definition = #"{"templateName": "tre-workspace-base", "properties": {"display_name": "W", "description": "d"}}"#
            let created = await runCLI(
                ["workspaces", "new", "--definition", definition, "--no-wait", "-o", "json"], variables: variables)
            #expect(created.exitCode == 0, "\(created.stderr)")
            #expect(created.stderr.isEmpty)
            let id = try #require(try json(created.stdout)["operation"]?["resourceId"]?.stringValue)

            let refused = await runCLI(["workspaces", "delete", id, "--yes"], variables: variables)
            #expect(refused.exitCode == 1)
            #expect(refused.stdout.isEmpty)
            #expect(refused.stderr.hasPrefix("Error (400): The workspace needs to be disabled before you can delete it"))
        }
    }

    @Test("delete asks for confirmation and, with --ensure-disabled, disables first")
    func deleteConfirmsAndEnsuresDisabled() async throws {
        try await withServer { variables in
            let definition = #"{"templateName": "tre-workspace-base", "properties": {"display_name": "W", "description": "d"}}"#
            let created = await runCLI(
                ["workspaces", "new", "--definition", definition, "--poll-interval", "0.1", "-o", "json"], variables: variables)
            let id = try #require(try json(created.stdout)["operation"]?["resourceId"]?.stringValue)

            let declined = await runCLI(["workspaces", "delete", id], variables: variables, input: ["n"])
            #expect(declined.exitCode == 1)
            #expect(declined.stderr.contains("Not deleted"))

            let deleted = await runCLI(
                ["workspaces", "delete", id, "--ensure-disabled", "--poll-interval", "0.1", "-o", "json"],
                variables: variables, input: ["y"])
            #expect(deleted.exitCode == 0, "\(deleted.stderr)")
            #expect(try json(deleted.stdout)["operation"]?["status"]?.stringValue == "deleted")
        }
    }

    @Test("A custom action on a user resource is invoked and waited for; an unknown one fails with the API's message")
    func invokeActionOnUserResource() async throws {
        try await withServer { variables in
            func create(_ arguments: [String], _ template: String) async throws -> String {
                let definition = #"{"templateName": "\#(template)", "properties": {"display_name": "X", "description": "d"}}"#
                let result = await runCLI(
                    arguments + ["new", "--definition", definition, "--poll-interval", "0.1", "-o", "json"], variables: variables)
                #expect(result.exitCode == 0, "\(result.stderr)")
                return try #require(try json(result.stdout)["operation"]?["resourceId"]?.stringValue)
            }
            let ws = try await create(["workspaces"], "tre-workspace-base")
            let svc = try await create(["workspace-services", "--workspace", ws], "tre-service-jupyterlab")
            let group = ["user-resources", "--workspace", ws, "--service", svc]
            let ur = try await create(group, "tre-user-resource-notebook")

            let stopped = await runCLI(group + ["invoke-action", ur, "stop", "--poll-interval", "0.1"], variables: variables)
            #expect(stopped.exitCode == 0, "\(stopped.stderr)")
            #expect(stopped.stdout.contains("action_succeeded"))

            let unknown = await runCLI(group + ["invoke-action", ur, "explode"], variables: variables)
            #expect(unknown.exitCode == 1)
            #expect(unknown.stderr.hasPrefix("Error (400): "))

            let listed = await runCLI(group + ["list", "-o", "json"], variables: variables)
            #expect(try json(listed.stdout)["userResources"]?.arrayValue?.count == 1)
        }
    }

    @Test("health, templates and operations print tables")
    func readOnlyCommands() async throws {
        try await withServer { variables in
            let health = await runCLI(["health"], variables: variables)
            #expect(health.exitCode == 0)
            #expect(health.stdout.hasPrefix("SERVICE"))

            let templates = await runCLI(["templates", "list"], variables: variables)
            #expect(templates.stdout.contains("tre-workspace-base"))
            #expect(templates.stdout.contains("tre-shared-service-firewall"))
            let userResourceTemplates = await runCLI(
                ["templates", "list", "--type", "user-resource", "--service", "tre-service-jupyterlab"], variables: variables)
            #expect(userResourceTemplates.stdout.contains("tre-user-resource-notebook"))
            let notebook = await runCLI(
                ["templates", "show", "tre-user-resource-notebook", "--type", "user-resource", "--service", "tre-service-jupyterlab"],
                variables: variables)
            #expect(notebook.stdout.contains("start, stop"))

            let operations = await runCLI(["operations", "list", "-o", "json"], variables: variables)
            let body = try json(operations.stdout)
            #expect(body["operations"]?.arrayValue != nil)
        }
    }

    @Test("workspace WS users assigns, lists and removes workspace roles")
    func workspaceUsers() async throws {
        try await withServer { variables in
            let definition = #"{"templateName": "tre-workspace-base", "properties": {"display_name": "Roles", "description": "d"}}"#
            let created = await runCLI(
                ["workspaces", "new", "--definition", definition, "--no-wait", "-o", "json"], variables: variables)
            let id = try #require(try json(created.stdout)["operation"]?["resourceId"]?.stringValue)
            let users = ["workspace", id, "users"]

            let assigned = await runCLI(
                users + ["assign", "--role", "WorkspaceResearcher", TestUsers.researcher.id, TestUsers.researcher2.id], variables: variables)
            #expect(assigned.exitCode == 0, "\(assigned.stderr)")
            #expect(assigned.stdout.contains("Assigned WorkspaceResearcher to \(TestUsers.researcher.id), \(TestUsers.researcher2.id)"))
            let asManager = await runCLI(
                users + ["assign", "--role", "AirlockManager", TestUsers.researcher.id, "-o", "json"], variables: variables)
            #expect(try json(asManager.stdout)["role_id"]?.stringValue == "AirlockManager")

            let listed = await runCLI(users + ["list"], variables: variables)
            #expect(listed.exitCode == 0, "\(listed.stderr)")
            let row = try #require(listed.stdout.split(separator: "\n").first { $0.hasPrefix(TestUsers.researcher.id) })
            #expect(row.contains("WorkspaceResearcher, AirlockManager") || row.contains("AirlockManager, WorkspaceResearcher"))
            let listedJSON = try json(await runCLI(users + ["list", "-o", "json"], variables: variables).stdout)
            let ids = Set(listedJSON["users"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? [])
            #expect(ids.isSuperset(of: [TestUsers.researcher.id, TestUsers.researcher2.id]))

            let removed = await runCLI(users + ["remove", "--role", "WorkspaceResearcher", TestUsers.researcher.id], variables: variables)
            #expect(removed.exitCode == 0, "\(removed.stderr)")
            let after = await runCLI(users + ["list"], variables: variables)
            let afterRow = try #require(after.stdout.split(separator: "\n").first { $0.hasPrefix(TestUsers.researcher.id) })
            #expect(!afterRow.contains("WorkspaceResearcher"))

            let unknownRole = await runCLI(users + ["assign", "--role", "Janitor", TestUsers.researcher.id], variables: variables)
            #expect(unknownRole.exitCode == 1)
            #expect(unknownRole.stderr.hasPrefix("Error (400): Unknown role 'Janitor'"))
            let notHeld = await runCLI(users + ["remove", "--role", "WorkspaceOwner", TestUsers.researcher2.id], variables: variables)
            #expect(notHeld.exitCode == 1)
            #expect(notHeld.stderr.hasPrefix("Error (404)"))
        }
    }
}
