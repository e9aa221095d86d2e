import EnclaveAuth
import EnclaveCore
import EnclaveServer
import EnclaveStore
import EnclaveTesting
import Foundation
import HTTPTypes
import Testing

@Suite("Admin users page (formerly /account/users): user management for admins")
struct AccountUsersTests {
    static func csrf(_ page: APIClient.Reply) throws -> String {
        try #require(SignInBrowser.capture(#"name="csrf" value="([^"]+)""#, in: page.text))
    }

    @Test("an admin lists users, invites one (the link shown once), adds a role; CSRF-less posts change nothing")
    func adminManagesUsers() async throws {
        try await withAPI(workers: 0) { api in
            var browser = try await SessionTests.signIn(api)
            let account = try await browser.send(.get, "/account")
            #expect(account.text.contains("href=\"/admin/users\""))
            let page = try await browser.send(.get, "/admin/users")
            #expect(page.status == .ok && page.text.contains("rosa"), "\(page.text)")
            let csrf = try Self.csrf(page)

            let invite = ["username": "ivy", "name": "Ivy <b>Invited</b>", "email": "ivy@example.org", "role": "TREUser"]
            let forged = try await browser.send(.post, "/admin/users", form: invite)
            #expect(forged.status == .forbidden)
            #expect(try await api.enclave.deps.store.user(username: "ivy") == nil)

            var form = invite
            form["csrf"] = csrf
            let invited = try await browser.send(.post, "/admin/users", form: form)
            #expect(invited.status == .created, "\(invited.text)")
            #expect(invited.text.contains("/oidc/invitation?token="))
            #expect(invited.text.contains("Ivy &lt;b&gt;Invited&lt;/b&gt;"), "user content is escaped")
            let ivy = try #require(try await api.enclave.deps.store.user(username: "ivy"))
            #expect(ivy.passwordHash == nil)

            let again = try await browser.send(.post, "/admin/users", form: form)
            #expect(again.status == .conflict && again.text.contains("already exists"))

            let added = try await browser.send(
                .post, "/admin/users/\(ivy.id)/roles", form: ["csrf": csrf, "change": "add", "role": "TREAdmin"])
            #expect(added.status == .seeOther && added.location == "/admin/users")
            #expect(try await api.enclave.deps.store.user(id: ivy.id)?.roles.contains("TREAdmin") == true)
            let unknownRole = try await browser.send(
                .post, "/admin/users/\(ivy.id)/roles", form: ["csrf": csrf, "change": "add", "role": "Owner"])
            #expect(unknownRole.status == .badRequest)
            #expect(try await TestAccounts.audit(api.enclave, "user.role_add").count == 1)
        }
    }

    @Test("the last TREAdmin cannot disable themselves from the account area; nothing changes")
    func lastAdmin() async throws {
        try await withAPI(workers: 0) { api in
            var browser = try await SessionTests.signIn(api)
            let csrf = try Self.csrf(try await browser.send(.get, "/admin/users"))
            let rosa = try #require(try await api.enclave.deps.store.user(username: "rosa"))
            let refused = try await browser.send(.post, "/admin/users/\(rosa.id)/enabled", form: ["csrf": csrf, "enabled": "false"])
            #expect(refused.status == .conflict && refused.text.contains("last"), "\(refused.text)")
            #expect(try await api.enclave.deps.store.user(id: rosa.id)?.enabled == true)
            let removeRole = try await browser.send(
                .post, "/admin/users/\(rosa.id)/roles", form: ["csrf": csrf, "change": "remove", "role": "TREAdmin"])
            #expect(removeRole.status == .conflict)
        }
    }

    @Test("a researcher's session gets 403 (audited); no session is sent to sign in")
    func nonAdmins() async throws {
        try await withAPI(workers: 0) { api in
            var anonymous = CookieBrowser(api)
            let redirect = try await anonymous.send(.get, "/admin/users")
            #expect(redirect.status == .seeOther && redirect.location?.hasPrefix("/auth/login") == true)
            var browser = try await SessionTests.signIn(api, roles: ["TREUser"])
            #expect(!(try await browser.send(.get, "/account")).text.contains("/admin/users"))
            let refused = try await browser.send(.get, "/admin/users")
            #expect(refused.status == .forbidden && refused.text.contains("TREAdmin"))
            let denied = try await TestAccounts.audit(api.enclave, "auth.denied")
            #expect(denied.contains { $0.target == "/admin/users" })
        }
    }
}
