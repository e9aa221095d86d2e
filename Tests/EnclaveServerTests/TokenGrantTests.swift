import EnclaveAuth
import EnclaveCore
import EnclaveServer
import EnclaveStore
import EnclaveTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// The built-in provider's token endpoint beyond the first code: refresh with rotation and reuse
/// detection, client credentials, device codes, revocation and end-session — over HTTP.
@Suite("Built-in provider: refresh, client credentials, device codes, revocation")
struct TokenGrantTests {
    typealias Reply = APIClient.Reply

    static func post(_ api: APIClient, _ path: String, _ fields: [String: String], headers extra: HTTPFields = [:]) async throws -> Reply {
        var headers = extra
        headers[.contentType] = "application/x-www-form-urlencoded"
        return try await api.client.execute(
            uri: path, method: .post, headers: headers, body: ByteBuffer(string: SignInBrowser.formBody(fields))
        ) { Reply(status: $0.status, headers: $0.headers, body: $0.body) }
    }

    /// Signs an enrolled user in through the pages (CLI client) and returns the token response.
    static func signIn(_ api: APIClient) async throws -> (account: UserAccount, tokens: JSONValue) {
        let (account, secret) = try await TestAccounts.create(api.enclave)
        var browser = SignInBrowser(api)
        let verifier = makeVerifier()
        let code = try await browser.signIn(
            username: "rosa", password: TestAccounts.password, secret: try #require(secret), verifier: verifier)
        let reply = try await browser.redeem(code: code, verifier: verifier)
        #expect(reply.status == .ok, "\(reply.text)")
        return (account, reply.json)
    }

    static func refresh(_ api: APIClient, _ token: String, client: String = "enclave-cli") async throws -> Reply {
        try await post(api, "/oidc/token", ["grant_type": "refresh_token", "refresh_token": token, "client_id": client])
    }

    @Test("a refresh token is rotated on use; presenting the spent one again revokes the whole family (audited)")
    func rotationAndReuse() async throws {
        try await withAPI(workers: 0) { api in
            let (_, tokens) = try await Self.signIn(api)
            let first = try #require(tokens["refresh_token"]?.stringValue)
            let second = try await Self.refresh(api, first)
            #expect(second.status == .ok, "\(second.text)")
            let next = try #require(second.json["refresh_token"]?.stringValue)
            #expect(next != first)
            let access = try #require(second.json["access_token"]?.stringValue)
            let workspaces = try await api.call(.get, "/api/workspaces", as: nil, headers: [.authorization: "Bearer \(access)"])
            #expect(workspaces.status == .ok, "refreshed access tokens keep amr pwd+otp: \(workspaces.text)")

            let replay = try await Self.refresh(api, first)
            #expect(replay.status == .badRequest && replay.json["error"] == "invalid_grant")
            // The thief's replay also ends the legitimate holder's chain.
            let afterReuse = try await Self.refresh(api, next)
            #expect(afterReuse.status == .badRequest && afterReuse.json["error"] == "invalid_grant")
            let reuse = try await TestAccounts.audit(api.enclave, "auth.token_reuse")
            #expect(reuse.count == 1 && reuse.first?.outcome == .denied)
            #expect(try await TestAccounts.audit(api.enclave, "auth.token_refresh").count == 1)
        }
    }

    @Test("a refresh token presented by another client, or unknown, is invalid_grant and stays usable by its own client")
    func refreshByOtherClient() async throws {
        try await withAPI(workers: 0) { api in
            let (_, tokens) = try await Self.signIn(api)
            let refresh = try #require(tokens["refresh_token"]?.stringValue)
            #expect(try await Self.refresh(api, refresh, client: "enclave-portal").json["error"] == "invalid_grant")
            #expect(try await Self.refresh(api, "not-a-token").json["error"] == "invalid_grant")
            #expect(try await Self.refresh(api, refresh).status == .ok)
            let missing = try await Self.post(api, "/oidc/token", ["grant_type": "refresh_token"])
            #expect(missing.status == .badRequest && missing.json["error"] == "invalid_request")
            let unknown = try await Self.post(api, "/oidc/token", ["grant_type": "password"])
            #expect(unknown.json["error"] == "unsupported_grant_type")
        }
    }

    @Test("a disabled account's refresh token gets nothing")
    func disabledAccountCannotRefresh() async throws {
        try await withAPI(workers: 0) { api in
            let (account, tokens) = try await Self.signIn(api)
            var disabled = try #require(try await api.enclave.deps.store.user(id: account.id))
            disabled.enabled = false
            try await api.enclave.deps.store.updateUser(disabled, audit: [])
            let reply = try await Self.refresh(api, try #require(tokens["refresh_token"]?.stringValue))
            #expect(reply.status == .badRequest && reply.json["error"] == "invalid_grant")
        }
    }

    @Test("revocation (RFC 7009) ends the family; unknown tokens answer 200; end-session revokes the client's tokens")
    func revocationAndEndSession() async throws {
        try await withAPI(workers: 0) { api in
            let (account, tokens) = try await Self.signIn(api)
            let refresh = try #require(tokens["refresh_token"]?.stringValue)
            #expect(try await Self.post(api, "/oidc/revoke", ["token": "unknown", "client_id": "enclave-cli"]).status == .ok)
            #expect(try await Self.post(api, "/oidc/revoke", ["token": refresh, "client_id": "enclave-cli"]).status == .ok)
            #expect(try await Self.refresh(api, refresh).json["error"] == "invalid_grant")
            #expect(try await TestAccounts.audit(api.enclave, "auth.token_revoke").count == 1)

            // A second sign-in, then RP-initiated logout with its id token.
            var browser = SignInBrowser(api)
            let verifier = makeVerifier()
            let secret = try await Self.secret(of: account, api)
            // The first sign-in spent this 30 s step's TOTP code (codes are single-use): type the next step's.
            _ = try await browser.authorize(verifier: verifier)
            _ = try await browser.post(["username": "rosa", "password": TestAccounts.password])
            let done = try await browser.post(["code": TOTPCode(secret: secret).code(at: Date().addingTimeInterval(30))])
            let code = try #require(SignInBrowser.queryItem("code", in: done.location), "\(done.text)")
            let again = try await browser.redeem(code: code, verifier: verifier).json
            let idToken = try #require(again["id_token"]?.stringValue)
            let unregistered = "http://evil.example/after"
            let logout = try await browser.get(
                "/oidc/logout?id_token_hint=\(idToken)&post_logout_redirect_uri=\(SignInBrowser.formBody(["u": unregistered]).dropFirst(2))")
            #expect(logout.status == .ok && logout.text.contains("signed out"), "never redirected to an unregistered URI")
            #expect(try await Self.refresh(api, try #require(again["refresh_token"]?.stringValue)).json["error"] == "invalid_grant")
            #expect(try await TestAccounts.audit(api.enclave, "auth.sign_out").count == 1)
        }
    }

    /// The TOTP secret of an account made by `TestAccounts.create` (sealed in the store).
    static func secret(of account: UserAccount, _ api: APIClient) async throws -> String {
        let stored = try #require(try await api.enclave.deps.store.user(id: account.id))
        let opened = try api.enclave.deps.controlPlane.secrets.open(try #require(stored.totpSecretSealed))
        return try #require(opened["totp"]?.stringValue)
    }

    @Test("client credentials: an automation client's secret gets a token with its roles (even under MFA); a wrong secret is 401, audited")
    func clientCredentials() async throws {
        try await withAPI(workers: 0) { api in
            let secret = "s3cret-\(UUID().uuidString)"
            let client = AutomationClient(
                id: "ci-pipeline", name: "CI pipeline", secretHash: SecretToken.sha256Hex(secret), roles: ["TREUser"], createdAt: 0)
            try await api.enclave.deps.store.createClient(
                client, audit: AuditEntry(id: UUID().uuidString, time: 0, actor: .system, action: .clientUpdate, target: "/oidc/clients/ci-pipeline"))
            let basic = "Basic " + Data("ci-pipeline:\(secret)".utf8).base64EncodedString()
            let reply = try await Self.post(api, "/oidc/token", ["grant_type": "client_credentials"], headers: [.authorization: basic])
            #expect(reply.status == .ok, "\(reply.text)")
            #expect(reply.json["refresh_token"] == nil && reply.json["id_token"] == nil)
            let access = try #require(reply.json["access_token"]?.stringValue)
            let list = try await api.call(.get, "/api/workspaces", as: nil, headers: [.authorization: "Bearer \(access)"])
            #expect(list.status == .ok, "\(list.text)")
            let templates = try await api.call(.get, "/api/workspace-templates", as: nil, headers: [.authorization: "Bearer \(access)"])
            #expect(templates.status == .forbidden, "a TREUser client is not an admin")

            let wrong = try await Self.post(
                api, "/oidc/token", ["grant_type": "client_credentials", "client_id": "ci-pipeline", "client_secret": "nope"])
            #expect(wrong.status == .unauthorized && wrong.json["error"] == "invalid_client")
            let none = try await Self.post(api, "/oidc/token", ["grant_type": "client_credentials"])
            #expect(none.status == .unauthorized)
            let records = try await TestAccounts.audit(api.enclave, "auth.client_sign_in")
            #expect(records.map(\.outcome) == [.success, .denied])
        }
    }

    @Test("device code: pending until the user signs in on the verification page, then tokens once; bad codes are refused")
    func deviceCode() async throws {
        try await withAPI(workers: 0) { api in
            let (_, secret) = try await TestAccounts.create(api.enclave)
            let unknownClient = try await Self.post(api, "/oidc/device_authorization", ["client_id": "nope"])
            #expect(unknownClient.status == .unauthorized)
            let started = try await Self.post(api, "/oidc/device_authorization", ["client_id": "enclave-cli", "scope": "openid"])
            #expect(started.status == .ok, "\(started.text)")
            let deviceCode = try #require(started.json["device_code"]?.stringValue)
            let userCode = try #require(started.json["user_code"]?.stringValue)
            #expect(started.json["verification_uri"]?.stringValue == "\(api.enclave.deps.configuration.providerIssuer)/device")
            let poll = ["grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": deviceCode, "client_id": "enclave-cli"]
            #expect(try await Self.post(api, "/oidc/token", poll).json["error"] == "authorization_pending")

            var browser = SignInBrowser(api)
            let entry = try await browser.get("/oidc/device")
            #expect(entry.status == .ok && entry.text.contains("name=\"user_code\""))
            let wrong = try await browser.get("/oidc/device?user_code=BBBB-BBBB")
            #expect(wrong.status == .badRequest && wrong.text.contains("not valid"))
            let page = try await browser.get("/oidc/device?user_code=\(userCode.lowercased())")
            #expect(page.status == .ok && page.text.contains("name=\"password\""))
            _ = try await browser.post(["username": "rosa", "password": TestAccounts.password])
            let done = try await browser.post(["code": TOTPCode(secret: try #require(secret)).code(at: Date())])
            #expect(done.status == .ok && done.text.contains("Return to your terminal"), "\(done.text)")
            #expect(try await TestAccounts.audit(api.enclave, "auth.device_approve").count == 1)

            // Polling must respect the interval (5 s); wait it out rather than be told slow_down.
            try await Task.sleep(for: .seconds(5.2))
            let tokens = try await Self.post(api, "/oidc/token", poll)
            #expect(tokens.status == .ok, "\(tokens.text)")
            #expect(tokens.json["refresh_token"]?.stringValue != nil)
            let again = try await Self.post(api, "/oidc/token", poll)
            #expect(again.json["error"] == "expired_token", "a device code is redeemed once")
        }
    }

    @Test("discovery lists the new endpoints and grants; /api/.metadata tells `enclave login` where to sign in")
    func discoveryAndMetadata() async throws {
        try await withAPI(workers: 0) { api in
            let issuer = api.enclave.deps.configuration.providerIssuer
            let document = try await api.call(.get, "/oidc/.well-known/openid-configuration", as: nil).json
            #expect(document["device_authorization_endpoint"]?.stringValue == "\(issuer)/device_authorization")
            #expect(document["revocation_endpoint"]?.stringValue == "\(issuer)/revoke")
            #expect(document["end_session_endpoint"]?.stringValue == "\(issuer)/logout")
            #expect(document["grant_types_supported"]?.arrayValue?.contains("refresh_token") == true)
            let metadata = try await api.call(.get, "/api/.metadata", as: nil).json
            #expect(metadata["oidc_issuer"]?.stringValue == issuer)
            #expect(metadata["cli_client_id"] == "enclave-cli")
            #expect(metadata["cli_scopes"]?.stringValue?.contains("offline_access") == true)
        }
    }
}

@Suite("Automation clients (administration + token endpoint)")
struct AutomationClientTests {
    @Test("a registered client signs in; disabled it is refused; a rotated secret replaces the old one at once")
    func lifecycle() async throws {
        try await withAPI(workers: 0) { api in
            let admin = ClientAdministration(store: api.enclave.deps.store, actor: .system)
            await #expect(throws: EnclaveError.self) { try await admin.add(id: "x", name: "", roles: ["TREUser"]) }
            await #expect(throws: EnclaveError.self) { try await admin.add(id: "robot", name: "", roles: ["Owner"]) }
            let (_, secret) = try await admin.add(id: "robot", name: "Robot", roles: ["TREUser"])
            await #expect(throws: EnclaveError.self) { try await admin.add(id: "robot", name: "", roles: ["TREUser"]) }
            func signIn(_ secret: String) async throws -> APIClient.Reply {
                try await TokenGrantTests.post(
                    api, "/oidc/token", ["grant_type": "client_credentials", "client_id": "robot", "client_secret": secret])
            }
            #expect(try await signIn(secret).status == .ok)
            _ = try await admin.setEnabled("robot", false)
            #expect(try await signIn(secret).status == .unauthorized)
            _ = try await admin.setEnabled("robot", true)
            let rotated = try await admin.rotateSecret("robot")
            #expect(try await signIn(secret).status == .unauthorized)
            #expect(try await signIn(rotated).status == .ok)
        }
    }
}

@Suite("Built-in provider: per-address rate limit")
struct SignInRateLimitTests {
    @Test("posts over the per-address limit are 429; the first refusal of the window is audited, the flood is not")
    func rateLimit() async throws {
        let enclave = try await TestEnclave.make(workers: 0)
        defer { enclave.remove() }
        let deps = enclave.deps
        let provider = BuiltInProvider(
            settings: BuiltInProviderSettings(
                issuer: deps.configuration.providerIssuer, apiAudience: "api://enclave",
                clients: OIDCClient.builtIn(publicURL: "http://127.0.0.1:0"), addressLimit: RateLimit(limit: 2, window: 60)),
            store: deps.store, secrets: deps.controlPlane.secrets, signingKey: deps.signingKey)
        let request = AuthorizeRequest(
            clientId: "enclave-cli", redirectURI: "http://127.0.0.1:5000/callback", codeChallenge: PKCE.challenge(for: makeVerifier()),
            state: nil, nonce: nil)
        let flow = await provider.begin(request)
        let form = ["csrf": flow.csrf, "username": "nobody", "password": "wrong password here"]
        for _ in 0..<2 { _ = try await provider.submit(flowId: flow.flowId, form: form, address: "192.0.2.7") }
        for _ in 0..<3 {
            await #expect(throws: EnclaveError.tooManyRequests("Too many sign-in attempts from this address: wait a minute and try again")) {
                _ = try await provider.submit(flowId: flow.flowId, form: form, address: "192.0.2.7")
            }
        }
        // Another address is not affected.
        _ = try await provider.submit(flowId: flow.flowId, form: form, address: "192.0.2.8")
        let refused = try await deps.store.auditRecords(AuditFilter(action: "auth.request_refused"), after: nil, limit: 10)
        #expect(refused.count == 1 && refused.first?.details["reason"]?.stringValue?.hasPrefix("rate limit") == true)
    }
}

@Suite("MFA refusals are audited")
struct MissingMFAAuditTests {
    @Test("a genuine provider token without otp is 401 and recorded with the user it names; a forged one is not recorded")
    func audited() async throws {
        try await withAPI(workers: 0) { api in
            let deps = api.enclave.deps
            let provider = TokenIssuer(
                key: deps.signingKey, issuer: deps.configuration.providerIssuer, audience: deps.configuration.settings.audience)
            let token = try await provider.token(for: TestUsers.researcher, amr: [AMR.password])
            let reply = try await api.call(.get, "/api/workspaces", as: nil, headers: [.authorization: "Bearer \(token)"])
            #expect(reply.status == .unauthorized && reply.text.contains("Multi-factor"))
            let forged = String(token.dropLast(4)) + "AAAA"
            #expect(try await api.call(.get, "/api/workspaces", as: nil, headers: [.authorization: "Bearer \(forged)"]).status == .unauthorized)
            let denied = try await TestAccounts.audit(api.enclave, "auth.denied")
            #expect(denied.count == 1)
            #expect(denied.first?.actor.id == TestUsers.researcher.id && denied.first?.target == "/api/workspaces")
        }
    }
}
