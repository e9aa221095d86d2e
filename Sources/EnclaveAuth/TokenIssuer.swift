public import EnclaveCore
public import Foundation
import JWTKit

/// Signs Enclave's own bearer tokens (for `enclave token`, tests and, later, the built-in OIDC provider).
public struct TokenIssuer: Sendable {
    public let key: SigningKey
    public let issuer: String
    public let audience: String

    public init(key: SigningKey, issuer: String, audience: String) {
        self.key = key
        self.issuer = issuer
        self.audience = audience
    }

    /// `amr` defaults to `["operator"]`: a token minted with the key file is the operator's doing, and
    /// `--require-mfa` accepts it on Enclave's own issuer (see `ClaimRules.requiredAMR`).
    public func token(
        for user: User, ttl: TimeInterval = 3600, now: Date = Date(), amr: [String] = [AMR.operator],
        audience: String? = nil, preferredUsername: String? = nil, nonce: String? = nil
    ) async throws -> String {
        let claims = TokenClaims(
            iss: issuer, aud: audience ?? self.audience, exp: now.addingTimeInterval(ttl), iat: now, sub: user.id,
            oid: user.id, name: user.name, email: user.email, roles: user.roles, amr: amr,
            preferredUsername: preferredUsername, nonce: nonce)
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: key.privateKey, kid: JWKIdentifier(string: key.kid))
        return try await keys.sign(claims, kid: JWKIdentifier(string: key.kid))
    }
}

/// Authentication method references (RFC 8176) Enclave writes and checks.
public enum AMR {
    public static let password = "pwd"
    public static let otp = "otp"
    /// Not in RFC 8176: minted by an operator holding the data dir's signing key (`enclave token`).
    public static let `operator` = "operator"
}
