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

    public func token(for user: User, ttl: TimeInterval = 3600, now: Date = Date()) async throws -> String {
        let claims = TokenClaims(
            iss: issuer, aud: audience, exp: now.addingTimeInterval(ttl), iat: now, sub: user.id, oid: user.id,
            name: user.name, email: user.email, roles: user.roles)
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: key.privateKey, kid: JWKIdentifier(string: key.kid))
        return try await keys.sign(claims, kid: JWKIdentifier(string: key.kid))
    }
}
