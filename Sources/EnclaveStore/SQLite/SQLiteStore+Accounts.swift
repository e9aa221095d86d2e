public import EnclaveCore
import Foundation
import GRDB

/// The built-in identity provider's accounts (`AccountRepository`): one JSON document per account, the
/// normalized username beside it for the unique index. Each change commits with its audit records.
extension SQLiteStore {
    public func createUser(_ account: UserAccount, audit: AuditEntry) async throws {
        let doc = try Self.encodeAccount(account)
        try await write { db in
            try Self.insertAccount(account, doc: doc, in: db)
            try SQLiteAuditLog.append([audit], in: db)
        }
    }

    public func createUser(_ account: UserAccount, invitation: Invitation, audit: [AuditEntry]) async throws {
        let doc = try Self.encodeAccount(account)
        try await write { db in
            try Self.insertAccount(account, doc: doc, in: db)
            try Self.putInvitation(invitation, in: db)
            try SQLiteAuditLog.append(audit, in: db)
        }
    }

    static func insertAccount(_ account: UserAccount, doc: String, in db: Database) throws {
        let username = UserAccount.normalize(account.username)
        if try Row.fetchOne(db, sql: "SELECT 1 FROM accounts WHERE username = ?", arguments: [username]) != nil {
            throw EnclaveError.conflict("A user named '\(username)' already exists: choose another username")
        }
        try db.execute(sql: "INSERT INTO accounts (id, username, doc) VALUES (?, ?, ?)", arguments: [account.id, username, doc])
    }

    public func user(id: String) async throws -> UserAccount? {
        let doc = try await read { db in try String.fetchOne(db, sql: "SELECT doc FROM accounts WHERE id = ?", arguments: [id]) }
        return try doc.map(Self.decodeAccount)
    }

    public func user(username: String) async throws -> UserAccount? {
        let doc = try await read { db in
            try String.fetchOne(db, sql: "SELECT doc FROM accounts WHERE username = ?", arguments: [username])
        }
        return try doc.map(Self.decodeAccount)
    }

    public func users() async throws -> [UserAccount] {
        let docs = try await read { db in try String.fetchAll(db, sql: "SELECT doc FROM accounts ORDER BY username") }
        return try docs.map(Self.decodeAccount)
    }

    public func updateUser(_ account: UserAccount, audit: [AuditEntry]) async throws {
        let doc = try Self.encodeAccount(account)
        try await write { db in
            try db.execute(sql: "UPDATE accounts SET doc = ? WHERE id = ?", arguments: [doc, account.id])
            guard db.changesCount == 1 else { throw EnclaveError.notFound("No user with id '\(account.id)'") }
            try SQLiteAuditLog.append(audit, in: db)
        }
    }

    public func modifyUser(
        id: String, _ change: @escaping @Sendable (_ account: UserAccount, _ all: [UserAccount]) throws -> AccountChange
    ) async throws -> UserAccount {
        try await write { db in
            let all = try String.fetchAll(db, sql: "SELECT doc FROM accounts").map(Self.decodeAccount)
            guard let account = all.first(where: { $0.id == id }) else {
                throw EnclaveError.notFound("No user with id '\(id)'")
            }
            return try Self.apply(try change(account, all), to: account, in: db)
        }
    }

    public func invitation(tokenHash: String) async throws -> Invitation? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM invitations WHERE token_hash = ?", arguments: [tokenHash]).map(Self.invitation)
        }
    }

    public func redeemInvitation(
        tokenHash: String, now: Double, _ redeem: @escaping @Sendable (UserAccount) throws -> AccountChange
    ) async throws -> InvitationRedemption {
        try await write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM invitations WHERE token_hash = ?", arguments: [tokenHash])
            else { return .refused(.unknown, account: nil) }
            var invitation = Self.invitation(row)
            let account = try String.fetchOne(db, sql: "SELECT doc FROM accounts WHERE id = ?", arguments: [invitation.userId])
                .map(Self.decodeAccount)
            if let refusal = invitation.refusal(now: now, account: account) { return .refused(refusal, account: account) }
            guard let account else { return .refused(.accountUnavailable, account: nil) }
            var change = try redeem(account)
            invitation.usedAt = now
            change.invitation = invitation
            return .redeemed(try Self.apply(change, to: account, in: db))
        }
    }

    /// Writes a change to `account` inside the caller's transaction; returns the account as stored.
    static func apply(_ change: AccountChange, to account: UserAccount, in db: Database) throws -> UserAccount {
        var stored = account
        if let updated = change.account {
            guard updated.id == account.id else { throw EnclaveError.internal("an account change may not change the id") }
            try db.execute(
                sql: "UPDATE accounts SET doc = ?, username = ? WHERE id = ?",
                arguments: [try encodeAccount(updated), UserAccount.normalize(updated.username), updated.id])
            stored = updated
        }
        if let invitation = change.invitation { try putInvitation(invitation, in: db) }
        try SQLiteAuditLog.append(change.audit, in: db)
        return stored
    }

    /// Inserts or replaces the account's one invitation.
    static func putInvitation(_ invitation: Invitation, in db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO invitations (user_id, token_hash, issued_at, expires_at, used_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(user_id) DO UPDATE SET token_hash = excluded.token_hash, issued_at = excluded.issued_at,
                    expires_at = excluded.expires_at, used_at = excluded.used_at
                """,
            arguments: [invitation.userId, invitation.tokenHash, invitation.issuedAt, invitation.expiresAt, invitation.usedAt])
    }

    static func invitation(_ row: Row) -> Invitation {
        let userId: String = row["user_id"]
        let tokenHash: String = row["token_hash"]
        let issuedAt: Double = row["issued_at"]
        let expiresAt: Double = row["expires_at"]
        let usedAt: Double? = row["used_at"]
        return Invitation(userId: userId, tokenHash: tokenHash, issuedAt: issuedAt, expiresAt: expiresAt, usedAt: usedAt)
    }

    static func encodeAccount(_ account: UserAccount) throws -> String {
        String(decoding: try JSONEncoder().encode(account), as: UTF8.self)
    }

    static func decodeAccount(_ doc: String) throws -> UserAccount {
        try JSONDecoder().decode(UserAccount.self, from: Data(doc.utf8))
    }
}
