import EnclaveAuth
import EnclaveCore
import EnclaveServer
import EnclaveTesting
import Foundation
import Hummingbird
import HummingbirdTesting
import HTTPTypes
import Testing

/// Tokens from an external OIDC provider, made by an independent implementation (PyJWT +
/// cryptography in `Tests/Fixtures/oidc/fake_idp.py`), through the real API.
@Suite(
    "External OIDC provider",
    .enabled(if: FakeIdentityProvider.shouldRun, "needs python3 with PyJWT and cryptography (python3 -m pip install pyjwt cryptography)"))
struct ExternalOIDCTests {
    static let clientID = "6f1c2a8e-4b7d-4e0a-9c3f-2d5b8a1e7f90"

    /// A provider, a control plane trusting it (configured by `configure`), and its keys loaded.
    func withProvider(
        discoveryIssuer: String? = nil, waitForKeys: Bool = true,
        configure: @Sendable (String) -> OIDCConfiguration = { OIDCConfiguration(issuer: $0, audiences: [clientID]) },
        _ body: @escaping @Sendable (FakeIdentityProvider, APIClient) async throws -> Void
    ) async throws {
        let idp = try FakeIdentityProvider(discoveryIssuer: discoveryIssuer)
        defer { idp.stop() }
        let enclave = try await TestEnclave.make(
            workers: 0, templatesDir: try TestPaths.combinedTemplates(), oidc: configure(idp.issuer))
        defer { enclave.remove() }
        let provider = try #require(enclave.deps.identityProvider)
        let app = try buildApplication(enclave.deps)
        try await app.test(.router) { client in
            if waitForKeys {
                let deadline = Date().addingTimeInterval(20)
                while await !provider.status.ok, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
                let status = await provider.status
                #expect(status.ok, "\(status.message)")
            }
            try await body(idp, APIClient(client: client, enclave: enclave))
        }
    }

    static func entraClaims(issuer: String, roles: [String] = ["TREAdmin"], extra: [String: JSONValue] = [:]) -> JSONValue {
        let now = Int(Date().timeIntervalSince1970)
        var claims: [String: JSONValue] = [
            "aud": .string(clientID), "iss": .string(issuer), "iat": .int(now), "nbf": .int(now), "exp": .int(now + 3600),
            "oid": "3b0f4c3e-0b6a-4bb6-a5a1-6c3f0f2a9d11", "sub": "pairwise-subject-not-the-user-id",
            "tid": "72f988bf-86f1-41af-91ab-2d7cd011db47", "ver": "2.0", "name": "Ada Lovelace",
            "preferred_username": "ada@contoso.example", "azp": "04b07795-8ddb-461a-bbee-02f9e1bf7b46", "scp": "user_impersonation",
            "roles": .array(roles.map(JSONValue.string)),
        ]
        for (key, value) in extra { claims[key] = value }
        return .object(claims)
    }

    func get(_ path: String, _ api: APIClient, token: String) async throws -> APIClient.Reply {
        try await api.call(.get, path, as: nil, headers: [.authorization: "Bearer \(token)"])
    }

    @Test("an Entra ID v2 token is accepted unchanged and its roles decide what the caller may do")
    func entraToken() async throws {
        try await withProvider { idp, api in
            let admin = try await idp.mint(claims: Self.entraClaims(issuer: idp.issuer))
            #expect(try await get("/api/workspaces", api, token: admin).status == .ok)
            #expect(try await get("/api/workspace-templates", api, token: admin).status == .ok)
            let user = try await idp.mint(claims: Self.entraClaims(issuer: idp.issuer, roles: ["TREUser"]))
            #expect(try await get("/api/workspaces", api, token: user).status == .ok)
            #expect(try await get("/api/workspace-templates", api, token: user).status == .forbidden)
            let nobody = try await idp.mint(claims: Self.entraClaims(issuer: idp.issuer, roles: ["Directory.Reader"]))
            #expect(try await get("/api/workspace-templates", api, token: nobody).status == .forbidden)
        }
    }

