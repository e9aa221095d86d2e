public import EnclaveCore
import Foundation
import EnclaveStore

/// RFC 8628 §3.2: what `/oidc/device_authorization` answers.
public struct DeviceAuthorizationResponse: Codable, Sendable {
    public var device_code: String
    public var user_code: String
    public var verification_uri: String
    public var verification_uri_complete: String
    public var expires_in: Int
    public var interval: Int
}

/// The token endpoint's grants beyond the authorization code: refresh (with rotation and reuse detection),
/// client credentials and device codes; and the ways tokens end: revocation and end-session.
extension BuiltInProvider {
    static let invalidGrant = OAuthError(error: "invalid_grant", description: "the grant is invalid, expired, revoked or already used")

    /// Signs the access and id tokens of a user's sign-in and, unless the client is one that keeps its own
    /// session, begins (`refresh == nil`) or continues a refresh-token family.
    func issueTokens(account: UserAccount, clientId: String, amr: [String], nonce: String?, refresh: String?) async throws
        -> TokenResponse
    {
        let time = now()
        let issued = Date(timeIntervalSince1970: time)
        let user = account.user
        let access = try await tokenIssuer.token(
            for: user, ttl: settings.tokenLifetime, now: issued, amr: amr, preferredUsername: account.username)
        let id = try await tokenIssuer.token(
            for: user, ttl: settings.tokenLifetime, now: issued, amr: amr, audience: clientId,
            preferredUsername: account.username, nonce: nonce)
        var refreshToken = refresh
        if refreshToken == nil, !settings.clientsWithoutRefresh.contains(clientId) {
            let text = SecretToken.random()
            let first = settings.refreshTokens.first(id: SecretToken.sha256Hex(text), userId: account.id, clientId: clientId, amr: amr, now: time)
            try await store.saveRefreshToken(first, audit: [])
            refreshToken = text
        }
        return TokenResponse(
            access_token: access, id_token: id, refresh_token: refreshToken, token_type: "Bearer",
            expires_in: Int(settings.tokenLifetime), scope: refreshToken == nil ? "openid profile email" : "openid profile email offline_access")
    }

    // MARK: Refresh

    /// Exchanges a refresh token for new tokens and a new refresh token. The old one is spent; presenting it
    /// again revokes the family (audited as `auth.token_reuse`). The account is read again, so a disabled
    /// account gets nothing and changed roles take effect.
    public func refresh(token: String, clientId: String, address: String) async throws -> TokenResponse {
        let time = now()
        let id = SecretToken.sha256Hex(token)
        guard let current = try await store.refreshToken(id: id) else { throw Self.invalidGrant }
        guard let account = try await store.user(id: current.userId), account.enabled else {
            _ = try await store.revokeRefreshFamily(ofToken: id, at: time, audit: [])
            throw Self.invalidGrant
        }
        let next = SecretToken.random()
        let nextId = SecretToken.sha256Hex(next)
        let policy = settings.refreshTokens
        let refreshAudit = audit(
            .tokenRefresh, account, outcome: .success, details: ["client": .string(clientId), "family": .string(String(current.family.prefix(12)))],
            address: address)
        let reuseAudit = audit(
            .tokenReuse, account, outcome: .denied,
            details: [
                "client": .string(clientId), "family": .string(String(current.family.prefix(12))),
                "reason": "a spent refresh token was presented again: every token of its family is revoked",
            ], address: address)
        let outcome = try await store.rotateRefreshToken(
            id: id, clientId: clientId, now: time, successor: { $0.successor(id: nextId, now: time, policy: policy) },
            audit: { _ in [refreshAudit] }, reuseAudit: { _ in [reuseAudit] })
        switch outcome {
        case .rotated(let successor):
            return try await issueTokens(account: account, clientId: clientId, amr: successor.amr, nonce: nil, refresh: next)
        case .refused, .unknown:
            throw Self.invalidGrant
        }
    }

    // MARK: Client credentials

