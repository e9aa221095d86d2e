public import EnclaveCore
public import EnclaveStore
public import Foundation

/// Settings of the built-in identity provider.
public struct BuiltInProviderSettings: Sendable {
    /// `<public-url>/oidc`: the `iss` of every token it signs and the base of its endpoints.
    public var issuer: String
    /// `aud` of access tokens: the API's audience.
    public var apiAudience: String
    public var clients: [OIDCClient]
    /// Sign-in needs a TOTP code; enrollment is forced on first sign-in.
    public var requireMFA: Bool
    public var lockout: LockoutPolicy
    /// Sign-in form posts per client address.
    public var addressLimit: RateLimit
    public var tokenLifetime: Double
    /// Seconds a sign-in page stays usable.
    public var flowLifetime: Double
    public var refreshTokens: RefreshTokenPolicy
    /// Clients that get no refresh token: the portal keeps its own server-side session instead.
    public var clientsWithoutRefresh: Set<String>

    public init(
        issuer: String, apiAudience: String, clients: [OIDCClient], requireMFA: Bool = true,
        lockout: LockoutPolicy = .init(), addressLimit: RateLimit = .init(limit: 30, window: 60),
        tokenLifetime: Double = 3600, flowLifetime: Double = 900, refreshTokens: RefreshTokenPolicy = .init(),
        clientsWithoutRefresh: Set<String> = ["enclave-portal"]
    ) {
        self.issuer = issuer
        self.apiAudience = apiAudience
        self.clients = clients
        self.requireMFA = requireMFA
        self.lockout = lockout
        self.addressLimit = addressLimit
        self.tokenLifetime = tokenLifetime
        self.flowLifetime = flowLifetime
        self.refreshTokens = refreshTokens
        self.clientsWithoutRefresh = clientsWithoutRefresh
    }
}

/// An `/oidc/authorize` request that passed validation.
public struct AuthorizeRequest: Sendable, Hashable {
    public var clientId: String
    public var redirectURI: String
    public var codeChallenge: String
    public var state: String?
    public var nonce: String?

    public init(clientId: String, redirectURI: String, codeChallenge: String, state: String?, nonce: String?) {
        self.clientId = clientId
        self.redirectURI = redirectURI
        self.codeChallenge = codeChallenge
        self.state = state
        self.nonce = nonce
    }
}

/// What the sign-in page shows next.
public enum SignInStep: Sendable, Hashable {
    case password(error: String?)
    case totp(error: String?)
    /// TOTP enrollment: the `otpauth://` URI (drawn as a QR code), the secret as text.
    case enroll(uri: String, secret: String, error: String?)
    /// Shown once, after enrollment.
    case recoveryCodes([String])
    /// First-admin setup: choose username, name, email and password.
    case setup(error: String?)
    /// An invited user chooses a password (`BuiltInProvider+Invitations.swift`).
    case invitation(username: String, error: String?)
    /// Back to the client with `code` and `state`.
    case redirect(String)
    /// A final message (setup finished).
    case done(String)
}

/// The token endpoint's answer.
public struct TokenResponse: Codable, Sendable {
    public var access_token: String
    /// Absent for `client_credentials` (no person signed in).
    public var id_token: String?
    /// Absent for the portal and automation clients.
    public var refresh_token: String?
    public var token_type: String
    public var expires_in: Int
    public var scope: String
}

