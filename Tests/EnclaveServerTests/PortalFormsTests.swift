import EnclaveCore
import EnclaveTesting
import Foundation
import HTTPTypes
import Testing

@Suite("Portal: create, edit and delete forms")
struct PortalFormsTests {
    let admin = TestUsers.admin

    func workspaces(_ api: APIClient) async throws -> [JSONValue] {
        try await api.call(.get, "/api/workspaces", as: admin).json["workspaces"]?.arrayValue ?? []
    }

    /// Waits for the newest operation of the resource at `path` (an API path) to finish.
    func waitForLatestOperation(_ api: APIClient, _ path: String, as user: User = TestUsers.admin) async throws -> JSONValue {
        let ops = try await api.call(.get, "\(path)/operations", as: user).json["operations"]?.arrayValue ?? []
        let latest = try #require(ops.max { ($0["createdWhen"]?.numberValue ?? 0) < ($1["createdWhen"]?.numberValue ?? 0) })
        return try await api.wait("\(path)/operations/\(try #require(latest["id"]?.stringValue))", as: user)
    }

    /// A new version of the test workspace template with a conditional property, registered through the API.
    func registerConditionalTemplate(_ api: APIClient, version: String = "1.1.0", current: Bool = true) async throws {
        let schema: JSONValue = [
            "title": "Test workspace", "description": "With a conditional field", "required": [], "authorizedRoles": [],
            "properties": [
                "sleep_seconds": ["type": "number", "default": 0, "updateable": true],
                "fail": ["type": "boolean", "default": false, "updateable": true],
                "note": ["type": "string", "default": "", "updateable": true],
                "api_key": ["type": "string", "title": "API key", "default": "", "sensitive": true, "updateable": true],
                "size": ["type": "string", "enum": ["small", "large"], "default": "small"],
                "mode": ["type": "string", "title": "Mode", "enum": ["simple", "advanced"], "default": "simple", "updateable": true],
            ],
            "allOf": [[
                "if": ["properties": ["mode": ["const": "advanced"]], "required": ["mode"]],
                "then": ["properties": ["tuning": ["type": "string", "title": "Tuning", "updateable": true]], "required": ["tuning"]],
            ]],
        ]
        let reply = try await api.call(
            .post, "/api/workspace-templates", as: admin,
            json: ["name": "tre-test-workspace", "version": .string(version), "current": .bool(current), "json_schema": schema])
        #expect(reply.status == .created, "\(reply.text)")
    }

    // MARK: Create

    @Test("an admin creates a workspace through the generated form; it exists with the typed properties and deploys")
    func adminCreatesAWorkspace() async throws {
        try await withAPI { api in
            var browser = try await PortalBrowser.signIn(api, username: "ada", roles: ["TREAdmin"])
            let picker = try await browser.get("/workspaces/new")
            #expect(picker.status == .ok)
            #expect(picker.text.contains("href=\"/workspaces/new?template=tre-workspace-base\""))
            #expect(picker.text.contains("Restricted Workspace"))

            let page = try await browser.get("/workspaces/new?template=tre-workspace-base")
            #expect(page.status == .ok)
            #expect(page.text.contains("<script src=\"/static/schema-form.js?v="))
            #expect(page.text.contains("name=\"_template\" value=\"tre-workspace-base\""))
            #expect(page.text.contains("id=\"field-shared_storage_quota\" name=\"shared_storage_quota\" value=\"10\""))
            #expect(page.text.contains("name=\"airlock_output_checks.threshold\""))
            #expect(!page.text.contains("workspace_owner_object_id"), "hidden by the template's uiSchema")

            var fields = FormScraper.fields(in: page.text, containing: "_template")
            fields["display_name"] = "Genomics"
            fields["description"] = "Cohort & trial data"
            fields["shared_storage_quota"] = "25"
            fields["airlock_output_checks.threshold"] = "5"
            let created = try await browser.post("/workspaces/new", fields)
            #expect(created.status == .seeOther, "\(created.text)")
            let location = try #require(created.location)
            #expect(location.hasPrefix("/workspaces/") && location.count == "/workspaces/".count + 36)
            #expect(created.headers[values: .setCookie].contains { $0.hasPrefix("enclave_notice=Creating") })

            let id = String(location.dropFirst("/workspaces/".count))
            let workspace = try await api.call(.get, "/api/workspaces/\(id)", as: admin).json["workspace"]
            let properties = workspace?["properties"]
            #expect(properties?["display_name"] == "Genomics" && properties?["description"] == "Cohort & trial data")
            #expect(properties?["shared_storage_quota"] == 25, "numbers are typed")
            #expect(properties?["enable_airlock"] == true && properties?["archive_on_delete"] == true)
            #expect(properties?["airlock_output_checks"]?["threshold"] == 5)
            #expect(properties?["airlock_output_checks"]?["check_identifiers"] == true)
            #expect(properties?["workspace_owner_object_id"] == .string(browser.userId), "the creator owns it")
            let op = try await waitForLatestOperation(api, "/api/workspaces/\(id)")
            #expect(op["status"] == "deployed")
        }
    }