    /// Tokens for an automation client that proved its secret: its roles, `amr: ["client"]`, no refresh token.
    public func clientCredentials(clientId: String, secret: String, address: String) async throws -> TokenResponse {
        let client = try await store.client(id: clientId)
        let matches = client.map { ConstantTime.equals($0.secretHash, SecretToken.sha256Hex(secret)) } ?? false
        let actor = AuditActor(id: "client:\(clientId.prefix(64))", name: client?.name ?? "")
        guard let client, matches, client.enabled else {
            let reason = client == nil ? "unknown client" : (matches ? "client disabled" : "wrong secret")
            try await store.appendAudit([
                audit(.clientSignIn, actor: actor, target: "/oidc/clients/\(clientId.prefix(64))", outcome: .denied,
                    details: ["reason": .string(reason)], address: address)
            ])
            throw OAuthError(error: "invalid_client", description: "client authentication failed")
        }
        try await store.appendAudit([
            audit(.clientSignIn, actor: actor, target: "/oidc/clients/\(client.id)", outcome: .success,
                details: ["roles": .array(client.roles.map(JSONValue.string))], address: address)
        ])
        let user = User(id: client.id, name: client.name, email: "", roles: client.roles)
        let access = try await tokenIssuer.token(
            for: user, ttl: settings.tokenLifetime, now: Date(timeIntervalSince1970: now()), amr: [AMR.client])
        return TokenResponse(
            access_token: access, id_token: nil, refresh_token: nil, token_type: "Bearer", expires_in: Int(settings.tokenLifetime),
            scope: "")
    }

    // MARK: Device authorization (RFC 8628)

    /// Starts a device authorization for a registered client.
    public func startDeviceAuthorization(clientId: String) throws(OAuthError) -> DeviceAuthorizationResponse {
        guard settings.clients.contains(where: { $0.id == clientId }) else {
            throw OAuthError(error: "invalid_client", description: "unknown client_id")
        }
        purge()
        guard devices.count < 10_000 else {
            throw OAuthError(error: "slow_down", description: "too many pending device authorizations; try again shortly")
        }
        var generator = SystemRandomNumberGenerator()
        var userCode = DeviceGrant.makeUserCode(using: &generator)
        while userCodes[userCode] != nil { userCode = DeviceGrant.makeUserCode(using: &generator) }
        let deviceCode = SecretToken.random()
        let key = SecretToken.sha256Hex(deviceCode)
        devices[key] = DeviceGrant(clientId: clientId, userCode: userCode, createdAt: now())
        userCodes[userCode] = key
        let uri = "\(settings.issuer)/device"
        return DeviceAuthorizationResponse(
            device_code: deviceCode, user_code: userCode, verification_uri: uri,
            verification_uri_complete: "\(uri)?user_code=\(userCode)", expires_in: Int(DeviceGrant.lifetime),
            interval: Int(DeviceGrant.defaultInterval))
    }

    /// Opens the sign-in pages for a user code typed (or carried in the link); the sign-in approves it.
    public func beginDevice(userCode typed: String) throws(EnclaveError) -> (flowId: String, csrf: String, step: SignInStep) {
        purge()
        guard let userCode = DeviceGrant.normalize(userCode: typed), let key = userCodes[userCode], let grant = devices[key],
            !grant.isExpired(now: now()), grant.approval == nil, !grant.denied
        else {
            throw .badRequest("That code is not valid or has expired: check the code in your terminal, or run `enclave login` again")
        }
        let flowId = SecretToken.random()
        let csrf = SecretToken.random()
        flows[flowId] = Flow(
            csrf: csrf, request: nil, step: .password(error: nil), createdAt: now(), deviceUserCode: userCode)
        return (flowId, csrf, .password(error: nil))
    }

