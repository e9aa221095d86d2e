public import EnclaveCore
import Foundation
import GRDB

/// The built-in identity provider's accounts (`AccountRepository`): one JSON document per account, the
/// normalized username beside it for the unique index. Each change commits with its audit records.
extension SQLiteStore {
    public func createUser(_ account: UserAccount, audit: AuditEntry) async throws {
        let doc = try Self.encodeAccount(account)
        let username = UserAccount.normalize(account.username)
        try await write { db in
            if try Row.fetchOne(db, sql: "SELECT 1 FROM accounts WHERE username = ?", arguments: [username]) != nil {
                throw EnclaveError.conflict("A user named '\(username)' already exists")
            }
            try db.execute(
                sql: "INSERT INTO accounts (id, username, doc) VALUES (?, ?, ?)", arguments: [account.id, username, doc])
            try SQLiteAuditLog.append([audit], in: db)
        }
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

    static func encodeAccount(_ account: UserAccount) throws -> String {
        String(decoding: try JSONEncoder().encode(account), as: UTF8.self)
    }

    static func decodeAccount(_ doc: String) throws -> UserAccount {
        try JSONDecoder().decode(UserAccount.self, from: Data(doc.utf8))
    }
}
