import Foundation

/// A user of the built-in identity provider, as stored.
///
/// Secrets are never kept in the clear: the password as a bcrypt hash, the TOTP secret sealed with the
/// data dir's secrets key (`SecretBox`), recovery codes as SHA-256 hashes (they are long random strings,
/// so a fast hash is enough, unlike passwords).
public struct UserAccount: Sendable, Hashable, Codable {
    /// A UUID; the tokens' `oid` and `sub`.
    public var id: String
    /// Unique ignoring case; stored as typed, compared through `UserAccount.normalize`.
    public var username: String
    public var name: String
    public var email: String
    /// Core roles (`TREAdmin`, `TREUser`).
    public var roles: [String]
    /// bcrypt; nil until set (a setup link sets the first admin's).
    public var passwordHash: String?
    /// Sealed (`SecretBox`); nil until enrolled.
    public var totpSecretSealed: String?
    /// The last TOTP time step accepted, so one code cannot be used twice.
    public var totpLastStep: Int?
    public var recoveryCodeHashes: [String]
    public var enabled: Bool
    public var lockout: LockoutPolicy.State
    /// Seconds since 1970.
    public var createdAt: Double

    public init(
        id: String, username: String, name: String, email: String, roles: [String], passwordHash: String? = nil,
        totpSecretSealed: String? = nil, totpLastStep: Int? = nil, recoveryCodeHashes: [String] = [],
        enabled: Bool = true, lockout: LockoutPolicy.State = .init(), createdAt: Double
    ) {
        self.id = id
        self.username = username
        self.name = name
        self.email = email
        self.roles = roles
        self.passwordHash = passwordHash
        self.totpSecretSealed = totpSecretSealed
        self.totpLastStep = totpLastStep
        self.recoveryCodeHashes = recoveryCodeHashes
        self.enabled = enabled
        self.lockout = lockout
        self.createdAt = createdAt
    }

    /// The identity the control plane sees.
    public var user: User { User(id: id, name: name, email: email, roles: roles) }

    /// The form usernames are compared in: lower-cased, surrounding spaces removed.
    public static func normalize(_ username: String) -> String {
        username.trimmingCharacters(in: .whitespaces).lowercased()
    }

    /// Why a username cannot be used, or nil: 1–64 characters of letters, digits, `.`, `_`, `-`, `@`.
    public static func problem(username: String) -> String? {
        let name = normalize(username)
        guard (1...64).contains(name.count) else { return "A username must be 1 to 64 characters long" }
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789._-@")
        guard name.allSatisfy(allowed.contains) else {
            return "A username may contain only letters, digits and . _ - @"
        }
        return nil
    }

    /// Why a password cannot be used, or nil. bcrypt reads at most 72 bytes, so longer ones are refused
    /// rather than silently truncated.
    public static func problem(password: String) -> String? {
        if password.count < 12 { return "A password must be at least 12 characters long" }
        if password.utf8.count > 72 { return "A password must be at most 72 bytes long (bcrypt reads no more)" }
        return nil
    }
}

extension UserAccount {
    /// Whether the account can administer the TRE right now: enabled and holding `TREAdmin`.
    public var isEnabledAdmin: Bool { enabled && roles.contains(CoreRole.treAdmin.rawValue) }

    /// Why `account` cannot be disabled, or nil: the last enabled TREAdmin must stay, or nobody could
    /// manage the TRE (and its users) through the API any more.
    public static func problem(disabling account: UserAccount, among accounts: [UserAccount]) -> String? {
        guard account.isEnabledAdmin else { return nil }
        let others = accounts.filter { $0.id != account.id && $0.isEnabledAdmin }
        return others.isEmpty
            ? "'\(account.username)' is the last enabled TREAdmin and cannot be disabled: add or enable another admin first"
            : nil
    }
}