    @Test("a researcher may not open or post the create form, and nothing is created")
    func researchersCannotCreateWorkspaces() async throws {
        try await withAPI { api in
            var researcher = try await PortalBrowser.signIn(api, username: "rosa", roles: ["TREUser"])
            #expect(try await researcher.get("/workspaces/new").status == .forbidden)
            #expect(try await researcher.get("/workspaces/new?template=tre-workspace-base").status == .forbidden)
            let post = try await researcher.post("/workspaces/new", ["_template": "tre-workspace-base", "display_name": "x", "description": "y"])
            #expect(post.status == .forbidden)
            #expect(try await workspaces(api).isEmpty)
        }
    }

    @Test("a missing required field and an out-of-range number come back next to their fields; nothing is created")
    func validationErrorsAreShownNextToTheField() async throws {
        try await withAPI { api in
            var browser = try await PortalBrowser.signIn(api, username: "ada", roles: ["TREAdmin"])
            let page = try await browser.get("/workspaces/new?template=tre-workspace-base")
            var fields = FormScraper.fields(in: page.text, containing: "_template")
            fields["display_name"] = ""
            fields["description"] = "Kept <as typed>"
            fields["shared_storage_quota"] = "999999"
            let reply = try await browser.post("/workspaces/new", fields)
            #expect(reply.status == .unprocessableContent)
            let html = reply.text
            #expect(html.contains("<span class=\"field-error\" id=\"field-display_name-error\">Required: fill this in.</span>"))
            #expect(html.contains("aria-describedby=\"field-display_name-help field-display_name-error\" aria-invalid=\"true\""))
            #expect(html.contains("<span class=\"field-error\" id=\"field-shared_storage_quota-error\">Must be at most 10240.</span>"))
            #expect(html.contains("<a href=\"#field-display_name\">Name for the workspace: Required: fill this in.</a>"), "summarised at the top")
            #expect(html.contains("role=\"alert\">The workspace was not created"))
            #expect(html.contains("value=\"Kept &lt;as typed&gt;\""), "what was typed is kept")
            #expect(html.contains("value=\"999999\""))

            fields["display_name"] = "Fine"
            fields["shared_storage_quota"] = "lots"
            let unreadable = try await browser.post("/workspaces/new", fields)
            #expect(unreadable.status == .unprocessableContent)
            #expect(unreadable.text.contains("id=\"field-shared_storage_quota-error\">Enter a whole number.</span>"))
            #expect(try await workspaces(api).isEmpty)
        }
    }

    @Test("without its CSRF token the form is refused and nothing is created")
    func csrfIsRequired() async throws {
        try await withAPI { api in
            var browser = try await PortalBrowser.signIn(api, username: "ada", roles: ["TREAdmin"])
            let page = try await browser.get("/workspaces/new?template=tre-workspace-base")
            var fields = FormScraper.fields(in: page.text, containing: "_template")
            fields["display_name"] = "Forged"
            fields["description"] = "d"
            fields.removeValue(forKey: "csrf")
            let reply = try await browser.post("/workspaces/new", fields, withCSRF: false)
            #expect(reply.status == .forbidden)
            #expect(reply.text.contains("CSRF"))
            #expect(try await workspaces(api).isEmpty)
        }
    }

