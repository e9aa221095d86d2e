public import EnclaveCore
public import EnclaveStore
public import Foundation

/// Which provider the portal signs users in with: an external one when configured, else the built-in one.
public enum SessionSignIn: Sendable {
    case builtIn(BuiltInProvider, clientId: String)
    /// Enclave is a confidential client of the external provider (`--oidc-client-id` and its secret).
    case external(OIDCKeyProvider, clientId: String, clientSecret: String?, scopes: [String])
}

/// Browser sessions: sign-in through authorization code + PKCE against the configured provider, a
/// server-side session behind an HttpOnly cookie, idle and absolute timeouts, sign-out that ends the
/// session on the server.
///
/// The cookie holds 256 random bits; the store keeps their SHA-256, so a stolen database opens no
/// session. A new session id is made at every sign-in (a cookie planted beforehand — session fixation —
/// is never promoted), and the pending sign-in is bound to a short-lived cookie of its own, so a callback
/// that this browser did not start (login CSRF) is refused.
public actor SessionManager {
    public nonisolated let policy: SessionPolicy
    /// `<public-url>`, where `/auth/callback` lives.
    public nonisolated let publicURL: String
    let signIn: SessionSignIn
    let store: any Store
    let verifier: TrustedIssuers
    let now: @Sendable () -> Double

    struct PendingSignIn {
        var state: String
        var verifier: String
        var nonce: String
        var returnTo: String
        var createdAt: Double
    }

    var pending: [String: PendingSignIn] = [:]
    /// How long the provider's pages may take before the callback.
    static let pendingLifetime: Double = 900

    public init(
        signIn: SessionSignIn, store: any Store, verifier: TrustedIssuers, publicURL: String, policy: SessionPolicy = .init(),
        now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.signIn = signIn
        self.store = store
        self.verifier = verifier
        self.publicURL = publicURL
        self.policy = policy
        self.now = now
    }

    public nonisolated var callbackURL: String { "\(publicURL)/auth/callback" }
    public nonisolated var signedOutURL: String { "\(publicURL)/auth/signed-out" }
    /// Cookies get `Secure` when browsers reach Enclave over TLS.
    public nonisolated var secureCookies: Bool { publicURL.hasPrefix("https://") }

    /// A local path to return to after sign-in: only `/…` paths of this site (never `//host`, a scheme, or a
    /// backslash that some browsers read as a slash), so the parameter cannot become an open redirect.
    public static func safeReturnPath(_ path: String?) -> String {
        guard let path, path.hasPrefix("/"), !path.hasPrefix("//"), !path.contains("\\"), path.count <= 2048,
            !path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f })
        else { return "/account" }
        return path
    }

    // MARK: Sign-in

    /// Starts a sign-in: the pending sign-in's cookie value and where to send the browser.
    public func begin(returnTo: String?) async throws -> (cookie: String, location: String) {
        purge()
        let cookie = SecretToken.random()
        let pkceVerifier = SecretToken.random()
        let login = PendingSignIn(
            state: SecretToken.random(), verifier: pkceVerifier, nonce: SecretToken.random(), returnTo: Self.safeReturnPath(returnTo),
            createdAt: now())
        let authorization: String
        var parameters = [
            ("response_type", "code"), ("redirect_uri", callbackURL), ("state", login.state), ("nonce", login.nonce),
            ("code_challenge", PKCE.challenge(for: pkceVerifier)), ("code_challenge_method", PKCE.method),
        ]
        switch signIn {
        case .builtIn(let provider, let clientId):
            authorization = "\(provider.settings.issuer)/authorize"
            parameters += [("client_id", clientId), ("scope", "openid profile email")]
        case .external(let provider, let clientId, _, let scopes):
            guard let endpoints = await provider.signInEndpoints() else {
                throw EnclaveError.serviceUnavailable(
                    "The identity provider \(provider.configuration.issuer) cannot be reached: try again shortly, or ask an administrator to check /api/health")
            }
            authorization = endpoints.authorization
            parameters += [("client_id", clientId), ("scope", (["openid", "profile", "email"] + scopes).joined(separator: " "))]
        }
        pending[cookie] = login
        var components = URLComponents(string: authorization)
        let existing = components?.queryItems ?? []
        components?.queryItems = existing + parameters.map { URLQueryItem(name: $0.0, value: $0.1) }
        guard let location = components?.url?.absoluteString else {
            throw EnclaveError.internal("The identity provider's authorization endpoint '\(authorization)' is not a URL")
        }
        return (cookie, location)
    }

    /// Finishes a sign-in at `/auth/callback`: checks that this browser started it (its cookie and `state`),
    /// redeems the code with the PKCE verifier, verifies the token like any bearer token, and opens a new
    /// session. Returns the new session's cookie value and the local path to go to.
    public func complete(loginCookie: String?, code: String?, state: String?, providerError: String?, address: String)
        async throws -> (cookie: String, session: BrowserSession, returnTo: String)
    {
        purge()
        guard let loginCookie, let login = pending[loginCookie] else {
            try await refuse("no sign-in was started in this browser (missing or expired sign-in cookie)", address: address)
            throw EnclaveError.badRequest("This sign-in was not started in this browser, or took too long: sign in again")
        }
        pending[loginCookie] = nil
        guard let state, ConstantTime.equals(state, login.state) else {
            try await refuse("state does not match the sign-in started in this browser", address: address)
            throw EnclaveError.badRequest("This sign-in answer does not belong to the sign-in started in this browser: sign in again")
        }
        if let providerError {
            try await refuse("the provider answered '\(providerError.prefix(200))'", address: address)
            throw EnclaveError.forbidden("The identity provider did not sign you in (\(providerError.prefix(200))): sign in again")
        }
        guard let code, !code.isEmpty else { throw EnclaveError.badRequest("The sign-in answer has no authorization code") }
        let (accessToken, idToken) = try await redeem(code: code, verifier: login.verifier)
        let user: User
        do {
            user = try await verifier.verifyWithExpiry(accessToken).user
        } catch {
            try await refuse("the provider's token was refused: \(error.message)", address: address)
            throw error
        }
        if let idToken, let nonce = Self.claim("nonce", in: idToken), !ConstantTime.equals(nonce, login.nonce) {
            try await refuse("the id token's nonce does not match", address: address)
            throw EnclaveError.badRequest("The sign-in answer was not made for this browser: sign in again")
        }
        let cookie = SecretToken.random()
        let session = BrowserSession(
            id: SecretToken.sha256Hex(cookie), user: user, amr: Self.strings("amr", in: accessToken), csrf: SecretToken.random(),
            issuer: Self.claim("iss", in: accessToken) ?? "", idToken: idToken, createdAt: now())
        try await store.recordUserSeen(user, now: now())
        try await store.createSession(
            session,
            audit: [
                entry(.sessionStart, user: user, outcome: .success,
                    details: ["issuer": .string(session.issuer), "amr": .array(session.amr.map(JSONValue.string))], address: address)
            ])
        return (cookie, session, login.returnTo)
    }

    private func redeem(code: String, verifier pkceVerifier: String) async throws -> (access: String, id: String?) {
        switch signIn {
        case .builtIn(let provider, let clientId):
            do {
                let tokens = try await provider.redeem(
                    code: code, clientId: clientId, redirectURI: callbackURL, verifier: pkceVerifier)
                return (tokens.access_token, tokens.id_token)
            } catch let error as OAuthError {
                throw EnclaveError.badRequest("The sign-in could not be completed (\(error.error)): sign in again")
            }
        case .external(let provider, let clientId, let secret, _):
            guard let endpoints = await provider.signInEndpoints() else {
                throw EnclaveError.serviceUnavailable("The identity provider cannot be reached: try again shortly")
            }
            let fields = [
                ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", callbackURL), ("code_verifier", pkceVerifier),
                ("client_id", clientId),
            ]
            let (status, body) = try await provider.postForm(
                endpoints.token, fields: fields, basicAuth: secret.map { (clientId, $0) })
            struct Tokens: Decodable {
                var access_token: String?
                var id_token: String?
                var error: String?
            }
            let tokens = try? JSONDecoder().decode(Tokens.self, from: body)
            guard status == 200, let access = tokens?.access_token else {
                throw EnclaveError.badGateway(
                    "The identity provider refused the sign-in code (\(status)\(tokens?.error.map { ": \($0)" } ?? "")): sign in again")
            }
            return (access, tokens?.id_token)
        }
    }

    // MARK: Sessions

    /// The live session a cookie names, or nil. A session past its idle or absolute limit is ended (and
    /// audited) here; an active one records the activity at most once per `touchInterval`.
    public func session(cookie: String) async throws -> BrowserSession? {
        guard cookie.count <= 128, let session = try await store.session(id: SecretToken.sha256Hex(cookie)) else { return nil }
        let time = now()
        switch policy.state(of: session, now: time) {
        case .ended:
            return nil
        case .idleTimeout, .absoluteTimeout:
            let reason = policy.state(of: session, now: time).rawValue
            _ = try await store.endSession(
                id: session.id, at: time,
                audit: [entry(.signOut, user: session.user, outcome: .success, details: ["reason": .string(reason)], address: nil)])
            return nil
        case .active:
            var session = session
            if case .builtIn(let provider, _) = signIn, session.issuer == provider.settings.issuer {
                // The built-in provider's accounts are here: a disabled account's sessions end at its next
                // request, and role changes apply at once rather than at the next sign-in.
                guard let account = try await store.user(id: session.user.id), account.enabled else {
                    _ = try await store.endSession(
                        id: session.id, at: time,
                        audit: [entry(.signOut, user: session.user, outcome: .success, details: ["reason": "account disabled"], address: nil)])
                    return nil
                }
                session.user.roles = account.roles
            }
            if policy.shouldTouch(session, now: time) { try await store.touchSession(id: session.id, at: time) }
            return session
        }
    }

    /// Ends the session (when `csrf` is its token) and says where the browser goes next: the external
    /// provider's end-session endpoint, or Enclave's signed-out page.
    public func signOut(cookie: String?, csrf: String?, address: String) async throws -> String {
        guard let cookie, let session = try await session(cookie: cookie) else { return signedOutURL }
        guard let csrf, ConstantTime.equals(csrf, session.csrf) else {
            try await store.appendAudit([
                entry(.signOut, user: session.user, outcome: .denied, details: ["reason": "missing or wrong CSRF token"], address: address)
            ])
            throw EnclaveError.forbidden("The sign-out form is missing its CSRF token: reload the page and try again")
        }
        _ = try await store.endSession(
            id: session.id, at: now(),
            audit: [entry(.signOut, user: session.user, outcome: .success, details: ["reason": "sign-out"], address: address)])
        if case .external(let provider, _, _, _) = signIn, let endSession = await provider.signInEndpoints()?.endSession,
            var components = URLComponents(string: endSession)
        {
            var items = components.queryItems ?? []
            if let idToken = session.idToken { items.append(URLQueryItem(name: "id_token_hint", value: idToken)) }
            items.append(URLQueryItem(name: "post_logout_redirect_uri", value: signedOutURL))
            components.queryItems = items
            return components.string ?? signedOutURL
        }
        return signedOutURL
    }

    /// Audits a refused cookie-authenticated write (no or wrong CSRF header).
    public func refuseCSRF(_ session: BrowserSession, target: String, address: String) async throws {
        try await store.appendAudit([
            AuditEntry(
                id: UUID().uuidString.lowercased(), time: now(), actor: AuditActor(session.user), action: .authDenied, target: target,
                outcome: .denied, details: ["reason": "cookie-authenticated write without a matching X-CSRF-Token", "address": .string(address)])
        ])
    }

    // MARK: Helpers

    private func refuse(_ reason: String, address: String) async throws {
        try await store.appendAudit([
            AuditEntry(
                id: UUID().uuidString.lowercased(), time: now(), actor: BuiltInProvider.anonymous, action: .signInRefused,
                target: "/auth/callback", outcome: .denied, details: ["reason": .string(reason), "address": .string(address)])
        ])
    }

    private func entry(_ action: AuditAction, user: User, outcome: AuditOutcome, details: [String: JSONValue], address: String?)
        -> AuditEntry
    {
        var details = details
        if let address { details["address"] = .string(address) }
        return AuditEntry(
            id: UUID().uuidString.lowercased(), time: now(), actor: AuditActor(user), action: action, target: "/auth/sessions",
            outcome: outcome, details: .object(details))
    }

    private func purge() {
        let time = now()
        pending = pending.filter { time - $0.value.createdAt < Self.pendingLifetime }
        if pending.count > 10_000 { pending.removeAll() }
    }



    /// The claims of a token whose signature was already verified (never called on an unverified token),
    /// through the same parse the verifier uses.
    static func payload(_ token: String) -> [String: JSONValue] {
        (try? UnverifiedToken(token))?.claims ?? [:]
    }

    static func claim(_ name: String, in token: String) -> String? {
        if case .string(let value)? = payload(token)[name] { return value }
        return nil
    }

    /// `oid` (else `sub`) and `name` of a token whose signature was checked but whose claims were refused.
    public static func identity(ofSignatureCheckedToken token: String) -> (id: String, name: String) {
        let id = claim("oid", in: token) ?? claim("sub", in: token) ?? "unknown"
        return (String(id.prefix(200)), String((claim("name", in: token) ?? "").prefix(200)))
    }

    static func strings(_ name: String, in token: String) -> [String] {
        RawClaims.strings(payload(token)[name])
    }
}
