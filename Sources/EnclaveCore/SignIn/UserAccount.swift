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

    /// Why `before` may not become `after`, or nil: the last enabled account holding TREAdmin must keep
    /// both, or nobody could manage the TRE (and its users) through the API any more.
    ///
    /// `accounts` are every account as stored, `before` among them; only changes that take an enabled
    /// admin out of that set (disabling it, or removing its TREAdmin) are ever refused. The store calls
    /// this inside the write transaction that applies the change, so two concurrent changes cannot both
    /// pass it.
    public static func lastAdminProblem(changing before: UserAccount, to after: UserAccount, among accounts: [UserAccount])
        -> String?
    {
        guard before.isEnabledAdmin, !after.isEnabledAdmin else { return nil }
        let others = accounts.filter { $0.id != before.id && $0.isEnabledAdmin }
        guard others.isEmpty else { return nil }
        let change = after.enabled ? "removing its TREAdmin role" : "disabling it"
        return "'\(before.username)' is the last TREAdmin: \(change) would leave no enabled account that can administer "
            + "Enclave. Give another account TREAdmin first (enclave users assign USER TREAdmin)"
    }

    /// Why `account` cannot be disabled, or nil (see `lastAdminProblem`).
    public static func problem(disabling account: UserAccount, among accounts: [UserAccount]) -> String? {
        var disabled = account
        disabled.enabled = false
        return lastAdminProblem(changing: account, to: disabled, among: accounts)
    }

    /// Why an email address cannot be used, or nil: one `@` between a non-empty local part and a domain
    /// with a dot, no spaces or control characters, at most 254 characters. Deliberately loose: the
    /// address is shown and compared, never sent to here.
    public static func problem(email: String) -> String? {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
            !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
            !email.contains(where: { $0.isWhitespace || $0.unicodeScalars.contains { CharacterSet.controlCharacters.contains($0) } })
        else { return "'\(email)' is not an email address (expected name@example.org)" }
        return nil
    }

    /// Why a display name cannot be used, or nil: at most 200 characters, no control characters.
    public static func problem(name: String) -> String? {
        if name.count > 200 { return "A name must be at most 200 characters long" }
        if name.unicodeScalars.contains(where: CharacterSet.controlCharacters.contains) {
            return "A name must not contain control characters (line breaks, tabs)"
        }
        return nil
    }

    /// The core roles named, deduplicated in the order given; throws 400 naming the first unknown one.
    public static func coreRoles(_ names: [String]) throws(EnclaveError) -> [String] {
        var roles: [String] = []
        for name in names {
            let role = try CoreRole.named(name).rawValue
            if !roles.contains(role) { roles.append(role) }
        }
        return roles
    }
}

extension CoreRole {
    /// The core role with this exact name; throws 400 saying which names exist.
    public static func named(_ name: String) throws(EnclaveError) -> CoreRole {
        guard let role = CoreRole(rawValue: name) else {
            let hint = WorkspaceRole(rawValue: name) == nil ? "" : " (\(name) is a workspace role: assign it in a workspace)"
            throw .badRequest("Unknown role '\(name)': core roles are TREAdmin and TREUser\(hint)")
        }
        return role
    }
}
