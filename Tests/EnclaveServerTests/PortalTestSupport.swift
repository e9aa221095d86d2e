import EnclaveCore
import EnclaveServer
import EnclaveStore
import EnclaveTesting
import Foundation
import HTTPTypes
import Testing

/// A signed-in browser on the portal: its pages, its form posts (with the session's CSRF token taken from
/// the last page, as a browser submits the form it was shown), and what a page must always carry.
struct PortalBrowser {
    var browser: CookieBrowser
    /// The account's user id (accounts are made in the store, as `enclave users add` would).
    let userId: String
    var csrf: String = ""

    /// A new account with `roles` signed in through the built-in provider, landed on `/workspaces`.
    static func signIn(_ api: APIClient, username: String, roles: [String]) async throws -> PortalBrowser {
        let browser = try await SessionTests.signIn(api, username: username, roles: roles, returnTo: "/workspaces")
        let account = try #require(try await api.enclave.deps.store.user(username: username))
        var portal = PortalBrowser(browser: browser, userId: account.id)
        _ = try await portal.get("/workspaces")
        return portal
    }

    /// GETs a page; on 200 checks the headers every portal page carries and keeps its CSRF token.
    mutating func get(_ path: String) async throws -> APIClient.Reply {
        let reply = try await browser.send(.get, path)
        if reply.status == .ok, reply.headers[.contentType]?.hasPrefix("text/html") == true {
            #expect(reply.headers[.contentSecurityPolicy]?.hasPrefix("default-src 'self'") == true, "CSP on \(path)")
            #expect(!reply.text.contains("<script>"), "no inline script on \(path)")
            #expect(!reply.text.contains("style="), "no inline style on \(path)")
            if let token = SignInBrowser.capture("name=\"csrf\" value=\"([^\"]+)\"", in: reply.text) { csrf = token }
        }
        return reply
    }

    /// Posts a form as the page's form would: with the CSRF token unless `withCSRF` is false.
    mutating func post(_ path: String, _ fields: [String: String], withCSRF: Bool = true) async throws -> APIClient.Reply {
        var fields = fields
        if withCSRF { fields["csrf"] = csrf }
        return try await browser.send(.post, path, form: fields)
    }

    /// Gives the account `role` in workspace `workspaceId` through the API, as an admin would.
    func grant(_ role: WorkspaceRole, in workspaceId: String, api: APIClient) async throws {
        let reply = try await api.call(
            .post, "/api/workspaces/\(workspaceId)/users/assign", as: TestUsers.admin,
            json: ["role_id": .string(role.rawValue), "user_ids": [.string(userId)]])
        #expect(reply.status == .accepted, "\(reply.text)")
    }
}
