public import EnclaveCore
public import Foundation

/// The issuers this TRE trusts — Enclave's own key and, when configured, one external OIDC provider —
/// and the routing of each token to the right one by its `iss`.
///
/// The unverified `iss` is used only to pick a verifier; that verifier then checks the signature with
/// that issuer's keys and checks `iss` again. A token claiming one issuer but signed with another's
/// key therefore fails, and an issuer nobody configured is refused before any key is looked at.
public struct TrustedIssuers: BearerTokenVerifying {
    public let verifiers: [String: TokenVerifier]

    /// Throws when two verifiers share an issuer: which one should decide would be ambiguous.
    public init(_ verifiers: [TokenVerifier]) throws(EnclaveError) {
        var byIssuer: [String: TokenVerifier] = [:]
        for verifier in verifiers {
            guard byIssuer[verifier.issuer] == nil else {
                throw .badRequest("Two token verifiers have the issuer '\(verifier.issuer)': give Enclave's own tokens a different --issuer")
            }
            byIssuer[verifier.issuer] = verifier
        }
        self.verifiers = byIssuer
    }

    public func verifyWithExpiry(_ token: String, now: Date = Date()) async throws(EnclaveError) -> (user: User, expires: Date) {
        let parsed = try UnverifiedToken(token)
        guard let issuer = parsed.issuer, let verifier = verifiers[issuer] else {
            throw .unauthorized("Invalid token: it was issued by '\(parsed.issuer ?? "")', which this TRE does not trust")
        }
        return try await verifier.verifyWithExpiry(parsed, token: token, now: now)
    }
}
