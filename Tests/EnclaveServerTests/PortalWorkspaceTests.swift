import EnclaveCore
@testable import EnclaveServer
import EnclavePortal
import EnclaveStore
import EnclaveTesting
import Foundation
import HTTPTypes
import Mustache
import Testing

/// The workspace pages: who may see them, what they show each role, the Start/Stop and role forms.
@Suite("Portal: workspace, service, operations and users pages")
struct PortalWorkspaceTests {
    static let csrfHeader = HTTPField.Name("X-CSRF-Token")!

    /// Creates a user resource as the signed-in browser, through the JSON API with its session cookie (as
    /// the portal's own forms would), and waits for it; returns its id.
    func createUserResource(
        _ browser: inout PortalBrowser, _ api: APIClient, workspace: String, service: String, name: String
    ) async throws -> String {
        let body: JSONValue = ["templateName": "tre-user-resource-notebook", "properties": ["display_name": .string(name), "description": "d"]]
        let reply = try await browser.browser.send(
            .post, "/api/workspaces/\(workspace)/workspace-services/\(service)/user-resources", json: body.description,
            headers: [Self.csrfHeader: browser.csrf])
        #expect(reply.status == .accepted, "\(reply.text)")
        let op = try await api.wait(reply.location)
        #expect(op["status"] == "deployed", "\(op)")
        return try #require(op["resourceId"]?.stringValue)
    }

    func operationCount(_ api: APIClient, _ path: String) async throws -> Int {
        try await api.call(.get, "/api\(path)/operations", as: TestUsers.admin).json["operations"]?.arrayValue?.count ?? -1
    }

    @Test("a workspace's page is for those with a role in it and for admins; others get 403, unknown ids 404")
    func whoSeesTheWorkspacePage() async throws {
        try await withAPI { api in
            let alpha = try await api.createAndWait("/api/workspaces", template: "tre-workspace-base", properties: ["display_name": "Alpha study"])
            let beta = try await api.createAndWait("/api/workspaces", template: "tre-workspace-base", properties: ["display_name": "Beta study"])
            var rosa = try await PortalBrowser.signIn(api, username: "rosa", roles: ["TREUser"])
            try await rosa.grant(.researcher, in: alpha, api: api)

            let page = try await rosa.get("/workspaces/\(alpha)")
            #expect(page.status == .ok)
            #expect(page.text.contains("<h1>Alpha study</h1>"))
            #expect(page.text.contains("Your role: Workspace Researcher"))
            #expect(page.text.contains("href=\"/workspaces/\(alpha)/airlock\""), "the airlock is on by default")
            #expect(!page.text.contains("/edit\"") && !page.text.contains("/delete\""), "no Edit/Delete for a researcher")
            #expect(!page.text.contains("workspace-services/new"), "only owners add services")
            #expect(!page.text.contains("/users\""), "the users page is for owners and admins")
            #expect(page.text.contains("/static/operations.js?v="))

            let refused = try await rosa.get("/workspaces/\(beta)")
            #expect(refused.status == .forbidden)
            #expect(!refused.text.contains("Beta study"))
            #expect(try await rosa.get("/workspaces/\(beta)/operations").status == .forbidden)
            #expect(try await rosa.get("/workspaces/\(UUID().uuidString.lowercased())").status == .notFound)
            #expect(try await rosa.get("/workspaces/not-a-workspace/operations").status == .notFound)

            var ada = try await PortalBrowser.signIn(api, username: "ada", roles: ["TREAdmin"])
            for id in [alpha, beta] {
                let seen = try await ada.get("/workspaces/\(id)")
                #expect(seen.status == .ok)
                #expect(seen.text.contains("href=\"/workspaces/\(id)/edit\"") && seen.text.contains("href=\"/workspaces/\(id)/delete\""))
                #expect(seen.text.contains("href=\"/workspaces/\(id)/users\""))
                // As in the API: an admin without a role in the workspace does not list its services.
                #expect(seen.text.contains("Only the workspace's owners, researchers and airlock managers see its services."))
                #expect(seen.text.contains("Install Test tre-workspace-base") || seen.text.contains("Install Alpha study") || seen.text.contains("Install Beta study"))
            }
        }
    }

