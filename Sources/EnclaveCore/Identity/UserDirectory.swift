/// A user the control plane has seen on an authenticated request, as the users-seen table keeps them.
public struct SeenUser: Sendable, Hashable {
    /// The identity as the user's latest token described it (roles included).
    public var user: User
    /// Seconds since 1970.
    public var firstSeen: Double
    public var lastSeen: Double

    public init(user: User, firstSeen: Double, lastSeen: Double) {
        self.user = user
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
    }
}

/// One user of the TRE as `GET /api/users` shows them: a built-in provider account, or someone known
/// only from the tokens of another issuer (an external OpenID Connect provider, or `enclave token`).
public struct DirectoryUser: Sendable, Hashable, Codable {
    public enum Source: String, Sendable, Hashable, Codable {
        /// An account of the built-in provider: Enclave manages its roles and whether it is enabled.
        case builtin
        /// Known from tokens only: roles are those its last token carried, managed by its identity provider.
        case external
    }

    public var id: String
    /// The built-in account's username; for external users their email, else their id.
    public var username: String
    public var name: String
    public var email: String
    /// Core roles.
    public var roles: [String]
    public var enabled: Bool
    /// Whether a built-in account has an authenticator; always false for external users (their MFA is
    /// their provider's business).
    public var mfaEnrolled: Bool
    public var source: Source
    /// When a request last carried this user's token (seconds since 1970); nil if never.
    public var lastSeen: Double?

    public init(
        id: String, username: String, name: String, email: String, roles: [String], enabled: Bool, mfaEnrolled: Bool,
        source: Source, lastSeen: Double?
    ) {
        self.id = id
        self.username = username
        self.name = name
        self.email = email
        self.roles = roles
        self.enabled = enabled
        self.mfaEnrolled = mfaEnrolled
        self.source = source
        self.lastSeen = lastSeen
    }

    /// A built-in account, with when it was last seen (if ever).
    public init(account: UserAccount, lastSeen: Double?) {
        self.init(
            id: account.id, username: account.username, name: account.name, email: account.email, roles: account.roles,
            enabled: account.enabled, mfaEnrolled: account.totpSecretSealed != nil, source: .builtin, lastSeen: lastSeen)
    }

    /// Someone seen only on requests.
    public init(seen: SeenUser) {
        let user = seen.user
        self.init(
            id: user.id, username: user.email.isEmpty ? user.id : user.email, name: user.name, email: user.email,
            roles: user.roles, enabled: true, mfaEnrolled: false, source: .external, lastSeen: seen.lastSeen)
    }

    /// `lastSeen` is written as `null` when absent, so every user object has the same keys.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(username, forKey: .username)
        try c.encode(name, forKey: .name)
        try c.encode(email, forKey: .email)
        try c.encode(roles, forKey: .roles)
        try c.encode(enabled, forKey: .enabled)
        try c.encode(mfaEnrolled, forKey: .mfaEnrolled)
        try c.encode(source, forKey: .source)
        try c.encode(lastSeen, forKey: .lastSeen)
    }

    /// Whether `filter` (ignoring case) occurs in the username, name, email or id; an empty filter matches all.
    public func matches(_ filter: String) -> Bool {
        let needle = filter.trimmingWhitespace.lowercased()
        if needle.isEmpty { return true }
        return [username, name, email, id].contains { $0.lowercased().contains(needle) }
    }
}

/// Everyone who can use the TRE, from the two places Enclave knows them.
public enum UserDirectory {
    /// Built-in accounts first (by username), then users seen only on requests (by username). An account
    /// that has also been seen is listed once, as an account, with the time it was last seen.
    public static func users(accounts: [UserAccount], seen: [SeenUser]) -> [DirectoryUser] {
        let seenById = Dictionary(seen.map { ($0.user.id, $0) }, uniquingKeysWith: { first, _ in first })
        let accountIds = Set(accounts.map(\.id))
        let builtin = accounts.map { DirectoryUser(account: $0, lastSeen: seenById[$0.id]?.lastSeen) }
            .sorted { $0.username < $1.username }
        let external = seen.filter { !accountIds.contains($0.user.id) }.map(DirectoryUser.init(seen:))
            .sorted { ($0.username.lowercased(), $0.id) < ($1.username.lowercased(), $1.id) }
        return builtin + external
    }
}

private extension String {
    var trimmingWhitespace: String {
        var text = Substring(self)
        while text.first?.isWhitespace == true { text.removeFirst() }
        while text.last?.isWhitespace == true { text.removeLast() }
        return String(text)
    }
}
