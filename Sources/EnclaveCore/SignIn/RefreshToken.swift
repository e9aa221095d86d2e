/// A refresh token as the built-in provider remembers it (the store keeps only the SHA-256 of the token
/// text, so a copy of the database signs nobody in).
///
/// Rotation (OAuth 2.0 Security BCP §4.14): every use spends the token and issues a successor in the
/// same family. A spent token presented again means two parties hold it — the user and a thief — and
/// nobody can tell which is which, so the whole family is revoked and both must sign in again.
public struct RefreshToken: Codable, Sendable, Hashable {
    /// Hex SHA-256 of the token text.
    public var id: String
    /// The id of the first token of the chain; every successor carries it.
    public var family: String
    public var userId: String
    public var clientId: String
    /// How the user signed in when the family began (`pwd`, `otp`), carried into every access token.
    public var amr: [String]
    public var issuedAt: Double
    /// When the family began: no successor outlives `familyStartedAt + absolute`.
    public var familyStartedAt: Double
    public var expiresAt: Double
    /// When it was exchanged for its successor.
    public var spentAt: Double?
    /// When its family was revoked (reuse, sign-out, revocation, account disabled).
    public var revokedAt: Double?

    public init(
        id: String, family: String, userId: String, clientId: String, amr: [String], issuedAt: Double,
        familyStartedAt: Double, expiresAt: Double
    ) {
        self.id = id
        self.family = family
        self.userId = userId
        self.clientId = clientId
        self.amr = amr
        self.issuedAt = issuedAt
        self.familyStartedAt = familyStartedAt
        self.expiresAt = expiresAt
    }

    /// Why a refresh was refused. All are answered `invalid_grant`; the case goes to the audit log.
    public enum Refusal: String, Sendable, Hashable, Error {
        /// Already exchanged: its family is revoked.
        case reused
        case revoked, expired
        case clientMismatch = "client_mismatch"
    }

    /// Whether this token may be exchanged now by `clientId`. A spent token is `.reused` even if its
    /// family was later revoked, so every replay is recorded as what it is.
    public func refusal(clientId: String, now: Double) -> Refusal? {
        if spentAt != nil { return .reused }
        if revokedAt != nil { return .revoked }
        if now >= expiresAt { return .expired }
        if !ConstantTime.equals(clientId, self.clientId) { return .clientMismatch }
        return nil
    }

    /// The token that replaces this one (same family, user, client and `amr`).
    public func successor(id: String, now: Double, policy: RefreshTokenPolicy) -> RefreshToken {
        RefreshToken(
            id: id, family: family, userId: userId, clientId: clientId, amr: amr, issuedAt: now,
            familyStartedAt: familyStartedAt, expiresAt: policy.expiry(familyStartedAt: familyStartedAt, now: now))
    }
}

/// How long refresh tokens last.
public struct RefreshTokenPolicy: Sendable, Hashable {
    /// An unused token expires after this long (a CLI left alone for a day signs in again).
    public var idle: Double
    /// A family ends this long after the sign-in that began it, however often it is refreshed.
    public var absolute: Double

    public init(idle: Double = 24 * 3600, absolute: Double = 14 * 24 * 3600) {
        self.idle = idle
        self.absolute = absolute
    }

    public func expiry(familyStartedAt: Double, now: Double) -> Double {
        min(now + idle, familyStartedAt + absolute)
    }

    /// The first token of a new family.
    public func first(id: String, userId: String, clientId: String, amr: [String], now: Double) -> RefreshToken {
        RefreshToken(
            id: id, family: id, userId: userId, clientId: clientId, amr: amr, issuedAt: now, familyStartedAt: now,
            expiresAt: expiry(familyStartedAt: now, now: now))
    }
}

/// What the store did with a refresh token presented for rotation.
public enum RefreshRotation: Sendable, Hashable {
    /// Spent; the successor is stored.
    case rotated(RefreshToken)
    /// Refused; on `.reused` the family has been revoked in the same transaction.
    case refused(RefreshToken.Refusal, RefreshToken)
    case unknown
}