    @Test("the overview is markdown with raw HTML and script links made inert")
    func overviewIsSanitisedMarkdown() async throws {
        try await withAPI { api in
            let overview = """
                # Study protocol

                Data from **three** trusts. <script>alert(1)</script> <img src=x onerror=alert(1)>

                [bad](javascript:alert(1)) [good](https://example.org/protocol)
                """
            let ws = try await api.createAndWait(
                "/api/workspaces", template: "tre-workspace-base", properties: ["overview": .string(overview)])
            var ada = try await PortalBrowser.signIn(api, username: "ada", roles: ["TREAdmin"])
            let page = try await ada.get("/workspaces/\(ws)").text
            #expect(page.contains("<h3>Study protocol</h3>"))
            #expect(page.contains("<strong>three</strong>"))
            #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(page.contains("&lt;img src=x onerror=alert(1)&gt;"))
            #expect(!page.contains("<img"))
            #expect(page.contains("<a>bad</a>"))
            #expect(!page.contains("javascript:"))
            #expect(page.contains("<a href=\"https://example.org/protocol\" rel=\"noopener noreferrer\">good</a>"))
        }
    }

    @Test("services show Connect (the gateway URL, in a new tab) only while deployed and enabled, and only to those who may open them")
    func connectOnlyForDeployedServices() async throws {
        try await withAPI { api in
            let ws = try await api.createAndWait("/api/workspaces", template: "tre-workspace-base")
            let svc = try await api.createAndWait(
                "/api/workspaces/\(ws)/workspace-services", template: "tre-test-gateway-service",
                properties: ["display_name": "Gate", "upstream": "http://127.0.0.1:9"])
            let gateway = "/workspaces/\(ws)/services/\(svc)/"
            // A copy of the service still deploying: it has a connection URI but nothing to open yet.
            let store = api.enclave.deps.store
            var deploying = try #require(try await store.resource(id: svc))
            deploying.id = UUID().uuidString.lowercased()
            deploying.resourcePath = "/workspaces/\(ws)/workspace-services/\(deploying.id)"
            deploying.deploymentStatus = OperationStatus.deploying.rawValue
            deploying.properties["display_name"] = "Gate being built"
            deploying.properties["connection_uri"] = .string("/workspaces/\(ws)/services/\(deploying.id)/")
            var insert = ChangeSet()
            insert.insertResources = [deploying]
            try await store.commit(insert)

            var olga = try await PortalBrowser.signIn(api, username: "olga", roles: ["TREUser"])
            try await olga.grant(.owner, in: ws, api: api)
            let page = try await olga.get("/workspaces/\(ws)").text
            #expect(page.contains("\(gateway)\" target=\"_blank\" rel=\"noopener\">Connect<span class=\"visually-hidden\"> to Gate (opens in a new tab)"))
            #expect(page.contains("Gate being built"))
            #expect(!page.contains("/services/\(deploying.id)/\""), "no Connect while deploying")
            #expect(page.contains("href=\"/workspaces/\(ws)/workspace-services/new\""), "owners add services")
            let servicePage = try await olga.get("/workspaces/\(ws)/workspace-services/\(svc)")
            #expect(servicePage.status == .ok)
            #expect(servicePage.text.contains("\(gateway)\" target=\"_blank\""))
            #expect(servicePage.text.contains("href=\"/workspaces/\(ws)/workspace-services/\(svc)/edit\""))
            #expect(try await olga.get("/workspaces/\(ws)/workspace-services/\(UUID().uuidString.lowercased())").status == .notFound)

            // Airlock managers see services but may not open them (as the gateway decides).
            var mia = try await PortalBrowser.signIn(api, username: "mia", roles: ["TREUser"])
            try await mia.grant(.airlockManager, in: ws, api: api)
            let managers = try await mia.get("/workspaces/\(ws)").text
            #expect(managers.contains(">Gate<"))
            #expect(!managers.contains("\(gateway)\""))

            let disable = try await api.call(
                .patch, "/api/workspaces/\(ws)/workspace-services/\(svc)", as: TestUsers.admin, json: ["isEnabled": false],
                headers: [.etag: "*"])
            #expect(try await api.wait(disable.location)["status"] == "updated")
            let disabled = try await olga.get("/workspaces/\(ws)").text
            #expect(!disabled.contains("\(gateway)\""), "no Connect for a disabled service")
            #expect(disabled.contains("updated, disabled"))
        }
    }

