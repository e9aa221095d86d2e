public import EnclaveCore
public import Foundation
import JWTKit

/// Anything that turns a bearer token into a verified user (one issuer's `TokenVerifier`, or
/// `TrustedIssuers` choosing among several).
public protocol BearerTokenVerifying: Sendable {
    /// The caller's identity and when the token stops being valid, or a 401 `EnclaveError`.
    func verifyWithExpiry(_ token: String, now: Date) async throws(EnclaveError) -> (user: User, expires: Date)
}

/// Where a verifier gets its keys: a fixed JWKS (Enclave's own key) or an identity provider's,
/// fetched and refreshed (`OIDCKeyProvider`).
public protocol VerificationKeySource: Sendable {
    /// The current keys; when `kid` is not among them the source may refresh first (rate-limited).
    func keys(forKid kid: String?) async -> VerificationKeySet
}

/// A key source that never changes: Enclave's own signing key.
public struct StaticKeySource: VerificationKeySource {
    public let keySet: VerificationKeySet
    public init(keySet: VerificationKeySet) { self.keySet = keySet }
    public func keys(forKid kid: String?) async -> VerificationKeySet { keySet }
}

/// Verifies bearer tokens of one issuer: its keys, its claim rules.
///
/// The order matters: the token's size and header are checked before anything is decoded
/// (`UnverifiedToken`), the key must exist and match the algorithm (`VerificationKeySet`), then the
/// signature, and only then are claims read (`ClaimRules`). Errors are 401s worded as Azure TRE words them.
public struct TokenVerifier: BearerTokenVerifying {
    let keySource: any VerificationKeySource
    public let rules: ClaimRules

    public var issuer: String { rules.issuer }

    public init(keySource: any VerificationKeySource, rules: ClaimRules) {
        self.keySource = keySource
        self.rules = rules
    }

    /// A verifier for a fixed JWKS (Enclave's own key), with one audience.
    public init(
        jwksJSON: String, issuer: String, audience: String, clockSkew: TimeInterval = 60, requiredAMR: Set<String> = []
    ) async throws {
        let keySet = try await VerificationKeySet.parse(jwksJSON: Data(jwksJSON.utf8))
        self.init(
            keySource: StaticKeySource(keySet: keySet),
            rules: ClaimRules(issuer: issuer, audiences: [audience], clockSkew: clockSkew, requiredAMR: requiredAMR))
    }

    /// The caller's identity, or a 401 `EnclaveError` saying what was wrong.
    public func verify(_ token: String, now: Date = Date()) async throws(EnclaveError) -> User {
        try await verifyWithExpiry(token, now: now).user
    }

    public func verifyWithExpiry(_ token: String, now: Date = Date()) async throws(EnclaveError) -> (user: User, expires: Date) {
        try await verifyWithExpiry(UnverifiedToken(token), token: token, now: now)
    }

    /// For `TrustedIssuers`, which has already parsed the header to route the token.
    func verifyWithExpiry(_ parsed: UnverifiedToken, token: String, now: Date) async throws(EnclaveError)
        -> (user: User, expires: Date)
    {
        let keySet = await keySource.keys(forKid: parsed.kid)
        _ = try keySet.resolve(parsed)
        do {
            _ = try await keySet.verifySignature(token, as: SignatureOnly.self)
        } catch {
            throw .unauthorized("Invalid token: its signature or format could not be verified")
        }
        return try rules.user(from: RawClaims(claims: parsed.claims), now: now)
    }
}

/// What jwt-kit decodes while it checks a signature: nothing. The claims were parsed once already
/// (`UnverifiedToken`), and are read only after this check passes.
struct SignatureOnly: JWTPayload {
    init(from decoder: any Decoder) throws {}
    func encode(to encoder: any Encoder) throws {}
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