    @Test("an unknown template is a clear error on the picker")
    func unknownTemplate() async throws {
        try await withAPI { api in
            var browser = try await PortalBrowser.signIn(api, username: "ada", roles: ["TREAdmin"])
            let page = try await browser.get("/workspaces/new?template=no-such-thing")
            #expect(page.status == .notFound)
            #expect(page.text.contains("There is no workspace template named “no-such-thing”"))
            #expect(page.text.contains("href=\"/workspaces/new?template=tre-workspace-base\""), "with the templates to choose from")
            let post = try await browser.post("/workspaces/new", ["_template": "no-such-thing", "display_name": "x"])
            #expect(post.status == .notFound)
            #expect(try await workspaces(api).isEmpty)
        }
    }

    @Test("conditional fields carry data-show-if; a sensitive field is a password input and is never echoed")
    func conditionalAndSensitiveFields() async throws {
        try await withAPI { api in
            try await registerConditionalTemplate(api)
            var browser = try await PortalBrowser.signIn(api, username: "ada", roles: ["TREAdmin"])
            let page = try await browser.get("/workspaces/new?template=tre-test-workspace")
            #expect(page.status == .ok)
            #expect(page.text.contains(
                "<div class=\"field\" data-show-if=\"{&quot;all&quot;:[{&quot;name&quot;:&quot;mode&quot;,&quot;required&quot;:true,&quot;values&quot;:[&quot;advanced&quot;]}],&quot;negate&quot;:false}\">"))
            #expect(page.text.contains("Applies when “Mode” is advanced."))
            #expect(page.text.contains("<input type=\"password\" id=\"field-api_key\" name=\"api_key\" value=\"\""))

            var fields = FormScraper.fields(in: page.text, containing: "_template")
            fields["api_key"] = "s3cret-value"
            fields["mode"] = "advanced"
            fields["tuning"] = ""
            fields["display_name"] = "Tuned"
            fields["description"] = "d"
            let missing = try await browser.post("/workspaces/new", fields)
            #expect(missing.status == .unprocessableContent)
            #expect(missing.text.contains("id=\"field-tuning-error\">Required: fill this in.</span>"), "required once its branch applies")
            #expect(!missing.text.contains("s3cret-value"), "a typed secret is not sent back")

