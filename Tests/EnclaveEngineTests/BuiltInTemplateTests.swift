import EnclaveCore
import Foundation
import Testing

@testable import EnclaveEngine

/// The templates shipped under `templates/`: they load, and their scripts really change the host.
@Suite("Built-in templates")
struct BuiltInTemplateTests {
    static let templatesRoot = repositoryRoot().appendingPathComponent("templates")

    static let expected: [(name: String, type: ResourceType, folder: String, version: String)] = [
        ("tre-workspace-base", .workspace, "workspaces/base", "0.1.0"),
        ("tre-workspace-unrestricted", .workspace, "workspaces/unrestricted", "0.1.0"),
        ("tre-shared-service-firewall", .sharedService, "shared_services/firewall", "0.1.0"),
        ("tre-service-jupyterlab", .workspaceService, "workspace_services/jupyterlab", "0.1.0"),
        ("tre-user-resource-notebook", .userResource, "workspace_services/jupyterlab/user_resources/notebook", "0.2.0"),
        ("tre-service-desktop", .workspaceService, "workspace_services/desktop", "0.1.0"),
        ("tre-user-resource-desktop", .userResource, "workspace_services/desktop/user_resources/desktop", "0.1.0"),
        ("tre-service-mlflow", .workspaceService, "workspace_services/mlflow", "0.1.0"),
        ("tre-service-git", .workspaceService, "workspace_services/git", "0.1.0"),
    ]