    func approveDevice(userCode: String, account: UserAccount, amr: [String]) async throws -> SignInStep {
        guard let key = userCodes[userCode], var grant = devices[key], !grant.isExpired(now: now()) else {
            return .done("The code expired before sign-in finished: run `enclave login` again.")
        }
        grant.approval = DeviceGrant.Approval(userId: account.id, amr: amr)
        devices[key] = grant
        try await store.appendAudit([
            audit(.deviceApprove, account, outcome: .success, details: ["client": .string(grant.clientId), "userCode": .string(userCode)],
                address: nil)
        ])
        return .done("Signed in. Return to your terminal: `enclave` has its tokens.")
    }

    /// One poll of the token endpoint with a device code: tokens once approved, else the RFC 8628 error.
    public func pollDevice(deviceCode: String, clientId: String) async throws -> TokenResponse {
        let key = SecretToken.sha256Hex(deviceCode)
        guard let grant = devices[key] else {
            throw OAuthError(error: "expired_token", description: "the device code is unknown or expired: start again")
        }
        let (next, result) = grant.poll(clientId: clientId, now: now())
        devices[key] = next
        switch result {
        case .approved(let approval):
            guard let account = try await store.user(id: approval.userId), account.enabled else { throw Self.invalidGrant }
            return try await issueTokens(account: account, clientId: clientId, amr: approval.amr, nonce: nil, refresh: nil)
        default:
            let descriptions: [String: String] = [
                "authorization_pending": "the user has not finished signing in yet",
                "slow_down": "polling too fast: wait `interval` seconds (now 5 s longer)",
                "expired_token": "the device code expired: start again",
                "access_denied": "the user refused",
                "invalid_grant": "the device code belongs to another client",
            ]
            let code = result.errorCode ?? "invalid_grant"
            throw OAuthError(error: code, description: descriptions[code] ?? code)
        }
    }

    // MARK: Revocation and end-session

    /// RFC 7009: revokes the family of a refresh token. Unknown tokens are not an error (§2.2), and a token
    /// of another client is left alone.
    public func revoke(token: String, clientId: String, address: String) async throws {
        let id = SecretToken.sha256Hex(token)
        guard let current = try await store.refreshToken(id: id), ConstantTime.equals(current.clientId, clientId) else { return }
        let actor = try await store.user(id: current.userId).map { AuditActor($0.user) } ?? AuditActor(id: current.userId, name: "")
        _ = try await store.revokeRefreshFamily(
            ofToken: id, at: now(),
            audit: [
                audit(.tokenRevoke, actor: actor, target: "/oidc/users/\(current.userId)", outcome: .success,
                    details: ["client": .string(clientId), "via": "revocation"], address: address)
            ])
    }

    /// OpenID RP-initiated logout: revokes the user's refresh tokens for the client named by the id token
    /// hint and answers where to send the browser (`post_logout_redirect_uri` only when registered for that
    /// client). The provider keeps no single-sign-on session, so there is nothing else to end.
    public func endSession(idTokenHint: String?, postLogoutRedirectURI: String?, state: String?, address: String) async throws
        -> String?
    {
        guard let idTokenHint, let claims = try? await tokenIssuer.verifyOwn(idTokenHint) else { return nil }
        let clientId = claims.audience
        _ = try await store.revokeRefreshTokens(
            userId: claims.subject, clientId: clientId, at: now(),
            audit: [
                audit(.signOut, actor: AuditActor(id: claims.subject, name: claims.name), target: "/oidc/users/\(claims.subject)",
                    outcome: .success, details: ["client": .string(clientId), "via": "end_session"], address: address)
            ])
        guard let postLogoutRedirectURI, let client = settings.clients.first(where: { $0.id == clientId }),
            client.allows(postLogoutRedirectURI: postLogoutRedirectURI)
        else { return nil }
        guard let state, var components = URLComponents(string: postLogoutRedirectURI) else { return postLogoutRedirectURI }
        components.queryItems = (components.queryItems ?? []) + [URLQueryItem(name: "state", value: state)]
        return components.string ?? postLogoutRedirectURI
    }

}
