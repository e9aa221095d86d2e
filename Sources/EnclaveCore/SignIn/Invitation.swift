/// A one-time link that lets an invited user of the built-in provider choose their password.
///
/// An admin invites a user (`POST /api/users`): the account is created without a password and the
/// link `<public-url>/oidc/invitation?token=…` is shown to the admin once. Only the SHA-256 of the token
/// is stored, so a copy of the database does not hold usable links. Each account has at most one
/// invitation: issuing another replaces it, which invalidates the earlier link.
public struct Invitation: Sendable, Hashable, Codable {
    /// The invited account's id.
    public var userId: String
    /// SHA-256 of the token, lower-case hex.
    public var tokenHash: String
    /// Seconds since 1970.
    public var issuedAt: Double
    public var expiresAt: Double
    /// When the link was used to set the password; nil while it is still usable.
    public var usedAt: Double?

    public init(userId: String, tokenHash: String, issuedAt: Double, expiresAt: Double, usedAt: Double? = nil) {
        self.userId = userId
        self.tokenHash = tokenHash
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.usedAt = usedAt
    }

    /// How long a link stays usable: seven days.
    public static let lifetime: Double = 7 * 24 * 3600

    /// Why a link is refused. The raw value is recorded in the audit record's `reason`.
    public enum Refusal: String, Sendable, Hashable, CaseIterable {
        /// No invitation has this token: never issued, or replaced by a newer link.
        case unknown = "unknown or superseded link"
        /// The link was already used to set a password: a replay.
        case used = "already used"
        case expired = "expired"
        /// The account was disabled, removed, or has a password by another way (an operator's reset).
        case accountUnavailable = "account disabled or no longer waiting for a password"

        /// What the invited person reads: what happened and what to do.
        public var message: String {
            switch self {
            case .unknown: "This invitation link is not valid (a newer link may have replaced it): ask an administrator for a new one."
            case .used: "This invitation link has already been used: sign in with the password you chose, or ask an administrator for help."
            case .expired: "This invitation link has expired: ask an administrator to send a new one."
            case .accountUnavailable: "This invitation can no longer be used: ask an administrator for help."
            }
        }
    }

    /// Why this invitation cannot be used now for `account` (nil when it is unknown), or nil when it can.
    public func refusal(now: Double, account: UserAccount?) -> Refusal? {
        if usedAt != nil { return .used }
        if now >= expiresAt { return .expired }
        guard let account, account.id == userId, account.enabled, account.passwordHash == nil else { return .accountUnavailable }
        return nil
    }

    /// Why a new link cannot be issued for `account`, or nil: only accounts still without a password
    /// are invited (others reset their password through an operator).
    public static func problem(reissuingFor account: UserAccount) -> String? {
        guard account.passwordHash == nil else {
            return "'\(account.username)' has already set a password, so there is nothing to invite them to: an operator can reset it (enclave users reset-password)"
        }
        guard account.enabled else { return "'\(account.username)' is disabled: enable the account before inviting them again" }
        return nil
    }
}