    @Test func everyBuiltInTemplateLoadsWithoutProblems() throws {
        let catalog = BundleCatalog.load(from: Self.templatesRoot.path)
        #expect(catalog.problems.isEmpty, "\(catalog.problems)")
        for (name, type, folder, version) in Self.expected {
            let bundle = try #require(catalog.bundle(name: name, version: version), "\(name) \(version) is missing")
            #expect(bundle.type == type)
            #expect(bundle.directory == Self.templatesRoot.appendingPathComponent(folder).standardizedFileURL.path)
            #expect(
                FileManager.default.fileExists(atPath: bundle.directory + "/" + BundleCatalog.manifestFileName)
                    && FileManager.default.fileExists(atPath: bundle.directory + "/" + BundleCatalog.schemaFileName))
            #expect(bundle.manifest.actions["install"]?.idempotent == true)
        }
        #expect(Set(catalog.bundles.map(\.name)) == Set(Self.expected.map(\.name)))
    }

    @Test(arguments: expected.map(\.folder))
    func everyTemplateSchemaIsAnAzureTREStyleSchemaForItsFolder(folder: String) throws {
        let url = Self.templatesRoot.appendingPathComponent(folder).appendingPathComponent("template_schema.json")
        let schema = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: url))
        #expect(schema["$schema"] == "http://json-schema.org/draft-07/schema")
        #expect(schema["$id"] == .string("templates/\(folder)/template_schema.json"))
        #expect(schema["type"] == "object")
        #expect(schema["title"]?.stringValue?.isEmpty == false)
        #expect(schema["description"]?.stringValue?.isEmpty == false)
        #expect(schema["required"]?.arrayValue != nil)
        #expect(schema["authorizedRoles"]?.arrayValue != nil)
        let properties = try #require(schema["properties"]?.objectValue)
        // The server adds these from the base schemas; a template must not redeclare them.
        for injected in ["display_name", "description", "overview"] {
            #expect(properties[injected] == nil, "\(folder) redeclares \(injected)")
        }
        for (name, property) in properties {
            #expect(property["type"] != nil, "\(folder): property \(name) has no type")
            #expect(property["title"] != nil, "\(folder): property \(name) has no title")
        }
    }

    @Test(arguments: expected.map(\.name))
    func everyBuiltInTemplateRegistersAndItsDefaultsAreValidProperties(name: String) throws {
        let catalog = BundleCatalog.load(from: Self.templatesRoot.path)
        let version = Self.expected.first { $0.name == name }?.version ?? "0.1.0"
        let bundle = try #require(catalog.bundle(name: name, version: version))
        // The registration body as the server would post it (Azure TRE's wire names).
        let body: JSONValue = [
            "name": .string(bundle.name), "version": .string(bundle.version), "current": true,
            "json_schema": bundle.schema,
            "customActions": .array(bundle.manifest.customActionNames.map { ["name": .string($0)] }),
        ]
        let registration = try JSONDecoder().decode(TemplateRegistration.self, from: Data(body.description.utf8))
        let template = try ResourceTemplate(
            registration: registration, type: bundle.type, parent: bundle.manifest.parent, id: "t-\(name)")
        let input: [String: JSONValue] = ["display_name": .string("A " + name), "description": "Created by a test"]
        try template.validateCreate(template.applyingDefaults(to: input))
    }

    @Test func theNotebookDeclaresItsCustomActionsAndRoles() throws {
        let catalog = BundleCatalog.load(from: Self.templatesRoot.path)
        let notebook = try #require(catalog.bundle(name: "tre-user-resource-notebook", version: "0.2.0"))
        #expect(notebook.manifest.parent == "tre-service-jupyterlab")
        #expect(notebook.manifest.customActionNames == ["start", "stop"])
        let declared = notebook.schema["customActions"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(declared == ["start", "stop"])
        #expect(notebook.schema["authorizedRoles"] == ["WorkspaceOwner", "WorkspaceResearcher"])
    }

    @Test func theUnrestrictedWorkspacePipelineOpensAndClosesTheFirewall() throws {
        let catalog = BundleCatalog.load(from: Self.templatesRoot.path)
        let workspace = try #require(catalog.bundle(name: "tre-workspace-unrestricted", version: "0.1.0"))
        let pipeline = try #require(workspace.schema["pipeline"])
        let install = try #require(pipeline["install"]?.arrayValue)
        #expect(install.first?["stepId"] == "main")
        let firewallStep = try #require(install.last)
        #expect(firewallStep["resourceTemplateName"] == "tre-shared-service-firewall")
        #expect(firewallStep["resourceType"] == "shared-service")
        #expect(firewallStep["resourceAction"] == "upgrade")
        let property = try #require(firewallStep["properties"]?.arrayValue?.first)
        #expect(property["name"] == "network_rule_collections")
        #expect(property["arraySubstitutionAction"] == "append")
        #expect(property["arrayMatchField"] == "name")
        #expect(property["value"]?["name"] == "nrc_ws_{{ resource.id }}")
        let uninstall = try #require(pipeline["uninstall"]?.arrayValue)
        #expect(uninstall.last?["stepId"] == "main")
        #expect(uninstall.first?["properties"]?.arrayValue?.first?["arraySubstitutionAction"] == "remove")
        let stepIds = ["install", "upgrade", "uninstall"].flatMap { pipeline[$0]?.arrayValue ?? [] }
            .compactMap { $0["stepId"]?.stringValue }.filter { $0 != "main" }
        #expect(Set(stepIds).count == stepIds.count)
        #expect(workspace.schema["properties"]?["enable_airlock"]?["const"] == false)
    }
}

/// Runs the built-in templates' scripts through the exec deployer against a temporary DATA dir.
@Suite("Built-in template scripts")
struct BuiltInTemplateScriptTests {
    let data: URL
    let deployer: ExecDeployer

    init() {
        data = FileManager.default.temporaryDirectory.appendingPathComponent(
            "enclave-builtin-test-" + UUID().uuidString.lowercased())
        deployer = ExecDeployer(
            catalog: BundleCatalog.load(from: BuiltInTemplateTests.templatesRoot.path), dataDirectory: data.path,
            terminationGracePeriod: .milliseconds(500), isolation: FixedIsolation(), workloads: SkippedWorkloads())
    }