/// The built-in OpenID Connect provider's state and rules: sign-in flows, authorization codes, lockout,
/// rate limits and the first-admin setup link.
///
/// Flows and codes live in memory: they last seconds to minutes, and the one-host deployment has one
/// server process (a restart asks users to sign in again). Users, lockout counters and audit records
/// live in the store. The sign-in flow is bound to a cookie (the flow id) and every form carries the
/// flow's CSRF token, so a form posted from another site, or without the token, changes nothing.
public actor BuiltInProvider {
    public nonisolated let settings: BuiltInProviderSettings
    let store: any Store
    let secrets: SecretBox
    let hasher: PasswordHasher
    let tokenIssuer: TokenIssuer
    let now: @Sendable () -> Double

    struct Flow {
        var csrf: String
        var request: AuthorizeRequest?
        var step: SignInStep
        var userId: String?
        var pendingSecret: String?
        /// The invitation an invitation flow will spend (SHA-256 of its token).
        var invitationHash: String?
        var createdAt: Double
        /// A device code (RFC 8628) this sign-in approves instead of redirecting to a client.
        var deviceUserCode: String?
    }

    var flows: [String: Flow] = [:]
    var codes: [String: AuthorizationCode] = [:]
    var addressCounters: [String: RateLimit.State] = [:]
    var setupToken: (hash: String, expires: Double)?
    /// Device authorizations by the SHA-256 of their device code; `userCodes` maps each user code to that key.
    var devices: [String: DeviceGrant] = [:]
    var userCodes: [String: String] = [:]

    public init(
        settings: BuiltInProviderSettings, store: any Store, secrets: SecretBox, signingKey: SigningKey,
        hasher: PasswordHasher = PasswordHasher(), now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.settings = settings
        self.store = store
        self.secrets = secrets
        self.hasher = hasher
        self.tokenIssuer = TokenIssuer(key: signingKey, issuer: settings.issuer, audience: settings.apiAudience)
        self.now = now
    }

    /// The generic refusal for a wrong username, password or code: the same words whatever was wrong,
    /// so the page does not reveal which users exist or whether an account is locked.
    public static let genericFailure = "Incorrect username, password or code."

    /// An account by id (for `/oidc/userinfo`).
    public func account(id: String) async throws -> UserAccount? { try await store.user(id: id) }

    // MARK: Authorize

    /// Checks an authorization request. Throws 400 (shown as a page, never redirected) when the client or
    /// redirect URI is not registered; otherwise problems are returned as an error redirect to the client.
    public func validate(
        clientId: String?, redirectURI: String?, responseType: String?, codeChallenge: String?, method: String?,
        state: String?, nonce: String?
    ) throws(EnclaveError) -> Result<AuthorizeRequest, AuthorizeRedirectError> {
        guard let clientId, let client = settings.clients.first(where: { $0.id == clientId }) else {
            throw .badRequest("Unknown client_id: this client is not registered with Enclave's sign-in")
        }
        guard let redirectURI, client.allows(redirectURI: redirectURI) else {
            throw .badRequest("The redirect_uri is not registered for client '\(clientId)'")
        }
        func fail(_ error: String, _ description: String) -> Result<AuthorizeRequest, AuthorizeRedirectError> {
            .failure(AuthorizeRedirectError(redirectURI: redirectURI, error: error, description: description, state: state))
        }
        guard responseType == "code" else { return fail("unsupported_response_type", "only response_type=code is supported") }
        guard method == PKCE.method else { return fail("invalid_request", "code_challenge_method must be S256") }
        guard let codeChallenge, PKCE.isWellFormedChallenge(codeChallenge) else {
            return fail("invalid_request", "a code_challenge (S256) is required")
        }
        return .success(
            AuthorizeRequest(clientId: clientId, redirectURI: redirectURI, codeChallenge: codeChallenge, state: state, nonce: nonce))
    }

    /// Starts a sign-in flow: its id (the cookie), its CSRF token and the first page.
    public func begin(_ request: AuthorizeRequest) -> (flowId: String, csrf: String, step: SignInStep) {
        purge()
        let flowId = SecretToken.random()
        let csrf = SecretToken.random()
        flows[flowId] = Flow(csrf: csrf, request: request, step: .password(error: nil), createdAt: now())
        return (flowId, csrf, .password(error: nil))
    }

    /// The page a flow is on, and its CSRF token, for a GET that resumes it.
    public func current(flowId: String?) -> (csrf: String, step: SignInStep)? {
        guard let flowId, let flow = flows[flowId], now() - flow.createdAt < settings.flowLifetime else { return nil }
        return (flow.csrf, flow.step)
    }

    /// The client redirect URI of a flow (nil for the setup flow or an unknown flow): its sign-in pages'
    /// Content-Security-Policy must let their forms end in a redirect there.
    public func redirectURI(flowId: String?) -> String? {
        guard let flowId else { return nil }
        return flows[flowId]?.request?.redirectURI
    }

    /// Records a refused authorization request (unregistered client or redirect URI), which `validate`
    /// answers with an error page rather than a redirect.
    public func recordRefusedRequest(_ reason: String, clientId: String?, redirectURI: String?, address: String) async throws {
        var details: [String: JSONValue] = ["reason": .string(reason)]
        if let clientId { details["client"] = .string(String(clientId.prefix(200))) }
        if let redirectURI { details["redirectURI"] = .string(String(redirectURI.prefix(500))) }
        try await store.appendAudit([
            audit(.signInRefused, actor: Self.anonymous, target: "/oidc/authorize", outcome: .denied, details: details, address: address)
        ])
    }

    /// Who is recorded as the actor of a refusal before any account is known.
    static let anonymous = AuditActor(id: "anonymous", name: "")

    /// A form post on the sign-in page: the flow's id (a new one once the password step has passed, so a
    /// flow id planted before sign-in — session fixation — never belongs to a signed-in flow), its CSRF
    /// token and the next page. Throws 403 when the flow or CSRF token is missing or wrong (audited,
    /// nothing else changes), 429 when the address has posted too often.
    public func submit(flowId: String?, form: [String: String], address: String) async throws
        -> (flowId: String, csrf: String, step: SignInStep)
    {
        guard let flowId, var flow = flows[flowId], now() - flow.createdAt < settings.flowLifetime else {
            try await store.appendAudit([
                audit(.signInRefused, actor: Self.anonymous, target: "/oidc/authorize", outcome: .denied,
                    details: ["reason": .string(flowId == nil ? "no sign-in cookie" : "unknown or expired sign-in flow")],
                    address: address)
            ])
            throw EnclaveError.forbidden("This sign-in page has expired or was opened elsewhere: start signing in again")
        }
        guard let csrf = form["csrf"], ConstantTime.equals(csrf, flow.csrf) else {
            try await store.appendAudit([
                audit(.signInRefused, actor: Self.anonymous, target: "/oidc/authorize", outcome: .denied,
                    details: ["reason": .string(form["csrf"] == nil ? "missing CSRF token" : "wrong CSRF token")], address: address)
            ])
            throw EnclaveError.forbidden("The form is missing its CSRF token: reload the sign-in page")
        }
        let counted = settings.addressLimit.record(addressCounters[address], now: now())
        addressCounters[address] = counted.state
        guard counted.allowed else {
            // The first refusal of a window is recorded; the rest of the flood is not (it would only grow the log).
            if counted.state.count == settings.addressLimit.limit + 1 {
                try await store.appendAudit([
                    audit(.signInRefused, actor: Self.anonymous, target: "/oidc/authorize", outcome: .denied,
                        details: [
                            "reason": .string("rate limit: more than \(settings.addressLimit.limit) sign-in posts in \(Int(settings.addressLimit.window)) s from this address")
                        ], address: address)
                ])
            }
            throw EnclaveError.tooManyRequests("Too many sign-in attempts from this address: wait a minute and try again")
        }
        let wasAnonymous = flow.userId == nil
        let step = try await advance(&flow, form: form, address: address)
        flow.step = step
        flows[flowId] = nil
        switch step {
        case .redirect, .done:
            return (flowId, flow.csrf, step)
        default:
            // The first step that identifies the user starts a new flow id and CSRF token.
            var id = flowId
            if wasAnonymous, flow.userId != nil {
                id = SecretToken.random()
                flow.csrf = SecretToken.random()
            }
            flows[id] = flow
            return (id, flow.csrf, step)
        }
    }

    private func advance(_ flow: inout Flow, form: [String: String], address: String) async throws -> SignInStep {
        switch flow.step {
        case .password:
            let username = form["username"] ?? ""
            let password = form["password"] ?? ""
            guard let account = try await checkPassword(username: username, password: password, address: address) else {
                return .password(error: Self.genericFailure)
            }
            flow.userId = account.id
            if account.totpSecretSealed != nil { return .totp(error: nil) }
            if !settings.requireMFA { return try await finish(&flow, account: account, amr: [AMR.password]) }
            return enrollmentStep(&flow, account: account, error: nil)
        case .totp:
            guard let account = try await flowAccount(flow) else { return .password(error: Self.genericFailure) }
            if try await checkSecondFactor(account, code: form["code"] ?? "", address: address) {
                return try await finish(&flow, account: account, amr: [AMR.password, AMR.otp])
            }
            return .totp(error: Self.genericFailure)
        case .enroll:
            guard var account = try await flowAccount(flow), let secret = flow.pendingSecret else {
                return .password(error: Self.genericFailure)
            }
            let totp = TOTPCode(secret: secret)
            guard let step = totp.acceptedStep(form["code"] ?? "", now: Date(timeIntervalSince1970: now()), lastStep: nil) else {
                return enrollmentStep(&flow, account: account, error: "That code did not match: check the time on your device and try again.")
            }
            let recovery = Self.recoveryCodes()
            account.totpSecretSealed = try secrets.seal(["totp": .string(secret)])
            account.totpLastStep = step
            account.recoveryCodeHashes = recovery.map(SecretToken.sha256Hex)
            try await store.updateUser(account, audit: [audit(.userMFAEnroll, account, outcome: .success, address: address)])
            flow.pendingSecret = nil
            return .recoveryCodes(recovery)
        case .recoveryCodes:
            guard let account = try await flowAccount(flow) else { return .password(error: Self.genericFailure) }
            if flow.request == nil { return .done("The account '\(account.username)' is ready. Sign in through a client.") }
            return try await finish(&flow, account: account, amr: [AMR.password, AMR.otp])
        case .setup:
            return try await setup(&flow, form: form, address: address)
        case .invitation:
            return try await acceptInvitation(&flow, form: form, address: address)
        case .redirect, .done:
            return flow.step
        }
    }

    private func flowAccount(_ flow: Flow) async throws -> UserAccount? {
        guard let id = flow.userId, let account = try await store.user(id: id), account.enabled else { return nil }
        return account
    }

    func enrollmentStep(_ flow: inout Flow, account: UserAccount, error: String?) -> SignInStep {
        let secret = flow.pendingSecret ?? TOTPCode.generateSecret()
        flow.pendingSecret = secret
        let totp = TOTPCode(secret: secret)
        return .enroll(
            uri: totp.uri(account: account.username, issuer: "Enclave"),
            secret: totp.base32Secret(account: account.username, issuer: "Enclave"), error: error)
    }

    /// The account when the password is right and the account enabled and unlocked; otherwise nil, after
    /// counting the failure and auditing it. bcrypt runs even for unknown users.
    func checkPassword(username: String, password: String, address: String) async throws -> UserAccount? {
        let found = try await store.user(username: UserAccount.normalize(username))
        let matches = await hasher.verify(password, hash: found?.passwordHash)
        guard var account = found else {
            try await store.appendAudit([
                audit(.signIn, actor: AuditActor(id: "unknown", name: String(username.prefix(64))), target: "/oidc/users/unknown",
                    outcome: .failed, details: ["reason": "unknown user"], address: address)
            ])
            return nil
        }
        let time = now()
        if !account.enabled || settings.lockout.isLocked(account.lockout, now: time) {
            let reason = account.enabled ? "locked" : "disabled"
            try await store.appendAudit([audit(.signIn, account, outcome: .denied, details: ["reason": .string(reason)], address: address)])
            return nil
        }
        if matches { return account }
        try await recordFailure(&account, action: .signIn, reason: "wrong password", address: address)
        return nil
    }

    /// Checks a TOTP or recovery code for an account that passed the password step.
    func checkSecondFactor(_ account: UserAccount, code: String, address: String) async throws -> Bool {
        var account = account
        if settings.lockout.isLocked(account.lockout, now: now()) {
            try await store.appendAudit([audit(.signInMFAFailure, account, outcome: .denied, details: ["reason": "locked"], address: address)])
            return false
        }
        if let sealed = account.totpSecretSealed, case .string(let secret)? = try secrets.open(sealed)["totp"],
            let step = TOTPCode(secret: secret).acceptedStep(code, now: Date(timeIntervalSince1970: now()), lastStep: account.totpLastStep)
        {
            account.totpLastStep = step
            account.lockout = settings.lockout.afterSuccess(account.lockout)
            try await store.updateUser(account, audit: [])
            return true
        }
        let typed = SecretToken.sha256Hex(code.filter { !$0.isWhitespace }.lowercased())
        if let index = account.recoveryCodeHashes.firstIndex(where: { ConstantTime.equals($0, typed) }) {
            account.recoveryCodeHashes.remove(at: index)
            account.lockout = settings.lockout.afterSuccess(account.lockout)
            try await store.updateUser(
                account,
                audit: [audit(.signIn, account, outcome: .success, details: ["method": "recovery code"], address: address)])
            return true
        }
        try await recordFailure(&account, action: .signInMFAFailure, reason: "wrong code", address: address)
        return false
    }

    func recordFailure(_ account: inout UserAccount, action: AuditAction, reason: String, address: String) async throws {
        let result = settings.lockout.afterFailure(account.lockout, now: now())
        account.lockout = result.state
        var records = [audit(action, account, outcome: .failed, details: ["reason": .string(reason)], address: address)]
        if result.lockedNow {
            records.append(
                audit(.accountLock, account, outcome: .success,
                    details: ["until": .double(result.state.lockedUntil ?? 0), "failures": .int(settings.lockout.maxFailures)],
                    address: address))
        }
        try await store.updateUser(account, audit: records)
    }

    private func finish(_ flow: inout Flow, account: UserAccount, amr: [String]) async throws -> SignInStep {
        var account = account
        account.lockout = settings.lockout.afterSuccess(account.lockout)
        try await store.updateUser(account, audit: [audit(.signIn, account, outcome: .success, details: ["amr": .array(amr.map(JSONValue.string))], address: nil)])
        if let userCode = flow.deviceUserCode {
            return try await approveDevice(userCode: userCode, account: account, amr: amr)
        }
        guard let request = flow.request else { return .done("Signed in.") }
        let code = SecretToken.random()
        codes[code] = AuthorizationCode(
            clientId: request.clientId, redirectURI: request.redirectURI, codeChallenge: request.codeChallenge,
            userId: account.id, amr: amr, nonce: request.nonce, issuedAt: now())
        var components = URLComponents(string: request.redirectURI)
        var items = components?.queryItems ?? []
        items.append(URLQueryItem(name: "code", value: code))
        if let state = request.state { items.append(URLQueryItem(name: "state", value: state)) }
        items.append(URLQueryItem(name: "iss", value: settings.issuer))
        components?.queryItems = items
        return .redirect(components?.string ?? request.redirectURI)
    }

    // MARK: Token

    /// Redeems an authorization code. Every failure is 400 `invalid_grant` with the same words; a replay
    /// and a PKCE mismatch are audited.
    public func redeem(code: String, clientId: String, redirectURI: String, verifier: String) async throws -> TokenResponse {
        purge()
        let invalid = OAuthError(error: "invalid_grant", description: "the authorization code is invalid, expired or already used")
        guard let stored = codes[code] else { throw invalid }
        let result = stored.redeem(clientId: clientId, redirectURI: redirectURI, verifier: verifier, now: now())
        codes[code] = result.code
        let account = try await store.user(id: stored.userId)
        if let refusal = result.refusal {
            if refusal == .replayed || refusal == .pkceMismatch {
                let actor = account.map { AuditActor($0.user) } ?? AuditActor(id: stored.userId, name: "")
                try await store.appendAudit([
                    audit(refusal == .replayed ? .codeReplay : .signIn, actor: actor, target: "/oidc/token", outcome: .denied,
                        details: ["reason": .string(refusal.rawValue), "client": .string(clientId)], address: nil)
                ])
            }
            throw invalid
        }
        guard let account, account.enabled else { throw invalid }
        return try await issueTokens(account: account, clientId: clientId, amr: stored.amr, nonce: stored.nonce, refresh: nil)
    }

    // MARK: First-admin setup

    /// When no enabled TREAdmin with a password exists: a one-time setup token valid for an hour (printed
    /// by `enclave serve` as a link). Only its hash is kept.
    public func setupTokenIfNeeded() async throws -> String? {
        let admins = try await store.users().filter { $0.enabled && $0.passwordHash != nil && $0.roles.contains(CoreRole.treAdmin.rawValue) }
        guard admins.isEmpty else { return nil }
        let token = SecretToken.random()
        setupToken = (SecretToken.sha256Hex(token), now() + 3600)
        return token
    }

    /// Opens the setup page for a valid setup token (single use: the token is spent when the flow starts).
    public func beginSetup(token: String) throws(EnclaveError) -> (flowId: String, csrf: String, step: SignInStep) {
        guard let setup = setupToken, now() < setup.expires, ConstantTime.equals(SecretToken.sha256Hex(token), setup.hash) else {
            throw .forbidden("This setup link is invalid, used or expired: restart `enclave serve` for a new one, or use `enclave users add`")
        }
        setupToken = nil
        let flowId = SecretToken.random()
        let csrf = SecretToken.random()
        flows[flowId] = Flow(csrf: csrf, request: nil, step: .setup(error: nil), createdAt: now())
        return (flowId, csrf, .setup(error: nil))
    }

    private func setup(_ flow: inout Flow, form: [String: String], address: String) async throws -> SignInStep {
        let username = form["username"] ?? ""
        let password = form["password"] ?? ""
        if let problem = UserAccount.problem(username: username) ?? UserAccount.problem(password: password) {
            return .setup(error: problem)
        }
        let account = UserAccount(
            id: UUID().uuidString.lowercased(), username: UserAccount.normalize(username), name: form["name"] ?? username,
            email: form["email"] ?? "", roles: [CoreRole.treAdmin.rawValue], passwordHash: await hasher.hash(password),
            createdAt: now())
        try await store.createUser(account, audit: audit(.userCreate, account, outcome: .success, details: ["via": "setup link"], address: address))
        flow.userId = account.id
        return enrollmentStep(&flow, account: account, error: nil)
    }

    // MARK: Helpers

    func audit(
        _ action: AuditAction, _ account: UserAccount, outcome: AuditOutcome, details: [String: JSONValue] = [:], address: String?
    ) -> AuditEntry {
        audit(action, actor: AuditActor(account.user), target: "/oidc/users/\(account.id)", outcome: outcome, details: details, address: address)
    }

    func audit(
        _ action: AuditAction, actor: AuditActor, target: String, outcome: AuditOutcome, details: [String: JSONValue] = [:],
        address: String?
    ) -> AuditEntry {
        var details = details
        if let address { details["address"] = .string(address) }
        return AuditEntry(
            id: UUID().uuidString.lowercased(), time: now(), actor: actor, action: action, target: target, outcome: outcome,
            details: .object(details))
    }

    func purge() {
        let time = now()
        flows = flows.filter { time - $0.value.createdAt < settings.flowLifetime }
        codes = codes.filter { time - $0.value.issuedAt < 600 }
        devices = devices.filter { !$0.value.isExpired(now: time) }
        let live = Set(devices.keys)
        userCodes = userCodes.filter { live.contains($0.value) }
        if addressCounters.count > 10_000 { addressCounters.removeAll() }
    }


    /// Ten codes like `k3q9-x7mp-2dwa`: 60 bits each, enough against online guessing under lockout.
    static func recoveryCodes() -> [String] {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyz23456789")
        var generator = SystemRandomNumberGenerator()
        return (0..<10).map { _ in
            (0..<3).map { _ in String((0..<4).map { _ in alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))] }) }
                .joined(separator: "-")
        }
    }

}

/// An authorization request error sent back to the (registered) redirect URI, as RFC 6749 §4.1.2.1 says.
public struct AuthorizeRedirectError: Error, Sendable, Hashable {
    public var redirectURI: String
    public var error: String
    public var description: String
    public var state: String?

    public var location: String {
        var components = URLComponents(string: redirectURI)
        var items = components?.queryItems ?? []
        items.append(URLQueryItem(name: "error", value: error))
        items.append(URLQueryItem(name: "error_description", value: description))
        if let state { items.append(URLQueryItem(name: "state", value: state)) }
        components?.queryItems = items
        return components?.string ?? redirectURI
    }
}

/// A token endpoint error, answered as RFC 6749 §5.2 JSON (`{"error": …, "error_description": …}`) with 400.
public struct OAuthError: Error, Sendable, Hashable, Codable {
    public var error: String
    public var error_description: String

    public init(error: String, description: String) {
        self.error = error
        self.error_description = description
    }
}
