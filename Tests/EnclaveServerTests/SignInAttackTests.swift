import EnclaveAuth
import EnclaveCore
import EnclaveServer
import EnclaveStore
import EnclaveTesting
import Foundation
import HTTPTypes
import Testing

/// Each attack on the sign-in gets a clear 4xx, an audit record, and changes nothing it should not.
@Suite("Sign-in attacks")
struct SignInAttackTests {
    @Test("wrong password and wrong TOTP get the same generic message, count toward lockout, and lock the account after five")
    func wrongFactorsLockTheAccount() async throws {
        try await withAPI(workers: 0) { api in
            let (account, secret) = try await TestAccounts.create(api.enclave)
            let secretValue = try #require(secret)
            var browser = SignInBrowser(api)
            _ = try await browser.authorize(verifier: makeVerifier())
            for _ in 0..<3 {
                let reply = try await browser.post(["username": "rosa", "password": "wrong password here"])
                #expect(reply.status == .ok)
                #expect(reply.text.contains(BuiltInProvider.genericFailure))
            }
            let unknown = try await browser.post(["username": "nobody", "password": "wrong password here"])
            #expect(unknown.text.contains(BuiltInProvider.genericFailure))
            let totpPage = try await browser.post(["username": "rosa", "password": TestAccounts.password])
            #expect(totpPage.text.contains("Authenticator code"))
            // A code from ten minutes ago: well formed, wrong now.
            let stale = TOTPCode(secret: secretValue).code(at: Date().addingTimeInterval(-600))
            for _ in 0..<2 {
                let reply = try await browser.post(["code": stale])
                #expect(reply.status == .ok)
                #expect(reply.text.contains(BuiltInProvider.genericFailure))
            }
            let stored = try #require(try await api.enclave.deps.store.user(id: account.id))
            #expect(stored.lockout.lockedUntil != nil)

            // Locked: the right password and the right code are refused with the same words.
            var again = SignInBrowser(api)
            _ = try await again.authorize(verifier: makeVerifier())
            let locked = try await again.post(["username": "rosa", "password": TestAccounts.password])
            #expect(locked.text.contains(BuiltInProvider.genericFailure))
            #expect(!locked.text.contains("Authenticator code"))

            let records = try await TestAccounts.audit(api.enclave, "auth")
            let failures = records.filter { $0.action == .signIn && $0.outcome == .failed }
            #expect(failures.count == 4)  // three wrong passwords and the unknown user
            #expect(failures.filter { $0.target == "/oidc/users/unknown" }.count == 1)
            #expect(records.filter { $0.action == .signInMFAFailure && $0.outcome == .failed }.count == 2)
            #expect(records.filter { $0.action == .accountLock }.map(\.target) == ["/oidc/users/\(account.id)"])
            #expect(records.contains { $0.action == .signIn && $0.outcome == .denied && $0.details["reason"] == "locked" })
            #expect(!records.contains { $0.action == .signIn && $0.outcome == .success })
        }
    }