    @Test(
        "a Keycloak token's roles are read from the configured claim path",
        arguments: ["realm_access.roles", "resource_access.enclave-api.roles"])
    func keycloakToken(rolesClaim: String) async throws {
        try await withProvider(configure: {
            OIDCConfiguration(issuer: $0, audiences: ["enclave-api"], clientID: "enclave-api", rolesClaim: rolesClaim)
        }) { idp, api in
            func token(_ roles: [String]) async throws -> String {
                let now = Int(Date().timeIntervalSince1970)
                let list = JSONValue.array(roles.map(JSONValue.string))
                return try await idp.mint(
                    alg: "ES256",
                    claims: [
                        "iss": .string(idp.issuer), "aud": ["enclave-api", "account"], "azp": "enclave-web",
                        "exp": .int(now + 300), "iat": .int(now), "sub": "f:8a1b:kc-user-42", "typ": "Bearer",
                        "preferred_username": "grace", "email": "grace@example.org", "name": "Grace Hopper",
                        "realm_access": ["roles": rolesClaim.hasPrefix("realm") ? list : ["offline_access"]],
                        "resource_access": [
                            "enclave-api": ["roles": rolesClaim.hasPrefix("resource") ? list : []],
                            "account": ["roles": ["manage-account"]],
                        ],
                    ])
            }
            let admin = try await token(["TREAdmin", "offline_access"])
            let user = try await token(["TREUser"])
            let adminReply = try await get("/api/workspace-templates", api, token: admin)
            #expect(adminReply.status == .ok, "\(adminReply.text)")
            #expect(try await get("/api/workspace-templates", api, token: user).status == .forbidden)
            #expect(try await get("/api/workspaces", api, token: user).status == .ok)
        }
    }

    @Test("members of a mapped group get the mapped core role")
    func groupRoleMap() async throws {
        try await withProvider(configure: {
            OIDCConfiguration(issuer: $0, audiences: [Self.clientID], groupRoles: ["a1b2c3d4-admins": .treAdmin])
        }) { idp, api in
            let member = try await idp.mint(
                claims: Self.entraClaims(issuer: idp.issuer, roles: [], extra: ["groups": ["a1b2c3d4-admins", "other"]]))
            #expect(try await get("/api/workspace-templates", api, token: member).status == .ok)
            let outsider = try await idp.mint(claims: Self.entraClaims(issuer: idp.issuer, roles: [], extra: ["groups": ["other"]]))
            #expect(try await get("/api/workspace-templates", api, token: outsider).status == .forbidden)
        }
    }

    @Test("a key the provider rotated in is fetched when a token first names it")
    func keyRotation() async throws {
        try await withProvider(configure: {
            OIDCConfiguration(issuer: $0, audiences: [Self.clientID], minimumRefetchInterval: 0)
        }) { idp, api in
            #expect(try await idp.jwksFetches() == 1)
            let kid = try await idp.rotate(alg: "RS256")
            let token = try await idp.mint(claims: Self.entraClaims(issuer: idp.issuer))
            #expect(try Self.kid(of: token) == kid)
            let reply = try await get("/api/workspace-templates", api, token: token)
            #expect(reply.status == .ok, "\(reply.text)")
            #expect(try await idp.jwksFetches() == 2)
        }
    }

    @Test("tokens naming unknown keys cause at most one JWKS fetch per interval, shared by concurrent requests")
    func refetchIsRateLimited() async throws {
        try await withProvider(configure: {
            // 10 s: long enough that the eight concurrent and eight sequential misses below all fall inside one
            // interval even on a loaded machine (a 3 s interval once saw a second refetch in CI).
            OIDCConfiguration(issuer: $0, audiences: [Self.clientID], minimumRefetchInterval: 10)
        }) { idp, api in
            #expect(try await idp.jwksFetches() == 1)
            let startup = ContinuousClock.now
            var tokens: [String] = []
            for index in 0..<8 {
                tokens.append(try await idp.mint(kid: "made-up-\(index)", claims: Self.entraClaims(issuer: idp.issuer)))
            }
            // Past the interval since the start-up fetch, so the first miss may fetch once.
            try await Task.sleep(until: startup + .milliseconds(10_100))
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for token in tokens { group.addTask { try await get("/api/workspaces", api, token: token).status } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == .unauthorized })
            #expect(try await idp.jwksFetches() == 2, "the concurrent misses shared one fetch")
            for token in tokens { #expect(try await get("/api/workspaces", api, token: token).status == .unauthorized) }
            #expect(try await idp.jwksFetches() == 2, "further misses within the interval fetch nothing")
        }
    }

