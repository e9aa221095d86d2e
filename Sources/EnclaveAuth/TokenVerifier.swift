public import EnclaveCore
public import Foundation
import JWTKit

/// Verifies bearer tokens against a JWKS: Enclave's own key today, any OIDC issuer's keys tomorrow.
///
/// Accepts only asymmetric algorithms (the collection holds only the JWKS's RSA/EC keys, so `none` and
/// HMAC tokens have no key to verify with), and checks `iss`, `aud`, `exp` and `nbf` with a small skew.
/// Errors are 401s worded as Azure TRE words them.
public struct TokenVerifier: Sendable {
    let keys: JWTKeyCollection
    public let issuer: String
    public let audience: String
    public let clockSkew: TimeInterval

    public init(jwksJSON: String, issuer: String, audience: String, clockSkew: TimeInterval = 60) async throws {
        let keys = JWTKeyCollection()
        try await keys.add(jwksJSON: jwksJSON)
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.clockSkew = clockSkew
    }

    /// The caller's identity, or a 401 `EnclaveError` saying what was wrong.
    public func verify(_ token: String, now: Date = Date()) async throws(EnclaveError) -> User {
        try await verifyWithExpiry(token, now: now).user
    }

    /// The caller's identity and when the token stops being valid (for `VerifiedTokenCache`).
    public func verifyWithExpiry(_ token: String, now: Date = Date()) async throws(EnclaveError) -> (user: User, expires: Date) {
        let claims: TokenClaims
        do {
            claims = try await keys.verify(token, as: TokenClaims.self)
        } catch {
            throw .unauthorized("Invalid token: its signature or format could not be verified")
        }
        guard let exp = claims.exp else { throw .unauthorized("Invalid token: it has no expiry (exp)") }
        if exp.value.addingTimeInterval(clockSkew) < now { throw .unauthorized("Expired token signature") }
        if let nbf = claims.nbf, nbf.value.addingTimeInterval(-clockSkew) > now {
            throw .unauthorized("Invalid token: it is not valid yet (nbf)")
        }
        guard claims.iss?.value == issuer else {
            throw .unauthorized("Invalid token: it was issued by '\(claims.iss?.value ?? "")', not '\(issuer)'")
        }
        guard let aud = claims.aud?.value, aud.contains(audience) else {
            throw .unauthorized("Invalid token: its audience is not '\(audience)'")
        }
        guard let id = claims.oid ?? claims.sub?.value, !id.isEmpty else {
            throw .unauthorized("Invalid token: it names no user (oid or sub)")
        }
        let user = User(
            id: id, name: claims.name ?? "", email: claims.email ?? claims.preferred_username ?? "",
            roles: claims.roles ?? [])
        return (user, exp.value.addingTimeInterval(clockSkew))
    }
}
