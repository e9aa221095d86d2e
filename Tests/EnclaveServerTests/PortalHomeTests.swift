import EnclaveCore
import EnclaveTesting
import Foundation
import HTTPTypes
import Testing

@Suite("Portal: layout, home page, static files")
struct PortalHomeTests {
    @Test("without a session a page redirects to sign-in and comes back to the page afterwards")
    func pagesNeedASession() async throws {
        try await withAPI { api in
            var anonymous = CookieBrowser(api)
            let reply = try await anonymous.send(.get, "/workspaces?view=cards")
            #expect(reply.status == .seeOther)
            #expect(reply.location == "/auth/login?return_to=%2Fworkspaces%3Fview%3Dcards")
            // `/` stays Azure TRE's ping for API clients and sends browsers to the portal.
            #expect(try await anonymous.send(.get, "/").text == "\"pong\"")
            #expect(try await anonymous.send(.get, "/", headers: [.accept: "text/html,*/*"]).location == "/workspaces")
            // A stale or forged cookie is no session either.
            anonymous.cookies["enclave_session"] = "forged"
            #expect(try await anonymous.send(.get, "/workspaces").status == .seeOther)
        }
    }

    @Test("home lists the workspaces a user has a role in, with status and role; admins see all and may create")
    func homeShowsMyWorkspaces() async throws {
        try await withAPI { api in
            let mine = try await api.createAndWait(
                "/api/workspaces", template: "tre-workspace-base",
                properties: ["display_name": "<script>alert(1)</script>", "description": "Cohort & trial data"])
            let other = try await api.createAndWait("/api/workspaces", template: "tre-workspace-base", properties: ["display_name": "Not yours"])
            var researcher = try await PortalBrowser.signIn(api, username: "rosa", roles: ["TREUser"])
            let empty = try await researcher.get("/workspaces")
            #expect(empty.status == .ok)
            #expect(empty.text.contains("You have no workspaces yet."))
            #expect(!empty.text.contains("Create a workspace"))

            try await researcher.grant(.researcher, in: mine, api: api)
            let page = try await researcher.get("/workspaces").text
            #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "a hostile name renders as text")
            #expect(!page.contains("<script>alert"))
            #expect(page.contains("Cohort &amp; trial data"))
            #expect(page.contains("href=\"/workspaces/\(mine)\""))
            #expect(page.contains("Workspace Researcher"))
            #expect(page.contains("status-ok\">deployed<"))
            #expect(!page.contains(other), "a workspace without a role is not listed")
            #expect(!page.contains("href=\"/admin\""), "no admin navigation for a researcher")

            var admin = try await PortalBrowser.signIn(api, username: "ada", roles: ["TREAdmin"])
            let all = try await admin.get("/workspaces").text
            #expect(all.contains(mine) && all.contains(other) && all.contains("Not yours"))
            #expect(all.contains("href=\"/workspaces/new\""))
            #expect(all.contains("href=\"/admin\""))
        }
    }

    @Test("static files: versioned URLs are immutable, unversioned revalidate by ETag, unknown names 404")
    func staticFiles() async throws {
        try await withAPI { api in
            var admin = try await PortalBrowser.signIn(api, username: "ada", roles: ["TREAdmin"])
            let page = try await admin.get("/workspaces").text
            let css = try #require(SignInBrowser.capture("href=\"(/static/portal\\.css\\?v=[0-9a-f]{12})\"", in: page))
            var anonymous = CookieBrowser(api)
            let versioned = try await anonymous.send(.get, css)
            #expect(versioned.status == .ok)
            #expect(versioned.headers[.contentType] == "text/css; charset=utf-8")
            #expect(versioned.headers[.cacheControl] == "public, max-age=31536000, immutable")
            let etag = try #require(versioned.headers[.eTag])
            let revalidated = try await anonymous.send(.get, "/static/portal.css", headers: [.ifNoneMatch: etag])
            #expect(revalidated.status == .notModified)
            #expect(try await anonymous.send(.get, "/static/nothing.css").status == .notFound)
            #expect(try await anonymous.send(.get, "/static/..%2FTemplates%2Flayout.mustache").status == .notFound)
        }
    }
}
