import EnclaveCore
import Foundation
import GRDB

// Sessions, refresh tokens and automation clients. Each row keeps the indexed facts as columns and the
// whole value as a JSON document.
extension SQLiteStore {
    // MARK: Sessions

    public func createSession(_ session: BrowserSession, audit: [AuditEntry]) async throws {
        let doc = try DocumentCoding.encode(session)
        try await write { db in
            try db.execute(
                sql: "INSERT INTO sessions (id, user_id, ended_at, doc) VALUES (?, ?, ?, ?)",
                arguments: [session.id, session.user.id, session.endedAt, doc])
            try SQLiteAuditLog.append(audit, in: db)
        }
    }

    public func session(id: String) async throws -> BrowserSession? {
        let doc = try await read { db in try String.fetchOne(db, sql: "SELECT doc FROM sessions WHERE id = ?", arguments: [id]) }
        return try doc.map { try DocumentCoding.decode(BrowserSession.self, $0) }
    }

    public func touchSession(id: String, at time: Double) async throws {
        try await write { db in
            guard let doc = try String.fetchOne(db, sql: "SELECT doc FROM sessions WHERE id = ?", arguments: [id]) else { return }
            var session = try DocumentCoding.decode(BrowserSession.self, doc)
            guard session.endedAt == nil, time > session.lastSeenAt else { return }
            session.lastSeenAt = time
            try db.execute(sql: "UPDATE sessions SET doc = ? WHERE id = ?", arguments: [try DocumentCoding.encode(session), id])
        }
    }

    public func endSession(id: String, at time: Double, audit: [AuditEntry]) async throws -> Bool {
        try await write { db in
            guard let doc = try String.fetchOne(db, sql: "SELECT doc FROM sessions WHERE id = ?", arguments: [id]) else { return false }
            var session = try DocumentCoding.decode(BrowserSession.self, doc)
            guard session.endedAt == nil else { return false }
            session.endedAt = time
            try db.execute(
                sql: "UPDATE sessions SET ended_at = ?, doc = ? WHERE id = ?", arguments: [time, try DocumentCoding.encode(session), id])
            try SQLiteAuditLog.append(audit, in: db)
            return true
        }
    }

    public func endCredentials(userId: String, at time: Double, audit: [AuditEntry]) async throws -> Int {
        try await write { db in
            let docs = try String.fetchAll(
                db, sql: "SELECT doc FROM sessions WHERE user_id = ? AND ended_at IS NULL", arguments: [userId])
            for doc in docs {
                var session = try DocumentCoding.decode(BrowserSession.self, doc)
                session.endedAt = time
                try db.execute(
                    sql: "UPDATE sessions SET ended_at = ?, doc = ? WHERE id = ?",
                    arguments: [time, try DocumentCoding.encode(session), session.id])
            }
            try Self.revokeTokens(
                db, sql: "SELECT doc FROM refresh_tokens WHERE user_id = ? AND expires_at > ?", arguments: [userId, time], at: time)
            try SQLiteAuditLog.append(audit, in: db)
            return docs.count
        }
    }

    // MARK: Refresh tokens

    public func saveRefreshToken(_ token: RefreshToken, audit: [AuditEntry]) async throws {
        try await write { db in
            try Self.insert(token, in: db)
            try SQLiteAuditLog.append(audit, in: db)
        }
    }

    public func refreshToken(id: String) async throws -> RefreshToken? {
        let doc = try await read { db in
            try String.fetchOne(db, sql: "SELECT doc FROM refresh_tokens WHERE id = ?", arguments: [id])
        }
        return try doc.map { try DocumentCoding.decode(RefreshToken.self, $0) }
    }

