import EnclaveAuth
import EnclaveCore
import EnclaveServer
import EnclaveStore
import EnclaveTesting
import Foundation
import HTTPTypes
import Testing

@Suite("Portal: admin pages and the account page")
struct PortalAdminTests {
    static let adminPages = ["/admin", "/admin/templates", "/admin/shared-services", "/admin/users", "/admin/audit", "/admin/health"]

    @Test("every admin page is 200 for a TREAdmin and 403 (audited) for a researcher, whose forms change nothing")
    func adminOnly() async throws {
        try await withAPI(workers: 0) { api in
            var admin = try await PortalBrowser.signIn(api, username: "ada", roles: ["TREAdmin"])
            let index = try await admin.get("/admin")
            for page in Self.adminPages.dropFirst() { #expect(index.text.contains("href=\"\(page)\""), "/admin links \(page)") }
            for page in Self.adminPages {
                let reply = try await admin.get(page)
                #expect(reply.status == .ok, "\(page): \(reply.text)")
                #expect(reply.text.contains("aria-current=\"page\">Admin<"), "\(page) is in the admin section")
            }

            var researcher = try await PortalBrowser.signIn(api, username: "rosa", roles: ["TREUser"])
            for page in Self.adminPages {
                let reply = try await researcher.get(page)
                #expect(reply.status == .forbidden, "\(page) answered \(reply.status)")
                #expect(reply.text.contains("Not allowed") && reply.text.contains("TREAdmin"))
            }
            let denied = try await TestAccounts.audit(api.enclave, "auth.denied").filter { $0.actor.id == researcher.userId }
            #expect(Set(denied.map(\.target)) == Set(Self.adminPages))

            _ = try await researcher.get("/workspaces")  // a page of the researcher's own, for a valid CSRF token
            let before = try await api.enclave.deps.store.templates(type: .workspace, name: nil, parent: nil).count
            let post = try await researcher.post("/admin/templates", ["kind": "workspace", "json": Self.registration(name: "tre-x")])
            #expect(post.status == .forbidden)
            let invite = try await researcher.post("/admin/users", ["username": "eve", "email": "eve@example.org", "role": "TREAdmin"])
            #expect(invite.status == .forbidden)
            #expect(try await api.enclave.deps.store.user(username: "eve") == nil)
            #expect(try await api.enclave.deps.store.templates(type: .workspace, name: nil, parent: nil).count == before)
        }
    }

    static func registration(name: String, version: String = "1.0.0", title: String = "Portal workspace") -> String {
        """
        {"name": "\(name)", "version": "\(version)", "current": true,
         "json_schema": {"title": "\(title)", "description": "Registered from the portal", "required": [], "authorizedRoles": [], "properties": {}}}
        """
    }

    @Test("templates: listed by type with versions; a version registered through the form is served by the API; bad input changes nothing")
    func templates() async throws {
        try await withAPI(workers: 0) { api in
            var admin = try await PortalBrowser.signIn(api, username: "ada", roles: ["TREAdmin"])
            let page = try await admin.get("/admin/templates").text
            #expect(page.contains("<code>tre-workspace-base</code>"))
            #expect(page.contains("status-ok\">current<"))
            #expect(page.contains("id=\"shared-service\""))
            let store = api.enclave.deps.store

            let body = Self.registration(name: "tre-portal-ws", title: "<script>alert(1)</script>")
            let forged = try await admin.post("/admin/templates", ["kind": "workspace", "json": body], withCSRF: false)
            #expect(forged.status == .forbidden)
            #expect(try await store.templates(type: .workspace, name: "tre-portal-ws", parent: nil).isEmpty)

            let broken = try await admin.post("/admin/templates", ["kind": "workspace", "json": "{\"name\": \"tre-portal-ws\", "])
            #expect(broken.status == .unprocessableContent)
            #expect(broken.text.contains("The JSON is not valid JSON"))
            #expect(broken.text.contains("{&quot;name&quot;: &quot;tre-portal-ws&quot;, </textarea>"), "what was typed is kept")
            let noParent = try await admin.post("/admin/templates", ["kind": "user-resource", "json": body])
            #expect(noParent.status == .unprocessableContent && noParent.text.contains("belongs under a workspace service"))
            let badVersion = try await admin.post("/admin/templates", ["kind": "workspace", "json": Self.registration(name: "tre-portal-ws", version: "one")])
            #expect(badVersion.status == .badRequest && badVersion.text.contains("not a semantic version"), "\(badVersion.text)")
            #expect(try await store.templates(type: .workspace, name: "tre-portal-ws", parent: nil).isEmpty)

            let registered = try await admin.post("/admin/templates", ["kind": "workspace", "json": body])
            #expect(registered.status == .seeOther && registered.location == "/admin/templates", "\(registered.text)")
            let listed = try await admin.get("/admin/templates").text
            #expect(listed.contains("Registered workspace template tre-portal-ws version 1.0.0"))
            #expect(listed.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !listed.contains("<script>alert"))
            let api1 = try await api.call(.get, "/api/workspace-templates", as: TestUsers.admin).json["templates"]?.arrayValue ?? []
            #expect(api1.contains { $0["name"] == "tre-portal-ws" })
            let audit = try await TestAccounts.audit(api.enclave, "template.register").last
            #expect(audit?.actor.id == admin.userId && audit?.target == "/workspace-templates/tre-portal-ws")

            let again = try await admin.post("/admin/templates", ["kind": "workspace", "json": body])
            #expect(again.status == .conflict && again.text.contains("already"), "\(again.text)")

            let service = try await admin.post(
                "/admin/templates", ["kind": "user-resource", "parent": "tre-service-jupyterlab", "json": Self.registration(name: "tre-portal-ur")])
            #expect(service.status == .seeOther, "\(service.text)")
            #expect(try await store.templates(type: .userResource, name: "tre-portal-ur", parent: "tre-service-jupyterlab").count == 1)
        }
    }

    @Test("shared services: created from a template with JSON properties, disabled, deleted; bad input and CSRF-less posts change nothing")
    func sharedServices() async throws {
        try await withAPI { api in
            var admin = try await PortalBrowser.signIn(api, username: "ada", roles: ["TREAdmin"])
            let empty = try await admin.get("/admin/shared-services").text
            #expect(empty.contains("There are no shared services yet."))
            #expect(empty.contains("<option value=\"tre-shared-service-firewall\""))
            let store = api.enclave.deps.store
            func services() async throws -> [Resource] { try await store.resources(ResourceFilter(type: .sharedService)) }

            let fields = [
                "template": "tre-shared-service-firewall", "properties": "{\"display_name\": \"<b>Egress</b>\", \"description\": \"Allowlist\"}",
            ]
            #expect(try await admin.post("/admin/shared-services", fields, withCSRF: false).status == .forbidden)
            let bad = try await admin.post("/admin/shared-services", ["template": "tre-shared-service-firewall", "properties": "[1]"])
            #expect(bad.status == .unprocessableContent && bad.text.contains("shared-properties-error"), "\(bad.text)")
            let unknown = try await admin.post("/admin/shared-services", ["template": "no-such-template", "properties": "{}"])
            #expect(unknown.status == .badRequest && unknown.text.contains("shared-template-error"))
            #expect(try await services().isEmpty)

            let created = try await admin.post("/admin/shared-services", fields)
            #expect(created.status == .seeOther, "\(created.text)")
            let service = try #require(try await services().first)
            try await Self.waitUntil { try await store.resource(id: service.id)?.deploymentStatus == "deployed" }
            let listed = try await admin.get("/admin/shared-services").text
            #expect(listed.contains("&lt;b&gt;Egress&lt;/b&gt;") && listed.contains("status-ok\">deployed<"))
            let duplicate = try await admin.post("/admin/shared-services", fields)
            #expect(duplicate.status == .conflict && duplicate.text.contains("already exists"))

            let current = try #require(try await store.resource(id: service.id))
            let stale = try await admin.post("/admin/shared-services/\(service.id)/enabled", ["enabled": "false", "etag": "old"])
            #expect(stale.status == .conflict && stale.text.contains("changed since this page was loaded"))
            let notDisabled = try await admin.post("/admin/shared-services/\(service.id)/delete", [:])
            #expect(notDisabled.status == .badRequest && notDisabled.text.contains("disabled before"))
            let disabled = try await admin.post("/admin/shared-services/\(service.id)/enabled", ["enabled": "false", "etag": current.etag])
            #expect(disabled.status == .seeOther, "\(disabled.text)")
            try await Self.waitUntil { try await store.resource(id: service.id).map { !$0.isEnabled && $0.deploymentStatus == "updated" } ?? false }
            #expect(try await admin.post("/admin/shared-services/\(service.id)/delete", [:], withCSRF: false).status == .forbidden)
            let deleted = try await admin.post("/admin/shared-services/\(service.id)/delete", [:])
            #expect(deleted.status == .seeOther, "\(deleted.text)")
            try await Self.waitUntil { try await store.resource(id: service.id) == nil }
        }
    }

    static func waitUntil(_ condition: () async throws -> Bool) async throws {
        for _ in 0..<200 {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("timed out waiting")
    }

    @Test("audit log: filters by action family, actor and time narrow the list; bad filters explain; pages continue")
    func audit() async throws {
        try await withAPI { api in
            var admin = try await PortalBrowser.signIn(api, username: "ada", roles: ["TREAdmin"])
            _ = try await api.createAndWait("/api/workspaces", template: "tre-workspace-base", properties: ["display_name": "Audited"])
            let row = { (action: String) in "<td><code>\(action)</code></td>" }
            let all = try await admin.get("/admin/audit").text
            #expect(all.contains(row("template.register")) && all.contains(row("resource.create")) && all.contains(row("auth.session_start")))

            let resources = try await admin.get("/admin/audit?action=resource").text
            #expect(resources.contains(row("resource.create")))
            #expect(!resources.contains(row("template.register")) && !resources.contains(row("auth.session_start")))
            #expect(resources.contains("value=\"resource\""), "the filter is kept in the form")

            let mine = try await admin.get("/admin/audit?actor=\(admin.userId)").text
            #expect(mine.contains(row("auth.session_start")) && !mine.contains(row("resource.create")))

            let future = try await admin.get("/admin/audit?from=2999-01-01T00%3A00").text
            #expect(future.contains("No records match these filters."))
            let past = try await admin.get("/admin/audit?to=2000-01-01T00%3A00").text
            #expect(past.contains("No records match these filters."))

            let wrong = try await admin.get("/admin/audit?from=yesterday")
            #expect(wrong.status == .unprocessableContent && wrong.text.contains("not a valid from time"))

            let first = try await admin.get("/admin/audit?limit=2").text
            let next = try #require(SignInBrowser.capture("href=\"(/admin/audit\\?after=[0-9]+)\">Next page", in: first))
            #expect(first.contains("<td>1</td>") && first.contains("<td>2</td>") && !first.contains("<td>3</td>"))
            let second = try await admin.get(next.replacingOccurrences(of: "&amp;", with: "&") + "&limit=2").text
            #expect(second.contains("<td>3</td>") && !second.contains("<td>1</td>"))
            #expect(second.contains("First page"))
        }
    }

    @Test("health lists each part of the server with its status and message")
    func health() async throws {
        try await withAPI(workers: 0) { api in
            var admin = try await PortalBrowser.signIn(api, username: "ada", roles: ["TREAdmin"])
            let page = try await admin.get("/admin/health").text
            for part in ["Store", "Resource Processor", "Data plane", "Airlock scanner", "Identity provider"] {
                #expect(page.contains("<th scope=\"row\">\(part)"), "\(part) listed")
            }
            #expect(page.contains("status-ok\">OK<"))
        }
    }

    @Test("users: the page moved to /admin/users in the portal layout; /account/users redirects there")
    func usersMoved() async throws {
        try await withAPI(workers: 0) { api in
            var admin = try await PortalBrowser.signIn(api, username: "ada", roles: ["TREAdmin"])
            let old = try await admin.get("/account/users")
            #expect(old.status == .seeOther && old.location == "/admin/users")
            let page = try await admin.get("/admin/users").text
            #expect(page.contains("<th scope=\"row\">ada") && page.contains("Invite a user"))
            #expect(page.contains("<link rel=\"stylesheet\" href=\"/static/portal.css?v="), "the portal layout")
        }
    }

    @Test("the account page shows name, roles, how signed in, workspace roles (names escaped) and the second factor")
    func account() async throws {
        try await withAPI { api in
            let workspace = try await api.createAndWait(
                "/api/workspaces", template: "tre-workspace-base", properties: ["display_name": "<script>alert(2)</script>"])
            var researcher = try await PortalBrowser.signIn(api, username: "rosa", roles: ["TREUser"])
            try await researcher.grant(.researcher, in: workspace, api: api)
            let page = try await researcher.get("/account")
            #expect(page.status == .ok)
            let text = page.text
            #expect(text.contains("<dd id=\"account-name\">Rosa Franklin</dd>"))
            #expect(text.contains("<dd id=\"account-roles\">TREUser</dd>"))
            #expect(text.contains("password + authenticator code at Enclave&#39;s sign-in"))
            #expect(text.contains("href=\"/workspaces/\(workspace)\">&lt;script&gt;alert(2)&lt;/script&gt;</a>"))
            #expect(text.contains("Workspace Researcher"))
            #expect(text.contains("Recovery codes left: <strong>0</strong>"))
            #expect(text.contains("action=\"/account/recovery-codes\""))
            #expect(!text.contains("href=\"/admin/users\""))
            var admin = try await PortalBrowser.signIn(api, username: "ada", roles: ["TREAdmin"])
            #expect(try await admin.get("/account").text.contains("href=\"/admin/users\""))
        }
    }

    @Test("new recovery codes need a current authenticator code: wrong or missing CSRF changes nothing; right shows ten once and retires the old")
    func recoveryCodes() async throws {
        try await withAPI(workers: 0) { api in
            var browser = try await PortalBrowser.signIn(api, username: "rosa", roles: ["TREUser"])
            let store = api.enclave.deps.store
            var account = try #require(try await store.user(id: browser.userId))
            let old = ["aaaa-bbbb-cccc", "dddd-eeee-ffff"]
            account.recoveryCodeHashes = old.map(SecretToken.sha256Hex)
            try await store.updateUser(account, audit: [])
            let sealed = try #require(account.totpSecretSealed)
            let secret = try #require(try api.enclave.deps.controlPlane.secrets.open(sealed)["totp"]?.stringValue)
            _ = try await browser.get("/account")

            let wrong = try await browser.post("/account/recovery-codes", ["code": "000000"])
            #expect(wrong.status == .unprocessableContent)
            #expect(wrong.text.contains("id=\"account-code-error\">That code did not match"))
            #expect(try await store.user(id: browser.userId)?.recoveryCodeHashes == old.map(SecretToken.sha256Hex))
            #expect(try await TestAccounts.audit(api.enclave, "auth.mfa_failure").count == 1)
            #expect(try await TestAccounts.audit(api.enclave, "user.recovery_codes").isEmpty)

            // The sign-in spent this 30 s window's code: the next window's is current too, and unused.
            let code = TOTPCode(secret: secret).code(at: Date().addingTimeInterval(30))
            let forged = try await browser.post("/account/recovery-codes", ["code": code], withCSRF: false)
            #expect(forged.status == .forbidden)
            #expect(try await store.user(id: browser.userId)?.recoveryCodeHashes == old.map(SecretToken.sha256Hex))
            #expect(try await TestAccounts.audit(api.enclave, "user.recovery_codes").isEmpty)

            let renewed = try await browser.post("/account/recovery-codes", ["code": code])
            #expect(renewed.status == .ok, "\(renewed.text)")
            #expect(renewed.headers[.cacheControl] == "no-store")
            let codes = renewed.text.matches(of: /<li><code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})<\/code><\/li>/).map { String($0.output.1) }
            #expect(codes.count == 10)
            let hashes = try #require(try await store.user(id: browser.userId)?.recoveryCodeHashes)
            #expect(Set(hashes) == Set(codes.map(SecretToken.sha256Hex)))
            #expect(!hashes.contains(SecretToken.sha256Hex(old[0])), "the old codes no longer work")
            let records = try await TestAccounts.audit(api.enclave, "user.recovery_codes")
            #expect(records.count == 1 && records.first?.actor.id == browser.userId && records.first?.outcome == .success)

            let replay = try await browser.post("/account/recovery-codes", ["code": code])
            #expect(replay.status == .unprocessableContent, "a code works once")
            #expect(try await store.user(id: browser.userId)?.recoveryCodeHashes == hashes)
            let later = try await browser.get("/account").text
            #expect(later.contains("Recovery codes left: <strong>10</strong>"))
            #expect(!later.contains(codes[0]), "the codes are shown once")
        }
    }
}