    @Test("a replayed authorization code is refused with invalid_grant and audited")
    func replayedCode() async throws {
        try await withAPI(workers: 0) { api in
            let (_, secret) = try await TestAccounts.create(api.enclave)
            var browser = SignInBrowser(api)
            let verifier = makeVerifier()
            let code = try await browser.signIn(
                username: "rosa", password: TestAccounts.password, secret: try #require(secret), verifier: verifier)
            #expect(try await browser.redeem(code: code, verifier: verifier).status == .ok)
            let replay = try await browser.redeem(code: code, verifier: verifier)
            #expect(replay.status == .badRequest)
            #expect(replay.json["error"] == "invalid_grant")
            #expect(replay.json["access_token"] == nil)
            let records = try await TestAccounts.audit(api.enclave, "auth.code_replay")
            #expect(records.count == 1)
            #expect(records.first?.outcome == .denied)
        }
    }

    @Test("a PKCE verifier that does not match the challenge is refused, audited, and burns the code")
    func pkceMismatch() async throws {
        try await withAPI(workers: 0) { api in
            let (_, secret) = try await TestAccounts.create(api.enclave)
            var browser = SignInBrowser(api)
            let verifier = makeVerifier()
            let code = try await browser.signIn(
                username: "rosa", password: TestAccounts.password, secret: try #require(secret), verifier: verifier)
            let wrong = try await browser.redeem(code: code, verifier: makeVerifier())
            #expect(wrong.status == .badRequest)
            #expect(wrong.json["error"] == "invalid_grant")
            let records = try await TestAccounts.audit(api.enclave, "auth.sign_in").filter { $0.outcome == .denied }
            #expect(records.map { $0.details["reason"] } == ["pkce_mismatch"])
            // The code is spent: an attacker who learns the right verifier later gets nothing either.
            #expect(try await browser.redeem(code: code, verifier: verifier).status == .badRequest)
        }
    }

    @Test("an unregistered redirect URI gets an error page, never a redirect, and is audited")
    func unregisteredRedirect() async throws {
        try await withAPI(workers: 0) { api in
            var browser = SignInBrowser(api)
            let reply = try await browser.authorize(verifier: makeVerifier(), redirectURI: "https://evil.example/callback")
            #expect(reply.status == .badRequest)
            #expect(reply.location == nil)
            #expect(reply.headers[.setCookie] == nil)
            #expect(reply.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(reply.text.contains("redirect_uri is not registered"))
            #expect(!reply.text.contains("name=\"password\""))
            let records = try await TestAccounts.audit(api.enclave, "auth.request_refused")
            #expect(records.count == 1)
            #expect(records.first?.details["redirectURI"] == "https://evil.example/callback")
        }
    }

    @Test("a form post without its CSRF token or sign-in cookie is 403, audited, and leaves the sign-in where it was")
    func csrfLessPost() async throws {
        try await withAPI(workers: 0) { api in
            let (account, _) = try await TestAccounts.create(api.enclave)
            var browser = SignInBrowser(api)
            _ = try await browser.authorize(verifier: makeVerifier())
            let noToken = try await browser.post(["username": "rosa", "password": TestAccounts.password], withCSRF: false)
            #expect(noToken.status == .forbidden)
            let wrongToken = try await browser.post(["username": "rosa", "password": TestAccounts.password, "csrf": "forged"])
            #expect(wrongToken.status == .forbidden)
            let noCookie = try await browser.send(
                .post, "/oidc/authorize", body: SignInBrowser.formBody(["username": "rosa", "password": "x", "csrf": "y"]), cookie: nil)
            #expect(noCookie.status == .forbidden)
            let records = try await TestAccounts.audit(api.enclave, "auth")
            #expect(records.map(\.action) == [.signInRefused, .signInRefused, .signInRefused])
            #expect(try await api.enclave.deps.store.user(id: account.id) == account)
            // The flow is still on the password page, and the real form still works.
            let page = try await browser.post(["username": "rosa", "password": TestAccounts.password])
            #expect(page.text.contains("Authenticator code"))
        }
    }

    @Test("the sign-in cookie is renewed after the password step, so a planted flow id is worthless")
    func sessionFixation() async throws {
        try await withAPI(workers: 0) { api in
            let (_, secret) = try await TestAccounts.create(api.enclave)
            var browser = SignInBrowser(api)
            let verifier = makeVerifier()
            _ = try await browser.authorize(verifier: verifier)
            let planted = try #require(browser.cookie)
            let plantedCSRF = try #require(browser.csrf)
            let totpPage = try await browser.post(["username": "rosa", "password": TestAccounts.password])
            #expect(totpPage.text.contains("Authenticator code"))
            let renewed = try #require(browser.cookie)
            #expect(renewed != planted)
            #expect(browser.csrf != plantedCSRF)
            let code = TOTPCode(secret: try #require(secret)).code(at: Date())
            // The attacker, holding the planted id and its CSRF token, cannot continue the victim's sign-in.
            let attacker = try await browser.send(
                .post, "/oidc/authorize", body: SignInBrowser.formBody(["code": code, "csrf": plantedCSRF]), cookie: planted)
            #expect(attacker.status == .forbidden)
            #expect(try await TestAccounts.audit(api.enclave, "auth.request_refused").count == 1)
            let done = try await browser.post(["code": code])
            #expect(done.status == .seeOther)
        }
    }
}