    func run(
        _ template: String, _ type: ResourceType, _ action: String, id: String, parameters: [String: JSONValue] = [:],
        workspaceId: String? = nil, serviceId: String? = nil, ownerId: String? = nil
    ) async throws -> DeploymentResult {
        let request = DeploymentRequest(
            operationId: UUID().uuidString, stepId: "main", action: action, resourceId: id, resourceType: type,
            templateName: template, templateVersion: BuiltInTemplateTests.expected.first { $0.name == template }?.version ?? "0.1.0", parameters: parameters, workspaceId: workspaceId,
            parentWorkspaceServiceId: serviceId, ownerId: ownerId)
        let result = try await deployer.deploy(request, progress: { _ in })
        #expect(result.succeeded, "\(template) \(action): \(result.message)")
        return result
    }

    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: data.path + "/" + path) }

    func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: data.path + "/" + path)
        return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    func json(_ path: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: data.appendingPathComponent(path)))
    }

    @Test func theBaseWorkspaceCreatesItsFoldersAndRemovesThemWithoutArchive() async throws {
        defer { try? FileManager.default.removeItem(at: data) }
        let ws = "ws-\(UUID().uuidString.lowercased())"
        let install = try await run(
            "tre-workspace-base", .workspace, "install", id: ws,
            parameters: ["display_name": "Cancer \"study\"", "shared_storage_quota": 25, "archive_on_delete": false])
        for folder in ["shared", "home", "imports", "data", "exports"] {
            #expect(exists("workspaces/\(ws)/\(folder)"), "missing \(folder)")
        }
        #expect(try mode("workspaces/\(ws)") == 0o750)
        #expect(try mode("workspaces/\(ws)/imports") == 0o750)
        #expect(try mode("workspaces/\(ws)/data") == 0o750)
        #expect(try mode("workspaces/\(ws)/shared") & 0o7777 == 0o2770)
        #expect(install.outputs["workspace_uid"] == 200_123, "the isolate step's outputs are merged")
        if getuid() == 0 {
            // The isolate step's uid owns the shared folder; the workspace's group reads imports and data.
            let shared = try FileManager.default.attributesOfItem(atPath: data.path + "/workspaces/\(ws)/shared")
            #expect((shared[.ownerAccountID] as? NSNumber)?.intValue == 200_123)
            let imports = try FileManager.default.attributesOfItem(atPath: data.path + "/workspaces/\(ws)/imports")
            #expect((imports[.groupOwnerAccountID] as? NSNumber)?.intValue == 200_123)
            #expect((imports[.ownerAccountID] as? NSNumber)?.intValue == 0)
        }
        #expect(install.outputs["storage_path"] == .string(data.standardizedFileURL.path + "/workspaces/\(ws)"))
        #expect(install.outputs["egress"] == "none")
        #expect(install.outputs["airlock_enabled"] == true)
        let settings = try json("workspaces/\(ws)/workspace.json")
        #expect(settings["display_name"] == "Cancer \"study\"")
        #expect(settings["shared_storage_quota"] == 25)
        #expect(settings["enable_airlock"] == true)
        #expect(settings["workspace_owner_object_id"] == .null)

        _ = try await run(
            "tre-workspace-base", .workspace, "upgrade", id: ws,
            parameters: ["shared_storage_quota": 50, "enable_airlock": false, "workspace_owner_object_id": "user-1"])
        let updated = try json("workspaces/\(ws)/workspace.json")
        #expect(updated["shared_storage_quota"] == 50)
        #expect(updated["enable_airlock"] == false)
        #expect(updated["workspace_owner_object_id"] == "user-1")

        let uninstall = try await run(
            "tre-workspace-base", .workspace, "uninstall", id: ws, parameters: ["archive_on_delete": false])
        #expect(!exists("workspaces/\(ws)"))
        #expect(!exists("archive"))
        #expect(uninstall.outputs.isEmpty)
        // Idempotent: a second uninstall (after a lost worker) still succeeds.
        _ = try await run("tre-workspace-base", .workspace, "uninstall", id: ws)
    }

    @Test func deletingAWorkspaceArchivesItsStorageByDefault() async throws {
        defer { try? FileManager.default.removeItem(at: data) }
        let ws = "ws-archive"
        _ = try await run("tre-workspace-base", .workspace, "install", id: ws)
        try "results".write(
            to: data.appendingPathComponent("workspaces/\(ws)/shared/result.txt"), atomically: true, encoding: .utf8)
        let uninstall = try await run("tre-workspace-base", .workspace, "uninstall", id: ws)
        #expect(!exists("workspaces/\(ws)"))
        let archive = try #require(uninstall.outputs["archive_path"]?.stringValue)
        #expect(archive.hasPrefix(data.standardizedFileURL.path + "/archive/workspaces/\(ws)-"))
        #expect(archive.hasSuffix(".tar.gz"))
        #expect(FileManager.default.fileExists(atPath: archive))
    }

    @Test func theUnrestrictedWorkspaceAllowsEgressAndTheFirewallRecordsRules() async throws {
        defer { try? FileManager.default.removeItem(at: data) }
        let install = try await run("tre-workspace-unrestricted", .workspace, "install", id: "ws-open")
        #expect(install.outputs["egress"] == "allowed")
        #expect(install.outputs["airlock_enabled"] == false)

        let collection: JSONValue = [
            "name": "nrc_ws_ws-open", "action": "Allow",
            "rules": [["name": "AllowAll", "destination_addresses": ["*"], "protocols": ["TCP"]]],
        ]
        let firewall = try await run(
            "tre-shared-service-firewall", .sharedService, "install", id: "fw",
            parameters: ["network_rule_collections": [collection]])
        #expect(
            firewall.outputs["rules_path"] == .string(data.standardizedFileURL.path + "/shared/firewall/rules.json"))
        let rules = try json("shared/firewall/rules.json")
        #expect(rules["network_rule_collections"] == [collection])
        #expect(rules["rule_collections"] == [])

        _ = try await run(
            "tre-shared-service-firewall", .sharedService, "upgrade", id: "fw",
            parameters: ["network_rule_collections": [], "rule_collections": []])
        #expect(try json("shared/firewall/rules.json")["network_rule_collections"] == [])

        _ = try await run("tre-shared-service-firewall", .sharedService, "uninstall", id: "fw")
        #expect(!exists("shared/firewall/rules.json"))
        _ = try await run(
            "tre-workspace-unrestricted", .workspace, "uninstall", id: "ws-open",
            parameters: ["archive_on_delete": false])
        #expect(!exists("workspaces/ws-open"))
    }

    @Test func aNotebookIsInstalledStartedStoppedAndRemovedInsideItsService() async throws {
        defer { try? FileManager.default.removeItem(at: data) }
        let ws = "ws-nb"
        let svc = "svc-jl"
        let nb = "nb-1"
        let owner = "user-42"
        _ = try await run("tre-workspace-base", .workspace, "install", id: ws)
        let service = try await run(
            "tre-service-jupyterlab", .workspaceService, "install", id: svc,
            parameters: ["kernels": ["python3", "ir"]],
            workspaceId: ws)
        #expect(service.outputs["connection_uri"] == .string("/workspaces/\(ws)/services/\(svc)/"))
        #expect(try json("workspaces/\(ws)/services/\(svc)/config.json")["kernels"] == ["python3", "ir"])

        func notebook(_ action: String, _ parameters: [String: JSONValue] = [:]) async throws -> DeploymentResult {
            try await run(
                "tre-user-resource-notebook", .userResource, action, id: nb, parameters: parameters, workspaceId: ws,
                serviceId: svc, ownerId: owner)
        }
        let installed = try await notebook("install")
        #expect(installed.outputs["notebooks_path"] == .string("home/\(owner)/notebooks"))
        #expect(exists("workspaces/\(ws)/home/\(owner)/notebooks"))
        #expect(try mode("workspaces/\(ws)/home/\(owner)") == 0o700)
        #expect(try mode("workspaces/\(ws)/home/\(owner)/notebooks") == 0o700)

        // The workload steps run JupyterLab (skipped here; the root end-to-end test runs it).
        #expect(try await notebook("stop").succeeded)
        #expect(try await notebook("upgrade").succeeded)
        #expect(try await notebook("start").succeeded)

        try "print(1)".write(
            to: data.appendingPathComponent("workspaces/\(ws)/home/\(owner)/notebooks/a.py"), atomically: true,
            encoding: .utf8)
        _ = try await notebook("uninstall")
        #expect(exists("workspaces/\(ws)/home/\(owner)/notebooks/a.py"), "notebooks are kept by default")

        _ = try await notebook("install")
        _ = try await notebook("uninstall", ["delete_notebooks": true])
        #expect(!exists("workspaces/\(ws)/home/\(owner)/notebooks"))

        _ = try await run("tre-service-jupyterlab", .workspaceService, "uninstall", id: svc, workspaceId: ws)
        #expect(!exists("workspaces/\(ws)/services/\(svc)"))
        _ = try await run(
            "tre-workspace-base", .workspace, "uninstall", id: ws, parameters: ["archive_on_delete": false])
        #expect(!exists("workspaces/\(ws)"))
    }

    @Test func aServiceCannotBeInstalledBeforeItsWorkspace() async throws {
        defer { try? FileManager.default.removeItem(at: data) }
        let request = DeploymentRequest(
            operationId: "op", stepId: "main", action: "install", resourceId: "svc", resourceType: .workspaceService,
            templateName: "tre-service-jupyterlab", templateVersion: "0.1.0", parameters: [:], workspaceId: "missing")
        let result = try await deployer.deploy(request, progress: { _ in })
        #expect(!result.succeeded)
        #expect(result.message.contains("deploy the workspace before its services"))
    }

    @Test func anIdThatIsNotAFolderNameIsRefused() async throws {
        defer { try? FileManager.default.removeItem(at: data) }
        let request = DeploymentRequest(
            operationId: "op", stepId: "main", action: "install", resourceId: "..", resourceType: .workspace,
            templateName: "tre-workspace-base", templateVersion: "0.1.0", parameters: [:])
        let result = try await deployer.deploy(request, progress: { _ in })
        #expect(!result.succeeded)
        #expect(result.message.contains("cannot be used as a folder name"))
    }
}