    @Test("researchers see only their own user resources, owners everyone's; Start/Stop invoke the action, and need the CSRF token")
    func userResourcesAndPowerButtons() async throws {
        try await withAPI { api in
            let ws = try await api.createAndWait("/api/workspaces", template: "tre-workspace-base")
            let svc = try await api.createAndWait("/api/workspaces/\(ws)/workspace-services", template: "tre-service-jupyterlab")
            var rosa = try await PortalBrowser.signIn(api, username: "rosa", roles: ["TREUser"])
            var roy = try await PortalBrowser.signIn(api, username: "roy", roles: ["TREUser"])
            var olga = try await PortalBrowser.signIn(api, username: "olga", roles: ["TREUser"])
            try await rosa.grant(.researcher, in: ws, api: api)
            try await roy.grant(.researcher, in: ws, api: api)
            try await olga.grant(.owner, in: ws, api: api)
            _ = try await rosa.get("/workspaces/\(ws)")
            _ = try await roy.get("/workspaces/\(ws)")
            let mine = try await createUserResource(&rosa, api, workspace: ws, service: svc, name: "rosa-notebook")
            let his = try await createUserResource(&roy, api, workspace: ws, service: svc, name: "roy-notebook")

            let rosasPage = try await rosa.get("/workspaces/\(ws)").text
            #expect(rosasPage.contains("My user resources"))
            #expect(rosasPage.contains("rosa-notebook") && !rosasPage.contains("roy-notebook"))
            let ownersPage = try await olga.get("/workspaces/\(ws)").text
            #expect(ownersPage.contains("rosa-notebook") && ownersPage.contains("roy-notebook"))
            #expect(ownersPage.contains("<th scope=\"col\">Owner</th>"))
            let servicePage = try await rosa.get("/workspaces/\(ws)/workspace-services/\(svc)").text
            #expect(servicePage.contains("rosa-notebook") && !servicePage.contains("roy-notebook"))

            let base = "/workspaces/\(ws)/workspace-services/\(svc)/user-resources"
            let stop = "\(base)/\(mine)/actions/stop"
            #expect(rosasPage.contains("action=\"\(stop)\""))
            let before = try await operationCount(api, "\(base)/\(mine)")

            let forged = try await rosa.post(stop, ["return_to": "/workspaces/\(ws)"], withCSRF: false)
            #expect(forged.status == .forbidden)
            #expect(try await operationCount(api, "\(base)/\(mine)") == before, "no operation without the CSRF token")
            let notHers = try await rosa.post("\(base)/\(his)/actions/stop", ["return_to": "/workspaces/\(ws)"])
            #expect(notHers.status == .forbidden)
            #expect(try await operationCount(api, "\(base)/\(his)") == before)

            let stopped = try await rosa.post(stop, ["return_to": "/workspaces/\(ws)/workspace-services/\(svc)"])
            #expect(stopped.status == .seeOther)
            #expect(stopped.location == "/workspaces/\(ws)/workspace-services/\(svc)")
            let ops = try await api.call(.get, "/api\(base)/\(mine)/operations", as: TestUsers.admin).json["operations"]?.arrayValue ?? []
            #expect(ops.count == before + 1)
            let op = try #require(ops.last)
            #expect(op["action"] == "stop")
            _ = try await api.wait("/api\(base)/\(mine)/operations/\(op["id"]?.stringValue ?? "")")
            let after = try await rosa.get("/workspaces/\(ws)/workspace-services/\(svc)")
            #expect(after.text.contains("Stop requested for rosa-notebook"), "the notice after the redirect")
            #expect(after.text.contains("<td>stopped</td>"))
            #expect(after.text.contains("action=\"\(base)/\(mine)/actions/start\""))
            #expect(!after.text.contains("action=\"\(stop)\""))
            #expect(after.text.contains(">Stop rosa-notebook</a></h3>"), "her own user resource's operations")
            #expect(!after.text.contains("Install Test tre-service-jupyterlab"), "not the service's: researchers may not read those")
            let ownersView = try await olga.get("/workspaces/\(ws)/workspace-services/\(svc)").text
            #expect(ownersView.contains("Install Test tre-service-jupyterlab") && ownersView.contains(">Stop rosa-notebook</a></h3>"))

            // A return address outside the workspace is not followed.
            let elsewhere = try await rosa.post("\(base)/\(mine)/actions/start", ["return_to": "https://evil.example/"])
            #expect(elsewhere.location == "/workspaces/\(ws)")
        }
    }