    public func rotateRefreshToken(
        id: String, clientId: String, now: Double, successor: @escaping @Sendable (RefreshToken) -> RefreshToken,
        audit: @escaping @Sendable (RefreshToken) -> [AuditEntry], reuseAudit: @escaping @Sendable (RefreshToken) -> [AuditEntry]
    ) async throws -> RefreshRotation {
        try await write { db in
            guard let doc = try String.fetchOne(db, sql: "SELECT doc FROM refresh_tokens WHERE id = ?", arguments: [id]) else {
                return .unknown
            }
            var token = try DocumentCoding.decode(RefreshToken.self, doc)
            if let refusal = token.refusal(clientId: clientId, now: now) {
                if refusal == .reused {
                    try Self.revokeTokens(
                        db, sql: "SELECT doc FROM refresh_tokens WHERE family = ?", arguments: [token.family], at: now)
                    try SQLiteAuditLog.append(reuseAudit(token), in: db)
                }
                return .refused(refusal, token)
            }
            token.spentAt = now
            try db.execute(
                sql: "UPDATE refresh_tokens SET doc = ? WHERE id = ?", arguments: [try DocumentCoding.encode(token), token.id])
            let next = successor(token)
            try Self.insert(next, in: db)
            try SQLiteAuditLog.append(audit(token), in: db)
            return .rotated(next)
        }
    }

    public func revokeRefreshFamily(ofToken id: String, at time: Double, audit: [AuditEntry]) async throws -> Bool {
        try await write { db in
            guard let family = try String.fetchOne(db, sql: "SELECT family FROM refresh_tokens WHERE id = ?", arguments: [id]) else {
                return false
            }
            try Self.revokeTokens(db, sql: "SELECT doc FROM refresh_tokens WHERE family = ?", arguments: [family], at: time)
            try SQLiteAuditLog.append(audit, in: db)
            return true
        }
    }

    public func revokeRefreshTokens(userId: String, clientId: String, at time: Double, audit: [AuditEntry]) async throws -> Int {
        try await write { db in
            let count = try Self.revokeTokens(
                db, sql: "SELECT doc FROM refresh_tokens WHERE user_id = ? AND client_id = ? AND expires_at > ?",
                arguments: [userId, clientId, time], at: time)
            try SQLiteAuditLog.append(audit, in: db)
            return count
        }
    }

    private static func insert(_ token: RefreshToken, in db: Database) throws {
        try db.execute(
            sql: "INSERT INTO refresh_tokens (id, family, user_id, client_id, expires_at, doc) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [token.id, token.family, token.userId, token.clientId, token.expiresAt, try DocumentCoding.encode(token)])
    }

    /// Marks the selected tokens revoked (those not already revoked); returns how many changed.
    @discardableResult
    private static func revokeTokens(_ db: Database, sql: String, arguments: StatementArguments, at time: Double) throws -> Int {
        var count = 0
        for doc in try String.fetchAll(db, sql: sql, arguments: arguments) {
            var token = try DocumentCoding.decode(RefreshToken.self, doc)
            guard token.revokedAt == nil else { continue }
            token.revokedAt = time
            try db.execute(
                sql: "UPDATE refresh_tokens SET doc = ? WHERE id = ?", arguments: [try DocumentCoding.encode(token), token.id])
            count += 1
        }
        return count
    }

    // MARK: Automation clients

    public func createClient(_ client: AutomationClient, audit: AuditEntry) async throws {
        let doc = try DocumentCoding.encode(client)
        try await write { db in
            if try Row.fetchOne(db, sql: "SELECT 1 FROM automation_clients WHERE id = ?", arguments: [client.id]) != nil {
                throw EnclaveError.conflict("A client with id '\(client.id)' already exists")
            }
            try db.execute(sql: "INSERT INTO automation_clients (id, doc) VALUES (?, ?)", arguments: [client.id, doc])
            try SQLiteAuditLog.append([audit], in: db)
        }
    }

    public func client(id: String) async throws -> AutomationClient? {
        let doc = try await read { db in
            try String.fetchOne(db, sql: "SELECT doc FROM automation_clients WHERE id = ?", arguments: [id])
        }
        return try doc.map { try DocumentCoding.decode(AutomationClient.self, $0) }
    }

    public func clients() async throws -> [AutomationClient] {
        let docs = try await read { db in try String.fetchAll(db, sql: "SELECT doc FROM automation_clients ORDER BY id") }
        return try docs.map { try DocumentCoding.decode(AutomationClient.self, $0) }
    }

    public func updateClient(_ client: AutomationClient, audit: [AuditEntry]) async throws {
        let doc = try DocumentCoding.encode(client)
        try await write { db in
            try db.execute(sql: "UPDATE automation_clients SET doc = ? WHERE id = ?", arguments: [doc, client.id])
            guard db.changesCount == 1 else { throw EnclaveError.notFound("No client with id '\(client.id)'") }
            try SQLiteAuditLog.append(audit, in: db)
        }
    }
}
