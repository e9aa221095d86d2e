/// An authorization code as the built-in provider remembers it: bound to the client, the exact redirect
/// URI and the PKCE challenge it was issued for, valid for a short time, redeemable once.
///
/// The state machine is `issued → redeemed`. A second redemption is a replay: it fails, and the caller
/// is told so (`.replayed`) so it can audit it — RFC 6749 §4.1.2 says a replayed code should also revoke
/// what the first redemption issued; with no refresh tokens yet there is nothing long-lived to revoke.
public struct AuthorizationCode: Sendable, Hashable {
    /// How long a code may wait before being redeemed (RFC 6749 recommends at most 10 minutes; we use 60 s).
    public static let lifetime: Double = 60

    public var clientId: String
    public var redirectURI: String
    public var codeChallenge: String
    /// The signed-in user's id.
    public var userId: String
    /// How the user authenticated (`pwd`, `otp`), copied into the tokens' `amr`.
    public var amr: [String]
    /// The client's `nonce`, echoed in the id token.
    public var nonce: String?
    /// Seconds since 1970.
    public var issuedAt: Double
    public var redeemed: Bool = false

    public init(
        clientId: String, redirectURI: String, codeChallenge: String, userId: String, amr: [String], nonce: String?,
        issuedAt: Double
    ) {
        self.clientId = clientId
        self.redirectURI = redirectURI
        self.codeChallenge = codeChallenge
        self.userId = userId
        self.amr = amr
        self.nonce = nonce
        self.issuedAt = issuedAt
    }

    /// Why a redemption was refused. Every case is answered `invalid_grant` (RFC 6749 §5.2); the case
    /// goes to the audit log.
    public enum Refusal: String, Sendable, Hashable, Error {
        case replayed, expired, clientMismatch = "client_mismatch", redirectMismatch = "redirect_mismatch"
        case pkceMismatch = "pkce_mismatch"
    }

    /// Redeems the code: the new state (always `redeemed`, also on failure — a code that was presented with
    /// a wrong verifier must not be retried), or the refusal.
    public func redeem(clientId: String, redirectURI: String, verifier: String, now: Double)
        -> (code: AuthorizationCode, refusal: Refusal?)
    {
        var next = self
        next.redeemed = true
        if redeemed { return (next, .replayed) }
        if now - issuedAt > Self.lifetime || now < issuedAt - 5 { return (next, .expired) }
        if !ConstantTime.equals(clientId, self.clientId) { return (next, .clientMismatch) }
        if redirectURI != self.redirectURI { return (next, .redirectMismatch) }
        if !PKCE.verify(verifier: verifier, challenge: codeChallenge) { return (next, .pkceMismatch) }
        return (next, nil)
    }
}