    @Test("operations pages show steps, statuses and messages, poll while running, and follow the API's rules")
    func operationsPages() async throws {
        try await withAPI { api in
            let ws = try await api.createAndWait("/api/workspaces", template: "tre-workspace-base")
            let svc = try await api.createAndWait("/api/workspaces/\(ws)/workspace-services", template: "tre-service-jupyterlab")
            let other = try await api.createAndWait("/api/workspaces", template: "tre-workspace-base")
            let install = try #require(
                try await api.call(.get, "/api/workspaces/\(ws)/operations", as: TestUsers.admin).json["operations"]?.arrayValue?.first)
            let installId = try #require(install["id"]?.stringValue)
            let otherInstall = try #require(
                try await api.call(.get, "/api/workspaces/\(other)/operations", as: TestUsers.admin).json["operations"]?.arrayValue?.first?["id"]?.stringValue)

            var olga = try await PortalBrowser.signIn(api, username: "olga", roles: ["TREUser"])
            try await olga.grant(.owner, in: ws, api: api)
            let list = try await olga.get("/workspaces/\(ws)/operations")
            #expect(list.status == .ok)
            #expect(list.text.contains("Install Test tre-workspace-base"))
            #expect(list.text.contains("Install Test tre-service-jupyterlab"))
            let firstStep = try #require(install["steps"]?.arrayValue?.first?["stepTitle"]?.stringValue)
            #expect(list.text.contains("<span class=\"step-title\">\(firstStep)</span>"))
            #expect(list.text.contains("status-ok\" data-field=\"status\">deployed<"))
            #expect(list.text.contains("Workspace history"))
            #expect(!list.text.contains("data-poll"), "nothing is running, so nothing polls")

            let one = try await olga.get("/workspaces/\(ws)/operations/\(installId)")
            #expect(one.status == .ok)
            #expect(one.text.contains("<h1>Install Test tre-workspace-base</h1>"))
            #expect(one.text.contains("<h2>Steps</h2>"))
            #expect(try await olga.get("/workspaces/\(ws)/operations/\(otherInstall)").status == .notFound, "another workspace's operation")
            #expect(try await olga.get("/workspaces/\(ws)/operations/\(UUID().uuidString.lowercased())").status == .notFound)

            // Researchers do not see the workspace's or services' operations (the API refuses them too).
            var rosa = try await PortalBrowser.signIn(api, username: "rosa", roles: ["TREUser"])
            try await rosa.grant(.researcher, in: ws, api: api)
            let theirs = try await rosa.get("/workspaces/\(ws)/operations")
            #expect(theirs.status == .ok)
            #expect(!theirs.text.contains("Install Test tre-workspace-base") && !theirs.text.contains("Install Test tre-service-jupyterlab"))
            #expect(!theirs.text.contains("Workspace history"))
            #expect(try await rosa.get("/workspaces/\(ws)/operations/\(installId)").status == .forbidden)
            _ = svc