/// Stands in for the local data plane: `isolate:` steps succeed with a fixed uid and address.
struct FixedIsolation: IsolationStepRunner {
    func isolate(
        _ isolation: BundleIsolation, request: DeploymentRequest, progress: @escaping @Sendable (String) async -> Void
    ) async throws -> DeploymentResult {
        guard request.action != "uninstall" else { return DeploymentResult(succeeded: true, message: "removed") }
        return DeploymentResult(
            succeeded: true,
            outputs: ["workspace_uid": .int(200_123), "workspace_gid": .int(200_123), "workspace_address": .string("10.200.0.2")],
            message: "isolated")
    }

    func healthProblem() async -> String? { nil }
}

/// Workload and tool steps that succeed without installing or starting anything (as the simulated
/// data plane does), recording what they were asked.
struct SkippedWorkloads: WorkloadStepRunner {
    func workload(
        _ workload: BundleWorkload, request: DeploymentRequest, progress: @escaping @Sendable (String) async -> Void
    ) async throws -> DeploymentResult {
        DeploymentResult(succeeded: true, outputs: ["power_state": .string("not_started")], message: "skipped")
    }

    func tool(
        _ tool: BundleTool, request: DeploymentRequest, progress: @escaping @Sendable (String) async -> Void
    ) async throws -> DeploymentResult {
        DeploymentResult(succeeded: true, message: "skipped")
    }
}
