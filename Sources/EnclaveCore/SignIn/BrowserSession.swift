/// A signed-in browser (the portal, the account pages, the gateway), kept on the server: the cookie holds
/// a random id, the store only its SHA-256, so ending a session on the server ends it everywhere and a
/// copy of the database lets nobody in.
public struct BrowserSession: Codable, Sendable, Hashable {
    /// Hex SHA-256 of the cookie value.
    public var id: String
    public var user: User
    /// How the user signed in (`pwd`, `otp`), from the provider's token.
    public var amr: [String]
    /// The token every form post and cookie-authenticated API write must echo (synchronizer token).
    public var csrf: String
    /// The issuer that signed the user in.
    public var issuer: String
    /// The provider's id token, as `id_token_hint` for its end-session endpoint on sign-out.
    public var idToken: String?
    public var createdAt: Double
    public var lastSeenAt: Double
    public var endedAt: Double?

    public init(
        id: String, user: User, amr: [String], csrf: String, issuer: String, idToken: String?, createdAt: Double
    ) {
        self.id = id
        self.user = user
        self.amr = amr
        self.csrf = csrf
        self.issuer = issuer
        self.idToken = idToken
        self.createdAt = createdAt
        self.lastSeenAt = createdAt
    }
}

/// Session lifetimes, and the one rule that says whether a session still counts.
public struct SessionPolicy: Sendable, Hashable {
    /// Signed out after this long without a request (default 30 minutes).
    public var idle: Double
    /// Signed out this long after sign-in whatever happens (default 12 hours).
    public var absolute: Double
    /// `lastSeenAt` is written at most this often, so reading pages does not mean a write per request.
    public var touchInterval: Double

    public init(idle: Double = 30 * 60, absolute: Double = 12 * 3600, touchInterval: Double = 60) {
        self.idle = idle
        self.absolute = absolute
        self.touchInterval = max(0, min(touchInterval, idle / 2))
    }

    public enum State: String, Sendable, Hashable {
        case active, ended
        case idleTimeout = "idle_timeout"
        case absoluteTimeout = "absolute_timeout"
    }

    public func state(of session: BrowserSession, now: Double) -> State {
        if session.endedAt != nil { return .ended }
        if now >= session.createdAt + absolute { return .absoluteTimeout }
        if now >= session.lastSeenAt + idle { return .idleTimeout }
        return .active
    }

    /// Whether a request at `now` should record itself as the session's last activity.
    public func shouldTouch(_ session: BrowserSession, now: Double) -> Bool {
        now - session.lastSeenAt >= touchInterval
    }
}