            // A running operation carries its API URL to poll, which the session cookie may read.
            var ada = try await PortalBrowser.signIn(api, username: "ada", roles: ["TREAdmin"])
            let slow = try await api.call(
                .post, "/api/workspaces", as: TestUsers.admin,
                json: ["templateName": "tre-test-workspace", "properties": ["display_name": "Slow", "description": "d", "sleep_seconds": 4]])
            let slowId = try #require(slow.json["operation"]?["resourceId"]?.stringValue)
            let slowOp = try #require(slow.json["operation"]?["id"]?.stringValue)
            let running = try await ada.get("/workspaces/\(slowId)").text
            let poll = "/api/workspaces/\(slowId)/operations/\(slowOp)"
            #expect(running.contains("data-poll=\"\(poll)\""))
            #expect(running.contains("aria-live=\"polite\""))
            #expect(running.contains("<a href=\"/workspaces/\(slowId)\">Refresh</a>"), "without JavaScript, a Refresh link")
            #expect(running.contains("data-status-classes=\"") && running.contains("deploying:busy"))
            let polled = try await ada.browser.send(.get, poll)
            #expect(polled.status == .ok, "the session cookie reads the operation without a CSRF header")
            #expect(polled.json["operation"]?["id"] == .string(slowOp))
            _ = try await api.wait(slow.location)
            let done = try await ada.get("/workspaces/\(slowId)/operations/\(slowOp)").text
            #expect(!done.contains("data-poll"))
            #expect(done.contains(">deployed<"))
        }
    }

    @Test("users page: owners see who holds which role, researchers are refused, admins assign and remove roles by form")
    func usersAndRoles() async throws {
        try await withAPI { api in
            let ws = try await api.createAndWait("/api/workspaces", template: "tre-workspace-base")
            var olga = try await PortalBrowser.signIn(api, username: "olga", roles: ["TREUser"])
            var rosa = try await PortalBrowser.signIn(api, username: "rosa", roles: ["TREUser"])
            try await olga.grant(.owner, in: ws, api: api)
            try await rosa.grant(.researcher, in: ws, api: api)
            let users = "/workspaces/\(ws)/users"

            let owners = try await olga.get(users)
            #expect(owners.status == .ok)
            #expect(owners.text.contains(rosa.userId) && owners.text.contains("Workspace Researcher"))
            #expect(!owners.text.contains("Assign role"), "only admins assign")
            #expect(try await olga.post("\(users)/assign", ["user_id": rosa.userId, "role_id": "WorkspaceOwner"]).status == .forbidden)
            #expect(try await rosa.get(users).status == .forbidden)

            func roles(of id: String) async throws -> [String] {
                let listed = try await api.call(.get, "/api/workspaces/\(ws)/users", as: TestUsers.admin).json["users"]?.arrayValue ?? []
                return listed.first { $0["id"] == .string(id) }?["roles"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            }

            var ada = try await PortalBrowser.signIn(api, username: "ada", roles: ["TREAdmin"])
            let form = try await ada.get(users)
            #expect(form.text.contains("Assign role"))
            #expect(form.text.contains("<option value=\"\(rosa.userId)\">"), "known users are suggested")

            let forged = try await ada.post("\(users)/assign", ["user_id": rosa.userId, "role_id": "AirlockManager"], withCSRF: false)
            #expect(forged.status == .forbidden)
            #expect(try await roles(of: rosa.userId) == ["WorkspaceResearcher"])

            let empty = try await ada.post("\(users)/assign", ["user_id": " ", "role_id": "Emperor"])
            #expect(empty.status == .unprocessableContent)
            #expect(empty.text.contains("Enter the user&#39;s id") && empty.text.contains("Choose one of the roles"))

            let assigned = try await ada.post("\(users)/assign", ["user_id": rosa.userId, "role_id": "AirlockManager"])
            #expect(assigned.status == .seeOther)
            #expect(try await roles(of: rosa.userId) == ["WorkspaceResearcher", "AirlockManager"])
            let audit = try await api.call(.get, "/api/audit?action=role.assign&target=/workspaces/\(ws)", as: TestUsers.admin)
            #expect(audit.text.contains("AirlockManager"), "audited like the API's assign")

            let shown = try await ada.get(users).text
            #expect(shown.contains("is now Airlock Manager in this workspace."))
            #expect(shown.contains("Remove<span class=\"visually-hidden\"> Airlock Manager from"))
            #expect(try await ada.post("\(users)/remove", ["user_id": rosa.userId, "role_id": "AirlockManager"], withCSRF: false).status == .forbidden)
            #expect(try await roles(of: rosa.userId) == ["WorkspaceResearcher", "AirlockManager"])
            let removed = try await ada.post("\(users)/remove", ["user_id": rosa.userId, "role_id": "AirlockManager"])
            #expect(removed.status == .seeOther)
            #expect(try await roles(of: rosa.userId) == ["WorkspaceResearcher"])
        }
    }

    @Test("hostile names of workspaces, services, user resources and users render as text on every page")
    func hostileNamesAreEscaped() async throws {
        try await withAPI { api in
            let hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>"
            let ws = try await api.createAndWait(
                "/api/workspaces", template: "tre-workspace-base", properties: ["display_name": .string(hostile), "description": .string(hostile)])
            let svc = try await api.createAndWait(
                "/api/workspaces/\(ws)/workspace-services", template: "tre-service-jupyterlab",
                properties: ["display_name": .string(hostile), "description": .string(hostile)])
            var olga = try await PortalBrowser.signIn(api, username: "olga", roles: ["TREUser"])
            try await olga.grant(.owner, in: ws, api: api)
            _ = try await olga.get("/workspaces/\(ws)")
            _ = try await createUserResource(&olga, api, workspace: ws, service: svc, name: hostile)
            let op = try #require(
                try await api.call(.get, "/api/workspaces/\(ws)/operations", as: TestUsers.admin).json["operations"]?.arrayValue?.first?["id"]?.stringValue)
            var ada = try await PortalBrowser.signIn(api, username: "ada", roles: ["TREAdmin"])
            for (browser, path) in [
                (0, "/workspaces/\(ws)"), (0, "/workspaces/\(ws)/workspace-services/\(svc)"), (0, "/workspaces/\(ws)/operations"),
                (0, "/workspaces/\(ws)/operations/\(op)"), (1, "/workspaces/\(ws)/users"),
            ] {
                let page = browser == 0 ? try await olga.get(path) : try await ada.get(path)
                #expect(page.status == .ok, "\(path)")
                #expect(!page.text.contains("<img src=x"), "\(path)")
                #expect(page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"), "\(path)")
            }
        }
    }
}

