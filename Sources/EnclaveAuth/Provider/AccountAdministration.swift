public import EnclaveCore
public import EnclaveStore
public import Foundation

/// Which account a command means: an id (the API's `{userId}`), or what an operator typed.
public enum AccountKey: Sendable, Hashable, ExpressibleByStringLiteral {
    case id(String)
    /// A username (ignoring case), else an id.
    case usernameOrId(String)

    public init(stringLiteral value: String) { self = .usernameOrId(value) }
}

/// What an administrator does to built-in provider accounts, through the API (`/api/users`, as the
/// signed-in admin) or as an operator with the data dir (`enclave users … --data-dir`): each change
/// checked by `UserAccount`'s rules and committed with its audit record.
///
/// Every change to an existing account goes through `AccountRepository.modifyUser`, which reads and
/// writes in one write transaction: the last-TREAdmin rule is checked against the accounts as they are
/// when the change is written, so two admins removing each other at the same moment cannot both succeed.
/// Audit records target `/api/users/<id>` whichever way the change came.
public struct AccountAdministration: Sendable {
    let store: any Store
    let hasher: PasswordHasher
    let actor: AuditActor
    let requestId: String?
    let now: @Sendable () -> Double

    public init(
        store: any Store, actor: AuditActor, requestId: String? = nil, hasher: PasswordHasher = PasswordHasher(),
        now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.store = store
        self.actor = actor
        self.requestId = requestId
        self.hasher = hasher
        self.now = now
    }

    /// Creates an account with a password. Throws 400 for a bad username, password or role, 409 for a taken username.
    public func add(username: String, name: String, email: String, roles: [String], password: String) async throws -> UserAccount {
        if let problem = UserAccount.problem(username: username) ?? UserAccount.problem(password: password) {
            throw EnclaveError.badRequest(problem)
        }
        let roles = try UserAccount.coreRoles(roles)
        let account = UserAccount(
            id: UUID().uuidString.lowercased(), username: UserAccount.normalize(username), name: name.isEmpty ? username : name,
            email: email, roles: roles, passwordHash: await hasher.hash(password), createdAt: now())
        try await store.createUser(account, audit: entry(.userCreate, account, ["roles": .array(roles.map(JSONValue.string))]))
        return account
    }

    /// An invitation just issued: the account, the token for the link (shown once, never stored) and when it expires.
    public struct IssuedInvitation: Sendable {
        public var account: UserAccount
        public var token: String
        public var expiresAt: Double
    }

    /// Creates an account without a password and a one-time invitation for it (valid `Invitation.lifetime`).
    ///
    /// Throws 400 for a bad username, name, email or role, 409 for a taken username; nothing is created then.
    public func invite(username: String, name: String, email: String, roles: [String]) async throws -> IssuedInvitation {
        let name = name.isEmpty ? username : name
        if let problem = UserAccount.problem(username: username) ?? UserAccount.problem(name: name)
            ?? UserAccount.problem(email: email)
        {
            throw EnclaveError.badRequest(problem)
        }
        let roles = try UserAccount.coreRoles(roles)
        let time = now()
        let account = UserAccount(
            id: UUID().uuidString.lowercased(), username: UserAccount.normalize(username), name: name, email: email,
            roles: roles, createdAt: time)
        let (invitation, token) = Self.newInvitation(for: account.id, now: time)
        try await store.createUser(
            account, invitation: invitation,
            audit: [
                entry(.userCreate, account, ["roles": .array(roles.map(JSONValue.string)), "via": "invitation"]),
                entry(.userInvite, account, ["expiresAt": .double(invitation.expiresAt)]),
            ])
        return IssuedInvitation(account: account, token: token, expiresAt: invitation.expiresAt)
    }

    /// A new invitation for an account that has no password yet, replacing (and so invalidating) the
    /// previous link. Throws 404 for an unknown user, 409 when the account has a password or is disabled.
    public func reissueInvitation(_ user: AccountKey) async throws -> IssuedInvitation {
        let id = try await find(user).id
        let (invitation, token) = Self.newInvitation(for: id, now: now())
        let account = try await store.modifyUser(id: id) { account, _ in
            if let problem = Invitation.problem(reissuingFor: account) { throw EnclaveError.conflict(problem) }
            return AccountChange(
                invitation: invitation,
                audit: [entry(.userInvite, account, ["expiresAt": .double(invitation.expiresAt), "reissue": true])])
        }
        return IssuedInvitation(account: account, token: token, expiresAt: invitation.expiresAt)
    }

