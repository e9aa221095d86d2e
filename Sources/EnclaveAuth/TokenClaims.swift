public import Foundation
public import JWTKit

/// The claims Enclave reads from a bearer token (Azure TRE's: `oid`, `name`, `email`, `roles`).
///
/// `oid` falls back to `sub` and `email` to `preferred_username`, so tokens from Keycloak or other
/// OIDC providers work as well as Entra ID v2 tokens.
public struct TokenClaims: JWTPayload, Equatable {
    public var iss: IssuerClaim?
    public var aud: AudienceClaim?
    public var exp: ExpirationClaim?
    public var nbf: NotBeforeClaim?
    public var iat: IssuedAtClaim?
    public var sub: SubjectClaim?
    public var oid: String?
    public var name: String?
    public var email: String?
    public var preferred_username: String?
    public var roles: [String]?
    /// How the user authenticated (RFC 8176): `["pwd","otp"]` from the built-in provider's sign-in,
    /// `["operator"]` on tokens minted by `enclave token` with the data dir's key.
    public var amr: [String]?
    public var nonce: String?

    public init(
        iss: String, aud: String, exp: Date, iat: Date, sub: String, oid: String, name: String, email: String,
        roles: [String], amr: [String]? = nil, preferredUsername: String? = nil, nonce: String? = nil
    ) {
        self.iss = IssuerClaim(value: iss)
        self.aud = AudienceClaim(value: aud)
        self.exp = ExpirationClaim(value: exp)
        self.iat = IssuedAtClaim(value: iat)
        self.sub = SubjectClaim(value: sub)
        self.oid = oid
        self.name = name
        self.email = email
        self.preferred_username = preferredUsername ?? email
        self.roles = roles
        self.amr = amr
        self.nonce = nonce
    }

    /// Signature checks happen in jwt-kit; claim checks happen in `TokenVerifier`, which words the errors.
    public func verify(using algorithm: some JWTAlgorithm) async throws {}
}
