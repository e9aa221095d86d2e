import ArgumentParser
import Testing

@testable import EnclaveCLI

@Suite("Argument parsing")
struct ArgumentParsingTests {
    @Test("workspaces new takes a definition and the wait, connection and output options")
    func workspacesNewParses() throws {
        let parsed = try TestRoot.parseAsRoot([
            "workspaces", "new", "--definition", #"{"templateName": "tre-workspace-base"}"#, "--no-wait",
            "--poll-interval", "0.5", "--url", "http://x", "--token", "t", "-o", "json",
        ])
        let command = try #require(parsed as? NewResource<WorkspaceScope>)
        #expect(command.definition.definition == #"{"templateName": "tre-workspace-base"}"#)
        #expect(command.wait.policy == WaitPolicy(noWait: true, pollInterval: .milliseconds(500)))
        #expect(command.connection.url == "http://x")
        #expect(command.connection.token == "t")
        #expect(command.output.output == .json)
    }

    @Test("workspace WS users assign takes the workspace before the group, a role and user ids")
    func workspaceUsersParse() throws {
        let assign = try #require(
            try TestRoot.parseAsRoot(["workspace", "ws1", "users", "assign", "--role", "WorkspaceResearcher", "u1", "u2", "-o", "json"])
                as? WorkspaceUsersAssign)
        #expect(assign.workspace.path == "/api/workspaces/ws1")
        #expect(assign.role.role == "WorkspaceResearcher" && assign.users == ["u1", "u2"] && assign.output.output == .json)
        let list = try #require(try TestRoot.parseAsRoot(["workspace", "ws1", "users", "list"]) as? WorkspaceUsersList)
        #expect(list.workspace.workspace == "ws1")
        #expect(throws: (any Error).self) { try TestRoot.parseAsRoot(["workspace", "ws1", "users", "assign", "u1"]) }
        #expect(throws: (any Error).self) { try TestRoot.parseAsRoot(["workspace", "ws1", "users", "remove", "--role", "AirlockManager"]) }
    }

    @Test("login takes --device and --timeout; --token still works")
    func loginParses() throws {
        let login = try #require(try TestRoot.parseAsRoot(["login", "--url", "http://x", "--device", "--timeout", "60"]) as? LoginCommand)
        #expect(login.device && login.timeout == 60 && login.token == nil)
        let withToken = try #require(try TestRoot.parseAsRoot(["login", "--url", "http://x", "--token", "t"]) as? LoginCommand)
        #expect(withToken.token == "t" && !withToken.device)
    }

    @Test("A group's --workspace may come before or after the subcommand")
    func parentOptionsParseOnEitherSide() throws {
        for arguments in [
            ["workspace-services", "--workspace", "ws1", "list"], ["workspace-services", "list", "--workspace", "ws1"],
        ] {
            let command = try #require(try TestRoot.parseAsRoot(arguments) as? ListResources<WorkspaceServiceScope>)
            #expect(WorkspaceServiceScope.collectionPath(command.group) == "/workspaces/ws1/workspace-services")
        }
    }

    @Test("user-resources needs both the workspace and the service")
    func userResourcesNeedWorkspaceAndService() throws {
        let command = try #require(
            try TestRoot.parseAsRoot(["user-resources", "--workspace", "w", "--service", "s", "invoke-action", "r", "stop"])
                as? InvokeAction<UserResourceScope>)
        #expect(UserResourceScope.collectionPath(command.group) == "/workspaces/w/workspace-services/s/user-resources")
        #expect(command.id == "r" && command.action == "stop")
        #expect(throws: (any Error).self) { try TestRoot.parseAsRoot(["user-resources", "--workspace", "w", "list"]) }
    }

    @Test("set-enabled takes exactly one of --enable and --disable, and an etag")
    func setEnabledParsesState() throws {
        let command = try #require(
            try TestRoot.parseAsRoot(["shared-services", "set-enabled", "id1", "--etag", "*", "--disable"])
                as? SetEnabled<SharedServiceScope>)
        #expect(command.state == .disable && command.etag == "*")
        #expect(throws: (any Error).self) { try TestRoot.parseAsRoot(["workspaces", "set-enabled", "id1", "--etag", "e"]) }
        #expect(throws: (any Error).self) {
            try TestRoot.parseAsRoot(["workspaces", "set-enabled", "id1", "--etag", "e", "--enable", "--disable"])
        }
    }

    @Test("new and update refuse a missing or doubled definition")
    func definitionIsRequiredOnce() {
        #expect(throws: (any Error).self) { try TestRoot.parseAsRoot(["workspaces", "new"]) }
        #expect(throws: (any Error).self) {
            try TestRoot.parseAsRoot(["workspaces", "update", "id", "--etag", "e", "--definition", "{}", "--definition-file", "f"])
        }
    }

    @Test("Template commands need --service exactly for user-resource templates")
    func templateServiceOption() throws {
        let command = try #require(
            try TestRoot.parseAsRoot(["templates", "list", "--type", "user-resource", "--service", "tre-service-jupyterlab"])
                as? ListTemplates)
        #expect(
            try command.selection.type?.collectionPath(service: command.selection.service)
                == "/workspace-service-templates/tre-service-jupyterlab/user-resource-templates")
        #expect(throws: (any Error).self) { try TestRoot.parseAsRoot(["templates", "list", "--type", "user-resource"]) }
        #expect(throws: (any Error).self) { try TestRoot.parseAsRoot(["templates", "new", "--definition", "{}"]) }
    }

    @Test("operations show accepts a Location or a resource path and an id")
    func operationsShowForms() throws {
        let byPath = try #require(
            try TestRoot.parseAsRoot(["operations", "show", "--resource-path", "/workspaces/w", "op1"]) as? ShowOperation)
        #expect(byPath.location == "/api/workspaces/w/operations/op1")
        let byLocation = try #require(
            try TestRoot.parseAsRoot(["operations", "show", "/api/workspaces/w/operations/op1"]) as? ShowOperation)
        #expect(byLocation.location == "/api/workspaces/w/operations/op1")
        #expect(throws: (any Error).self) { try TestRoot.parseAsRoot(["operations", "show", "op1"]) }
    }

    @Test("An unknown output format is refused")
    func unknownOutputRefused() {
        #expect(throws: (any Error).self) { try TestRoot.parseAsRoot(["workspaces", "list", "-o", "yaml"]) }
    }

    @Test("ENCLAVE_TIMEOUT sets how long each answer is awaited; missing, zero or not a number keeps 30 s")
    func requestTimeoutFromTheEnvironment() {
        func timeout(_ value: String?) -> Duration {
            CLIEnvironment(
                variables: value.map { ["ENCLAVE_TIMEOUT": $0] } ?? [:], writeOutput: { _ in }, writeError: { _ in },
                errorIsTerminal: false, readLine: { nil }
            ).requestTimeout
        }
        #expect(timeout("90") == .seconds(90))
        #expect(timeout("2.5") == .milliseconds(2500))
        for value in [nil, "0", "-4", "soon"] { #expect(timeout(value) == .seconds(30), "\(value ?? "unset")") }
    }
}
