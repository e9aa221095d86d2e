public import EnclaveCore
public import EnclaveStore
public import Foundation

/// What an operator does to built-in provider accounts (`enclave users …`): each change checked by
/// `UserAccount`'s rules and committed with its audit record.
///
/// It talks to the store directly, like `enclave token`: an operator with the data dir needs no running
/// server and no token, which is how the first admin is made when the setup link is not an option.
public struct AccountAdministration: Sendable {
    let store: any Store
    let hasher: PasswordHasher
    let actor: AuditActor
    let now: @Sendable () -> Double

    public init(
        store: any Store, actor: AuditActor, hasher: PasswordHasher = PasswordHasher(),
        now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.store = store
        self.actor = actor
        self.hasher = hasher
        self.now = now
    }

    /// Creates an account. Throws 400 for a bad username, password or role, 409 for a taken username.
    public func add(username: String, name: String, email: String, roles: [String], password: String) async throws -> UserAccount {
        if let problem = UserAccount.problem(username: username) ?? UserAccount.problem(password: password) {
            throw EnclaveError.badRequest(problem)
        }
        for role in roles where CoreRole(rawValue: role) == nil {
            throw EnclaveError.badRequest("Unknown role '\(role)': core roles are TREAdmin and TREUser")
        }
        let account = UserAccount(
            id: UUID().uuidString.lowercased(), username: UserAccount.normalize(username), name: name.isEmpty ? username : name,
            email: email, roles: roles, passwordHash: await hasher.hash(password), createdAt: now())
        try await store.createUser(account, audit: entry(.userCreate, account, ["roles": .array(roles.map(JSONValue.string))]))
        return account
    }

    public func list() async throws -> [UserAccount] { try await store.users() }

    /// Disables or enables an account. Throws 404 for an unknown user, 409 for the last enabled TREAdmin.
    public func setEnabled(_ username: String, _ enabled: Bool) async throws -> UserAccount {
        var account = try await find(username)
        if !enabled, let problem = UserAccount.problem(disabling: account, among: try await store.users()) {
            throw EnclaveError.conflict(problem)
        }
        account.enabled = enabled
        try await store.updateUser(account, audit: [entry(.userUpdate, account, ["change": .string(enabled ? "enable" : "disable")])])
        return account
    }

    /// Sets a new password and lifts any lockout.
    public func resetPassword(_ username: String, password: String) async throws -> UserAccount {
        if let problem = UserAccount.problem(password: password) { throw EnclaveError.badRequest(problem) }
        var account = try await find(username)
        account.passwordHash = await hasher.hash(password)
        account.lockout = .init()
        try await store.updateUser(account, audit: [entry(.userUpdate, account, ["change": "reset-password"])])
        return account
    }

    /// Forgets the authenticator and recovery codes: the user enrolls again at the next sign-in.
    public func resetMFA(_ username: String) async throws -> UserAccount {
        var account = try await find(username)
        account.totpSecretSealed = nil
        account.totpLastStep = nil
        account.recoveryCodeHashes = []
        account.lockout = .init()
        try await store.updateUser(account, audit: [entry(.userUpdate, account, ["change": "reset-mfa"])])
        return account
    }

    func find(_ username: String) async throws -> UserAccount {
        guard let account = try await store.user(username: UserAccount.normalize(username)) else {
            throw EnclaveError.notFound("No user named '\(username)': `enclave users list` shows them")
        }
        return account
    }

    private func entry(_ action: AuditAction, _ account: UserAccount, _ details: [String: JSONValue]) -> AuditEntry {
        var details = details
        details["username"] = .string(account.username)
        return AuditEntry(
            id: UUID().uuidString.lowercased(), time: now(), actor: actor, action: action, target: "/oidc/users/\(account.id)",
            details: .object(details))
    }

    /// A random password of 20 characters from an unambiguous alphabet (about 100 bits), for accounts
    /// made without one: the operator hands it over once.
    public static func generatePassword() -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))] })
    }
}