    /// Tokens the provider's keys sign (or fail to sign) that must each be refused.
    enum BadToken: String, CaseIterable, CustomTestStringConvertible {
        case wrongIssuer, wrongAudience, expired, notYetValid, algNone, hmacWithPublicKey, oversized,
            unknownKidAfterRefresh, algorithmNotMatchingKey, claimsEnclaveIssuer
        var testDescription: String { rawValue }
    }

    @Test("bad external tokens are 401", arguments: BadToken.allCases)
    func badTokens(kind: BadToken) async throws {
        try await withProvider(configure: {
            OIDCConfiguration(issuer: $0, audiences: [Self.clientID], minimumRefetchInterval: 0)
        }) { idp, api in
            let now = Int(Date().timeIntervalSince1970)
            let issuer = idp.issuer
            let token: String
            switch kind {
            case .wrongIssuer:
                token = try await idp.mint(claims: Self.entraClaims(issuer: issuer + "/other"))
            case .wrongAudience:
                token = try await idp.mint(claims: Self.entraClaims(issuer: issuer, extra: ["aud": ["api://someone-else"]]))
            case .expired:
                token = try await idp.mint(
                    claims: Self.entraClaims(issuer: issuer, extra: ["exp": .int(now - 600), "nbf": .int(now - 4000)]))
            case .notYetValid:
                token = try await idp.mint(claims: Self.entraClaims(issuer: issuer, extra: ["nbf": .int(now + 600)]))
            case .algNone:
                token = try await idp.mint(alg: "none", claims: Self.entraClaims(issuer: issuer))
            case .hmacWithPublicKey:
                token = try await idp.mint(alg: "HS256-public-key", claims: Self.entraClaims(issuer: issuer))
            case .oversized:
                let padding = JSONValue.string(String(repeating: "x", count: 17 * 1024))
                token = try await idp.mint(claims: Self.entraClaims(issuer: issuer, extra: ["padding": padding]))
            case .unknownKidAfterRefresh:
                token = try await idp.mint(kid: "never-published", claims: Self.entraClaims(issuer: issuer))
            case .algorithmNotMatchingKey:
                let rsaKid = try Self.kid(of: try await idp.mint(claims: Self.entraClaims(issuer: issuer)))
                token = try await idp.mint(alg: "ES256", kid: rsaKid, claims: Self.entraClaims(issuer: issuer))
            case .claimsEnclaveIssuer:
                token = try await idp.mint(
                    claims: Self.entraClaims(issuer: "enclave", extra: ["aud": "api://enclave"]))
            }
            let reply = try await get("/api/workspaces", api, token: token)
            #expect(reply.status == .unauthorized, "\(kind): \(reply.text)")
            switch kind {
            case .expired: #expect(reply.text == "Expired token signature")
            case .algNone, .hmacWithPublicKey: #expect(reply.text.contains("is not accepted"))
            case .oversized: #expect(reply.text.contains("16 KiB"))
            case .unknownKidAfterRefresh, .claimsEnclaveIssuer: #expect(reply.text.contains("unknown key"))
            case .algorithmNotMatchingKey: #expect(reply.text.contains("does not match its key"))
            case .wrongIssuer: #expect(reply.text.contains("does not trust"))
            case .wrongAudience: #expect(reply.text.contains("audience"))
            case .notYetValid: #expect(reply.text.contains("nbf"))
            }
            if kind == .unknownKidAfterRefresh { #expect(try await idp.jwksFetches() == 2, "it did refetch once") }
        }
    }

    @Test("a provider whose discovery names another issuer is not trusted, and health says why")
    func discoveryIssuerMismatch() async throws {
        try await withProvider(discoveryIssuer: "https://idp.invalid/impostor", waitForKeys: false) { idp, api in
            let provider = try #require(api.enclave.deps.identityProvider)
            let deadline = Date().addingTimeInterval(20)
            while await !provider.status.message.contains("reports issuer"), Date() < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            let health = try await api.call(.get, "/api/health", as: nil).json["services"]?.arrayValue ?? []
            let entry = try #require(health.last)
            #expect(entry["service"] == "Identity provider")
            #expect(entry["status"] == "Not OK")
            #expect(entry["message"]?.stringValue?.contains("https://idp.invalid/impostor") == true)
            let token = try await idp.mint(claims: Self.entraClaims(issuer: idp.issuer))
            #expect(try await get("/api/workspaces", api, token: token).status == .unauthorized)
        }
    }

    @Test("Enclave's own tokens stay trusted beside the provider, and health reports the provider OK")
    func ownTokensStillWork() async throws {
        try await withProvider { idp, api in
            #expect(try await api.call(.get, "/api/workspace-templates", as: TestUsers.admin).status == .ok)
            let health = try await api.call(.get, "/api/health", as: nil).json["services"]?.arrayValue ?? []
            #expect(health.map { $0["service"]?.stringValue ?? "" } == ["Store", "Resource Processor", "Deployer: exec", "Data plane", "Airlock scanner", "Identity provider"])
            #expect(health.last?["status"] == "OK")
            #expect(health.last?["message"]?.stringValue?.contains(idp.issuer) == true)
        }
    }

    /// The `kid` in a token's header.
    static func kid(of token: String) throws -> String? {
        var part = String(token.split(separator: ".").first ?? "")
        part = part.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while part.count % 4 != 0 { part += "=" }
        let header = try JSONDecoder().decode([String: String].self, from: try #require(Data(base64Encoded: part)))
        return header["kid"]
    }

    @Test("browser sign-in through the external provider: confidential client + PKCE, a session with the provider's roles, sign-out via its end-session endpoint")
    func browserSessionThroughExternalProvider() async throws {
        let secret = "portal-secret-\(UUID().uuidString)"
        let idp = try FakeIdentityProvider(clientSecret: secret)
        defer { idp.stop() }
        let enclave = try await TestEnclave.make(
            workers: 0, templatesDir: try TestPaths.combinedTemplates(),
            oidc: OIDCConfiguration(issuer: idp.issuer, audiences: [Self.clientID], clientID: Self.clientID, clientSecret: secret))
        defer { enclave.remove() }
        let provider = try #require(enclave.deps.identityProvider)
        let app = try buildApplication(enclave.deps)
        try await app.test(.router) { client in
            let deadline = Date().addingTimeInterval(20)
            while await !provider.status.ok, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
            let api = APIClient(client: client, enclave: enclave)
            try await idp.loginAs(claims: Self.entraClaims(issuer: idp.issuer))

            let metadata = try await api.call(.get, "/api/.metadata", as: nil).json
            #expect(metadata["oidc_issuer"]?.stringValue == idp.issuer)
            #expect(metadata["cli_client_id"]?.stringValue == Self.clientID)

            var browser = CookieBrowser(api)
            let start = try await browser.send(.get, "/auth/login?return_to=%2Fapi%2Fworkspace-templates")
            let authorize = try #require(start.location)
            #expect(authorize.hasPrefix("\(idp.issuer)/authorize?") && authorize.contains("code_challenge_method=S256"))
            let callback = try await idp.authorize(authorize)
            let landed = try await browser.send(.get, callback)
            #expect(landed.status == .seeOther, "\(landed.text)")
            #expect(landed.location == "/api/workspace-templates")
            let templates = try await browser.send(.get, "/api/workspace-templates")
            #expect(templates.status == .ok, "the provider's TREAdmin role rides in the session: \(templates.text)")
            let account = try await browser.send(.get, "/account")
            #expect(account.text.contains("Ada Lovelace"))
            #expect(account.text.contains("multi-factor authentication are managed by your identity provider"), "no recovery codes here")
            #expect(!account.text.contains("/account/recovery-codes"))

            let csrf = try #require(SignInBrowser.capture(#"name="csrf" value="([^"]+)""#, in: account.text))
            let out = try await browser.send(.post, "/auth/logout", form: ["csrf": csrf])
            let location = try #require(out.location)
            #expect(location.hasPrefix("\(idp.issuer)/logout?") && location.contains("id_token_hint="))
            #expect(try await browser.send(.get, "/api/workspace-templates").status == .unauthorized)
        }
    }
}
