import EnclaveAuth
import EnclaveCore
import EnclaveServer
import EnclaveStore
import EnclaveTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@Suite("Built-in OIDC provider")
struct BuiltInProviderTests {
    @Test("discovery names the issuer <public-url>/oidc and its endpoints; the JWKS is served")
    func discovery() async throws {
        try await withAPI(workers: 0) { api in
            let issuer = api.enclave.deps.configuration.providerIssuer
            #expect(issuer == "http://127.0.0.1:0/oidc")
            let document = try await api.call(.get, "/oidc/.well-known/openid-configuration", as: nil).json
            #expect(document["issuer"]?.stringValue == issuer)
            #expect(document["token_endpoint"]?.stringValue == "\(issuer)/token")
            #expect(document["code_challenge_methods_supported"] == ["S256"])
            let jwks = try await api.call(.get, "/oidc/jwks", as: nil).json
            #expect(jwks["keys"]?.arrayValue?.first?["alg"] == "ES256")
        }
    }

    @Test("a new user signs in with a password, enrolls TOTP, and the access token works on /api/workspaces")
    func fullFlowWithEnrollment() async throws {
        try await withAPI(workers: 0) { api in
            let (account, _) = try await TestAccounts.create(api.enclave, secret: nil)
            var browser = SignInBrowser(api)
            let verifier = makeVerifier()
            let page = try await browser.authorize(verifier: verifier)
            #expect(page.status == .ok)
            #expect(page.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
            // Browsers apply form-action to the redirect after the last form post: the client's origin is allowed.
            #expect(page.headers[.contentSecurityPolicy]?.contains("form-action 'self' http://127.0.0.1:53682;") == true)
            let setCookie = try #require(page.headers[.setCookie])
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Lax"))

            let enroll = try await browser.post(["username": "Rosa", "password": TestAccounts.password])
            #expect(enroll.text.contains("Set up your authenticator"), "\(enroll.text)")
            #expect(enroll.text.contains("<svg"))
            let shown = try #require(SignInBrowser.capture(#"id="totp-secret">([^<]+)<"#, in: enroll.text))
            let secret = Base32.decode(shown)
            let recovery = try await browser.post(["code": TOTPCode(secret: secret).code(at: Date())])
            #expect(recovery.text.contains("Recovery codes"), "\(recovery.text)")
            #expect(recovery.headers[.contentSecurityPolicy]?.contains("form-action 'self' http://127.0.0.1:53682;") == true)
            let redirect = try await browser.post([:])
            #expect(redirect.status == .seeOther)
            let location = try #require(redirect.location)
            #expect(location.hasPrefix(SignInBrowser.redirectURI + "?"))
            #expect(SignInBrowser.queryItem("state", in: location) == "st-123")
            #expect(SignInBrowser.queryItem("iss", in: location) == api.enclave.deps.configuration.providerIssuer)
            let code = try #require(SignInBrowser.queryItem("code", in: location))

            let tokens = try await browser.redeem(code: code, verifier: verifier)
            #expect(tokens.status == .ok, "\(tokens.text)")
            let access = try #require(tokens.json["access_token"]?.stringValue)
            let user = try await api.enclave.deps.providerVerifier.verify(access)
            #expect(user.id == account.id)

            let workspaces = try await api.call(.get, "/api/workspaces", as: nil, headers: [.authorization: "Bearer \(access)"])
            #expect(workspaces.status == .ok, "\(workspaces.text)")
            let userinfo = try await api.call(.get, "/oidc/userinfo", as: nil, headers: [.authorization: "Bearer \(access)"])
            #expect(userinfo.json["preferred_username"] == "rosa")

            let stored = try #require(try await api.enclave.deps.store.user(id: account.id))
            #expect(stored.totpSecretSealed != nil && stored.recoveryCodeHashes.count == 10)
            let actions = try await TestAccounts.audit(api.enclave, nil).map(\.action)
            #expect(actions.contains(.userMFAEnroll) && actions.contains(.signIn))
        }
    }

    @Test("an enrolled user signs in with password and TOTP; the token's amr is pwd and otp")
    func enrolledUserSignsIn() async throws {
        try await withAPI(workers: 0) { api in
            let (_, secret) = try await TestAccounts.create(api.enclave)
            var browser = SignInBrowser(api)
            let verifier = makeVerifier()
            let code = try await browser.signIn(
                username: "rosa", password: TestAccounts.password, secret: try #require(secret), verifier: verifier)
            let tokens = try await browser.redeem(code: code, verifier: verifier)
            let access = try #require(tokens.json["access_token"]?.stringValue)
            let claims = try #require(access.split(separator: ".").dropFirst().first)
            var base64 = claims.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            while base64.count % 4 != 0 { base64 += "=" }
            let payload = try JSONDecoder().decode(JSONValue.self, from: try #require(Data(base64Encoded: base64)))
            #expect(payload["amr"] == ["pwd", "otp"])
            let success = try await TestAccounts.audit(api.enclave, "auth.sign_in").filter { $0.outcome == .success }
            #expect(success.count == 1)
        }
    }

    @Test("under --require-mfa a provider token without otp is 401; operator tokens pass; with otp passes")
    func mfaRule() async throws {
        try await withAPI(workers: 0) { api in
            let deps = api.enclave.deps
            let provider = TokenIssuer(
                key: deps.signingKey, issuer: deps.configuration.providerIssuer, audience: deps.configuration.settings.audience)
            let user = TestUsers.admin
            func status(_ token: String) async throws -> HTTPResponse.Status {
                try await api.call(.get, "/api/workspaces", as: nil, headers: [.authorization: "Bearer \(token)"]).status
            }
            let passwordOnly = try await provider.token(for: user, amr: [AMR.password])
            let operatorClaimed = try await provider.token(for: user, amr: [AMR.operator])
            let withOTP = try await provider.token(for: user, amr: [AMR.password, AMR.otp])
            let operatorToken = try await api.enclave.issuer.token(for: user)
            let ownPasswordOnly = try await api.enclave.issuer.token(for: user, amr: [AMR.password])
            #expect(try await status(passwordOnly) == .unauthorized)
            #expect(try await status(operatorClaimed) == .unauthorized)
            #expect(try await status(withOTP) == .ok)
            #expect(try await status(operatorToken) == .ok)
            #expect(try await status(ownPasswordOnly) == .unauthorized)
        }
    }

    @Test("without --require-mfa a password-only sign-in gets a token that works")
    func mfaNotRequired() async throws {
        let enclave = try await TestEnclave.make(workers: 0, requireMFA: false)
        defer { enclave.remove() }
        let app = try buildApplication(enclave.deps)
        try await app.test(.router) { client in
            let api = APIClient(client: client, enclave: enclave)
            try await TestAccounts.create(enclave, secret: nil)
            var browser = SignInBrowser(api)
            let verifier = makeVerifier()
            _ = try await browser.authorize(verifier: verifier)
            let redirect = try await browser.post(["username": "rosa", "password": TestAccounts.password])
            #expect(redirect.status == .seeOther, "\(redirect.text)")
            let code = try #require(SignInBrowser.queryItem("code", in: redirect.location))
            let access = try #require(try await browser.redeem(code: code, verifier: verifier).json["access_token"]?.stringValue)
            let reply = try await api.call(.get, "/api/workspaces", as: nil, headers: [.authorization: "Bearer \(access)"])
            #expect(reply.status == .ok)
        }
    }
}