            fields["tuning"] = "fast"
            let created = try await browser.post("/workspaces/new", fields)
            #expect(created.status == .seeOther, "\(created.text)")
            let id = String(try #require(created.location).dropFirst("/workspaces/".count))
            let properties = try await api.call(.get, "/api/workspaces/\(id)", as: admin).json["workspace"]?["properties"]
            #expect(properties?["tuning"] == "fast" && properties?["mode"] == "advanced")
            #expect(properties?["api_key"] == "REDACTED")
            _ = try await waitForLatestOperation(api, "/api/workspaces/\(id)")

            let edit = try await browser.get("/workspaces/\(id)/edit")
            #expect(edit.status == .ok)
            #expect(edit.text.contains("<input type=\"password\" id=\"field-api_key\" name=\"api_key\" value=\"\" placeholder=\"Unchanged"))
            #expect(!edit.text.contains("REDACTED") && !edit.text.contains("s3cret-value"))
            #expect(edit.text.contains("<select id=\"field-size\" name=\"size\" disabled"), "not updateable")
        }
    }

    // MARK: Edit

    @Test("an edit with a stale etag is a conflict and changes nothing; a fresh one is applied")
    func staleEtagConflicts() async throws {
        try await withAPI { api in
            let id = try await api.createAndWait("/api/workspaces", template: "tre-workspace-base", properties: ["display_name": "Original"])
            var browser = try await PortalBrowser.signIn(api, username: "ada", roles: ["TREAdmin"])
            let page = try await browser.get("/workspaces/\(id)/edit")
            #expect(page.status == .ok)
            var fields = FormScraper.fields(in: page.text, containing: "value=\"properties\"")
            #expect(fields["display_name"] == "Original" && fields["_etag"]?.isEmpty == false)

            let elsewhere = try await api.call(
                .patch, "/api/workspaces/\(id)", as: admin, json: ["properties": ["display_name": "Changed elsewhere"]], headers: [.etag: "*"])
            #expect(elsewhere.status == .accepted)
            _ = try await api.wait(elsewhere.location)

            fields["display_name"] = "Mine"
            let stale = try await browser.post("/workspaces/\(id)/edit", fields)
            #expect(stale.status == .conflict)
            #expect(stale.text.contains("changed since you opened the form"))
            #expect(stale.text.contains("value=\"Changed elsewhere\""), "the form shows what is stored now")
            let stored = try await api.call(.get, "/api/workspaces/\(id)", as: admin).json["workspace"]?["properties"]
            #expect(stored?["display_name"] == "Changed elsewhere")

            var fresh = FormScraper.fields(in: stale.text, containing: "value=\"properties\"")
            fresh["display_name"] = "Mine"
            fresh["shared_storage_quota"] = "12"
            let saved = try await browser.post("/workspaces/\(id)/edit", fresh)
            #expect(saved.status == .seeOther, "\(saved.text)")
            #expect(saved.location == "/workspaces/\(id)")
            _ = try await waitForLatestOperation(api, "/api/workspaces/\(id)")
            let after = try await api.call(.get, "/api/workspaces/\(id)", as: admin).json["workspace"]?["properties"]
            #expect(after?["display_name"] == "Mine" && after?["shared_storage_quota"] == 12)
            #expect(after?["enable_airlock"] == true && after?["airlock_output_checks"]?["threshold"] == 10, "untouched fields keep their values")
            let history = try await api.call(.get, "/api/workspaces/\(id)/history", as: admin).json["resource_history"]?.arrayValue ?? []
            #expect(history.count == 2, "one update from the API, one from the form")
        }
    }

    @Test("upgrades: newer versions are listed, a major one needs the confirmation box")
    func upgrades() async throws {
        try await withAPI { api in
            let id = try await api.createAndWait("/api/workspaces", template: "tre-test-workspace")
            try await registerConditionalTemplate(api, version: "1.1.0", current: false)
            try await registerConditionalTemplate(api, version: "2.0.0", current: false)
            var browser = try await PortalBrowser.signIn(api, username: "ada", roles: ["TREAdmin"])
            let page = try await browser.get("/workspaces/\(id)/edit")
            #expect(page.text.contains("value=\"1.1.0\" checked"))
            #expect(page.text.contains("2.0.0 <span class=\"badge status-busy\">major</span>"))
            #expect(page.text.contains("name=\"_force\""))
            var fields = FormScraper.fields(in: page.text, containing: "value=\"upgrade\"")
            fields["_version"] = "2.0.0"
            let refused = try await browser.post("/workspaces/\(id)/edit", fields)
            #expect(refused.status == .unprocessableContent)
            #expect(refused.text.contains("id=\"upgrade-error\">") && refused.text.contains("major version upgrade is not allowed"))
            fields["_force"] = "true"
            let upgraded = try await browser.post("/workspaces/\(id)/edit", fields)
            #expect(upgraded.status == .seeOther, "\(upgraded.text)")
            _ = try await waitForLatestOperation(api, "/api/workspaces/\(id)")
            #expect(try await api.call(.get, "/api/workspaces/\(id)", as: admin).json["workspace"]?["templateVersion"] == "2.0.0")
            let after = try await browser.get("/workspaces/\(id)/edit")
            #expect(after.text.contains("is the newest registered version"))
        }
    }

    // MARK: Delete

    @Test("delete: refused while enabled (the page offers to disable), then refused for a wrong name, then started")
    func disableThenDeleteByTypingTheName() async throws {
        try await withAPI { api in
            let hostile = "<script>alert(1)</script>"
            let id = try await api.createAndWait("/api/workspaces", template: "tre-workspace-base", properties: ["display_name": .string(hostile)])
            var browser = try await PortalBrowser.signIn(api, username: "ada", roles: ["TREAdmin"])
            let page = try await browser.get("/workspaces/\(id)/delete")
            #expect(page.status == .ok)
            #expect(page.text.contains("must be disabled before it can be deleted"))
            #expect(!page.text.contains("name=\"_confirm\""), "no confirmation while it is enabled")
            #expect(!page.text.contains("<script>alert"), "the name renders as text")
            #expect(page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))

            // Posting the confirmation anyway is refused by the control plane's rule.
            let early = try await browser.post("/workspaces/\(id)/delete", ["_confirm": hostile])
            #expect(early.status == .unprocessableContent)
            #expect(early.text.contains("needs to be disabled before you can delete it"))

            let disable = FormScraper.fields(in: page.text, containing: "value=\"disable\"")
            #expect(disable["_return"] == "delete")
            let disabled = try await browser.post("/workspaces/\(id)/edit", disable)
            #expect(disabled.status == .seeOther)
            #expect(disabled.location == "/workspaces/\(id)/delete")
            _ = try await waitForLatestOperation(api, "/api/workspaces/\(id)")

            let confirm = try await browser.get("/workspaces/\(id)/delete")
            #expect(confirm.text.contains("name=\"_confirm\""))
            let wrong = try await browser.post("/workspaces/\(id)/delete", ["_confirm": "something else"])
            #expect(wrong.status == .unprocessableContent)
            #expect(wrong.text.contains("That is not the workspace's name") || wrong.text.contains("That is not the workspace&#39;s name"))
            #expect(wrong.text.contains("value=\"something else\""))
            var ops = try await api.call(.get, "/api/workspaces/\(id)/operations", as: admin).json["operations"]?.arrayValue ?? []
            #expect(!ops.contains { $0["action"] == "uninstall" })

            let deleted = try await browser.post("/workspaces/\(id)/delete", ["_confirm": hostile])
            #expect(deleted.status == .seeOther)
            #expect(deleted.location == "/workspaces")
            ops = try await api.call(.get, "/api/workspaces/\(id)/operations", as: admin).json["operations"]?.arrayValue ?? []
            #expect(ops.contains { $0["action"] == "uninstall" }, "the deletion operation started")
        }
    }

    // MARK: Services and user resources

    @Test("an owner adds a service; researchers add user resources and manage only their own")
    func servicesAndUserResources() async throws {
        try await withAPI { api in
            let ws = try await api.createAndWait("/api/workspaces", template: "tre-workspace-base")
            var owner = try await PortalBrowser.signIn(api, username: "olga", roles: ["TREUser"])
            try await owner.grant(.owner, in: ws, api: api)
            var rosa = try await PortalBrowser.signIn(api, username: "rosa", roles: ["TREUser"])
            try await rosa.grant(.researcher, in: ws, api: api)
            var rita = try await PortalBrowser.signIn(api, username: "rita", roles: ["TREUser"])
            try await rita.grant(.researcher, in: ws, api: api)

            #expect(try await rosa.get("/workspaces/\(ws)/workspace-services/new").status == .forbidden)
            #expect(try await owner.get("/workspaces/\(ws)/edit").status == .forbidden, "managing the workspace itself is for admins")

            let picker = try await owner.get("/workspaces/\(ws)/workspace-services/new")
            #expect(picker.status == .ok && picker.text.contains("?template=tre-service-jupyterlab"))
            let form = try await owner.get("/workspaces/\(ws)/workspace-services/new?template=tre-service-jupyterlab")
            #expect(form.text.contains("<input type=\"checkbox\" id=\"field-kernels-0\" name=\"kernels\" value=\"python3\" checked>"))
            var fields = FormScraper.fields(in: form.text, containing: "_template")
            fields["display_name"] = "Notebooks"
            fields["description"] = "For the cohort"
            let created = try await owner.post("/workspaces/\(ws)/workspace-services/new", fields)
            #expect(created.status == .seeOther, "\(created.text)")
            let servicePage = try #require(created.location)
            #expect(servicePage.hasPrefix("/workspaces/\(ws)/workspace-services/"))
            let svc = String(servicePage.dropFirst("/workspaces/\(ws)/workspace-services/".count))
            let servicePath = "/api/workspaces/\(ws)/workspace-services/\(svc)"
            #expect(try await api.call(.get, servicePath, as: admin).json["workspaceService"]?["properties"]?["kernels"] == ["python3"])
            #expect(try await waitForLatestOperation(api, servicePath)["status"] == "deployed")

            let urNew = "/workspaces/\(ws)/workspace-services/\(svc)/user-resources/new"
            let urForm = try await rosa.get("\(urNew)?template=tre-user-resource-notebook")
            #expect(urForm.status == .ok, "\(urForm.text)")
            var urFields = FormScraper.fields(in: urForm.text, containing: "_template")
            urFields["display_name"] = "Rosa's notebook"
            urFields["description"] = "Mine"
            let urCreated = try await rosa.post(urNew, urFields)
            #expect(urCreated.status == .seeOther, "\(urCreated.text)")
            #expect(urCreated.location == servicePage, "back to the service, which lists user resources")
            let resources = try await api.call(.get, "\(servicePath)/user-resources", as: admin).json["userResources"]?.arrayValue ?? []
            let mine = try #require(resources.first)
            #expect(mine["ownerId"] == .string(rosa.userId))
            let ur = try #require(mine["id"]?.stringValue)

            let edit = "/workspaces/\(ws)/workspace-services/\(svc)/user-resources/\(ur)/edit"
            #expect(try await rosa.get(edit).status == .ok)
            #expect(try await rita.get(edit).status == .forbidden, "another researcher's resource")
            #expect(try await rita.get("/workspaces/\(ws)/workspace-services/\(svc)/user-resources/\(ur)/delete").status == .forbidden)
            #expect(try await owner.get(edit).status == .ok, "owners manage every user resource")
            #expect(try await rosa.get("/workspaces/\(ws)/workspace-services/\(svc)/edit").status == .forbidden)
            #expect(try await owner.get("/workspaces/\(ws)/workspace-services/\(svc)/edit").status == .ok)
            #expect(try await owner.get("/workspaces/\(ws)/workspace-services/\(UUID().uuidString)/edit").status == .notFound)
        }
    }
}