    public func list() async throws -> [UserAccount] { try await store.users() }

    /// Disables or enables an account; no change (and no record) when it already is. Throws 404 for an
    /// unknown user, 409 for the last enabled TREAdmin.
    public func setEnabled(_ user: AccountKey, _ enabled: Bool) async throws -> UserAccount {
        try await change(user, action: .userUpdate, details: ["change": .string(enabled ? "enable" : "disable")]) { account in
            account.enabled = enabled
        }
    }

    /// Gives an account a core role; no change when it already holds it. Throws 400 for an unknown role,
    /// 404 for an unknown user.
    public func addRole(_ user: AccountKey, _ role: String) async throws -> UserAccount {
        let role = try CoreRole.named(role).rawValue
        return try await change(user, action: .userRoleAdd, details: ["role": .string(role)]) { account in
            if !account.roles.contains(role) { account.roles.append(role) }
        }
    }

    /// Takes a core role away; no change when it is not held. Throws 400 for an unknown role, 404 for an
    /// unknown user, 409 when it is the last enabled TREAdmin's TREAdmin.
    public func removeRole(_ user: AccountKey, _ role: String) async throws -> UserAccount {
        let role = try CoreRole.named(role).rawValue
        return try await change(user, action: .userRoleRemove, details: ["role": .string(role)]) { account in
            account.roles.removeAll { $0 == role }
        }
    }

    /// Sets a new password and lifts any lockout.
    public func resetPassword(_ user: AccountKey, password: String) async throws -> UserAccount {
        if let problem = UserAccount.problem(password: password) { throw EnclaveError.badRequest(problem) }
        let hash = await hasher.hash(password)
        return try await change(user, action: .userUpdate, details: ["change": "reset-password"]) { account in
            account.passwordHash = hash
            account.lockout = .init()
        }
    }

    /// Forgets the authenticator and recovery codes: the user enrolls again at the next sign-in.
    public func resetMFA(_ user: AccountKey) async throws -> UserAccount {
        try await change(user, action: .userUpdate, details: ["change": "reset-mfa"]) { account in
            account.totpSecretSealed = nil
            account.totpLastStep = nil
            account.recoveryCodeHashes = []
            account.lockout = .init()
        }
    }

    /// Applies `edit` to the stored account inside one write transaction, refusing (409) a change that
    /// would leave no enabled TREAdmin; writes nothing when `edit` changes nothing.
    func change(
        _ user: AccountKey, action: AuditAction, details: [String: JSONValue], _ edit: @escaping @Sendable (inout UserAccount) -> Void
    ) async throws -> UserAccount {
        let id = try await find(user).id
        return try await store.modifyUser(id: id) { account, all in
            var updated = account
            edit(&updated)
            if updated == account { return .unchanged }
            if let problem = UserAccount.lastAdminProblem(changing: account, to: updated, among: all) {
                throw EnclaveError.conflict(problem)
            }
            return AccountChange(account: updated, audit: [entry(action, updated, details)])
        }
    }

    /// The account a key names. Throws 404 saying what was asked for.
    public func find(_ user: AccountKey) async throws -> UserAccount {
        switch user {
        case .id(let id):
            if let account = try await store.user(id: id) { return account }
            throw EnclaveError.notFound("No built-in account has the id '\(id)'")
        case .usernameOrId(let text):
            if let account = try await store.user(username: UserAccount.normalize(text)) { return account }
            if let account = try await store.user(id: text) { return account }
            throw EnclaveError.notFound("No built-in account named '\(text)': `enclave users list` shows them")
        }
    }

    static func newInvitation(for userId: String, now: Double) -> (Invitation, token: String) {
        let token = SecretToken.random()
        let invitation = Invitation(
            userId: userId, tokenHash: SecretToken.sha256Hex(token), issuedAt: now, expiresAt: now + Invitation.lifetime)
        return (invitation, token)
    }

    private func entry(_ action: AuditAction, _ account: UserAccount, _ details: [String: JSONValue]) -> AuditEntry {
        var details = details
        details["username"] = .string(account.username)
        return AuditEntry(
            id: UUID().uuidString.lowercased(), time: now(), actor: actor, action: action, target: "/api/users/\(account.id)",
            details: .object(details), requestId: requestId)
    }

    /// A random password of 20 characters from an unambiguous alphabet (about 100 bits), for accounts
    /// made without one: the operator hands it over once.
    public static func generatePassword() -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))] })
    }
}