/// The rows of the workspace pages name their fields for templates (`TemplateFields`) instead of being
/// reflected; a field added to a row but not to its `child(named:)` would render as nothing.
@Suite("Portal: workspace view models expose every field to templates")
struct PortalWorkspaceViewFieldsTests {
    func expectAllFieldsNamed(_ value: some TemplateFields) {
        for child in Mirror(reflecting: value).children {
            guard let label = child.label else { continue }
            let named = value.child(named: label)
            #expect(named != nil, "\(type(of: value)).\(label) is not in child(named:)")
            #expect(named.map { "\($0)" } == "\(unwrapped(child.value))", "\(type(of: value)).\(label) names another value")
        }
        #expect(value.child(named: "no-such-field") == nil)
    }

    func unwrapped(_ value: Any) -> Any {
        let mirror = Mirror(reflecting: value)
        guard mirror.displayStyle == .optional, let first = mirror.children.first else { return value }
        return first.value
    }

    @Test func everyStoredPropertyIsNamed() {
        let step = WorkspaceViews.Step(
            title: "t", resourceName: "r", action: "a", status: "s", statusText: "s", statusClass: "ok", message: "m", hasMessage: true)
        let op = WorkspaceViews.Operation(
            id: "i", title: "t", status: "s", statusText: "s", statusClass: "ok", message: "m", userName: "u", created: "c", createdISO: "c",
            updated: "u", href: "h", pollURL: "p", inFlight: true, steps: [step])
        let service = WorkspaceViews.Service(
            id: "i", name: "n", description: "d", templateName: "t", templateVersion: "v", status: "s", statusClass: "ok", href: "h",
            connectURL: "c", canManage: true, canAddUserResource: true, editHref: "e", deleteHref: "d", newUserResourceHref: "n")
        let userResource = WorkspaceViews.UserResource(
            id: "i", name: "n", serviceName: "s", serviceHref: "h", templateName: "t", owner: "o", status: "s", statusClass: "ok",
            powerState: "running", connectURL: "c", actionsPath: "a", canStart: true, canStop: true, editHref: "e", deleteHref: "d")
        let page = WorkspacePages.WorkspaceView(
            id: "i", name: "n", description: "d", status: "s", statusClass: "ok", templateName: "t", templateVersion: "v", enabled: true,
            role: "r", overview: "o", hasOverview: true, canEdit: true, canAddService: true, airlock: true, canViewUsers: true,
            mayReadServices: true, services: [service], userResources: [userResource], showOwners: true, operations: [op],
            olderOperations: true, anyInFlight: true, statusClasses: "s", csrf: "c", returnTo: "r")
        expectAllFieldsNamed(step)
        expectAllFieldsNamed(op)
        expectAllFieldsNamed(service)
        expectAllFieldsNamed(userResource)
        expectAllFieldsNamed(page)
    }
}
