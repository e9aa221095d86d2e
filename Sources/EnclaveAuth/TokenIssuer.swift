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
    /// Not in RFC 8176: an automation client signed in with its secret (`client_credentials`); no person.
    public static let client = "client"
}

/// Who an id token this provider signed names, and for which client.
public struct OwnTokenSubject: Sendable, Hashable {
    public var subject: String
    public var name: String
    /// The first `aud`: the client the id token was issued to.
    public var audience: String
}

extension TokenIssuer {
    /// Checks only that this issuer signed the token (an `id_token_hint` may be expired: OpenID
    /// RP-initiated logout accepts those), and reads its subject and audience.
    public func verifyOwn(_ token: String) async throws -> OwnTokenSubject {
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: key.privateKey.publicKey, kid: JWKIdentifier(string: key.kid))
        let claims = try await keys.verify(token, as: RawClaims.self)
        guard claims.string("iss") == issuer, let subject = claims.string("sub"),
            let audience = RawClaims.strings(claims.claims["aud"]).first
        else { throw EnclaveError.unauthorized("The id token hint was not issued by this provider") }
        return OwnTokenSubject(subject: subject, name: claims.string("name") ?? "", audience: audience)
    }
}