/// What a browser would submit from one form of a page: enabled inputs (checkboxes and radios only when
/// checked), selected options and textareas — for tests that post a generated form as a user would.
enum FormScraper {
    /// The fields of the first form whose HTML contains `marker` (a repeated name keeps its last value).
    static func fields(in page: String, containing marker: String) -> [String: String] {
        let forms = page.components(separatedBy: "<form").dropFirst().map { "<form" + ($0.components(separatedBy: "</form>").first ?? "") }
        guard let form = forms.first(where: { $0.contains(marker) }) else { return [:] }
        var fields: [String: String] = [:]
        for match in form.matches(of: /<input ([^>]*)>/) {
            let attributes = String(match.1)
            guard let name = attribute("name", in: attributes), !attributes.contains(" disabled") else { continue }
            let type = attribute("type", in: attributes) ?? "text"
            if type == "checkbox" || type == "radio", !attributes.contains(" checked") { continue }
            fields[name] = attribute("value", in: attributes) ?? ""
        }
        for match in form.matches(of: /<select ([^>]*)>(.*?)<\/select>/.dotMatchesNewlines()) {
            let attributes = String(match.1)
            guard let name = attribute("name", in: attributes), !attributes.contains(" disabled") else { continue }
            let selected = String(match.2).firstMatch(of: /<option value="([^"]*)" selected>/).map { decode(String($0.1)) }
            let first = String(match.2).firstMatch(of: /<option value="([^"]*)"/).map { decode(String($0.1)) }
            fields[name] = selected ?? first ?? ""
        }
        for match in form.matches(of: /<textarea ([^>]*)>\n?(.*?)<\/textarea>/.dotMatchesNewlines()) {
            let attributes = String(match.1)
            guard let name = attribute("name", in: attributes), !attributes.contains(" disabled") else { continue }
            fields[name] = decode(String(match.2))
        }
        return fields
    }

    static func attribute(_ name: String, in attributes: String) -> String? {
        for match in attributes.matches(of: /(?:^|\s)([a-z-]+)="([^"]*)"/) where match.1 == name {
            return decode(String(match.2))
        }
        return nil
    }

    static func decode(_ text: String) -> String {
        text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}
