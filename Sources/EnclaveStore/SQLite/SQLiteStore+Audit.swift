public import EnclaveCore
import Foundation
import GRDB

extension SQLiteStore {
    public func appendAudit(_ entries: [AuditEntry]) async throws {
        if entries.isEmpty { return }
        try await write { db in try SQLiteAuditLog.append(entries, in: db) }
    }

    public func auditRecords(_ filter: AuditFilter, after: Int?, limit: Int) async throws -> [AuditRecord] {
        var clauses = ["sequence > ?"]
        var arguments: StatementArguments = [after ?? 0]
        if let actor = filter.actorId { clauses.append("actor_id = ?"); arguments += [actor] }
        // Prefix matches compare substrings rather than using LIKE, which would treat `_` and `%` as wildcards.
        if let action = filter.action {
            clauses.append("(action = ? OR substr(action, 1, ?) = ?)")
            arguments += [action, action.unicodeScalars.count + 1, action + "."]
        }
        if let target = filter.target {
            let prefix = target.hasSuffix("/") ? target : target + "/"
            clauses.append("(target = ? OR substr(target, 1, ?) = ?)")
            arguments += [target, prefix.unicodeScalars.count, prefix]
        }
        if let from = filter.from { clauses.append("time >= ?"); arguments += [from] }
        if let to = filter.to { clauses.append("time < ?"); arguments += [to] }
        let sql = """
            SELECT * FROM audit WHERE \(clauses.joined(separator: " AND ")) ORDER BY sequence LIMIT \(max(0, limit))
            """
        let args = arguments
        return try await read { db in try Row.fetchAll(db, sql: sql, arguments: args).map(SQLiteAuditLog.record) }
    }
}

/// The audit table's SQL, shared by `commit`, `register` and `appendAudit` so every append chains the same way.
enum SQLiteAuditLog {
    /// Appends inside the caller's IMMEDIATE transaction: no other writer (in this process or another) can append
    /// between reading the last hash and inserting, so the chain never forks.
    static func append(_ entries: [AuditEntry], in db: Database) throws {
        if entries.isEmpty { return }
        let last = try Row.fetchOne(db, sql: "SELECT sequence, hash FROM audit ORDER BY sequence DESC LIMIT 1")
        var sequence: Int = last.map { $0["sequence"] } ?? 0
        var previous: String = last.map { $0["hash"] } ?? AuditChain.genesisHash
        for entry in entries {
            sequence += 1
            let record = AuditRecord(entry, sequence: sequence, previousHash: previous)
            try db.execute(
                sql: """
                    INSERT INTO audit (sequence, id, time, actor_id, actor_name, action, target, outcome, details,
                        request_id, previous_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    record.sequence, record.id, record.time, record.actor.id, record.actor.name, record.action.rawValue,
                    record.target, record.outcome.rawValue, record.details.description, record.requestId,
                    record.previousHash, record.hash,
                ])
            previous = record.hash
        }
    }

    static func record(_ row: Row) throws -> AuditRecord {
        let sequence: Int = row["sequence"]
        let actionText: String = row["action"]
        let outcomeText: String = row["outcome"]
        guard let action = AuditAction(rawValue: actionText), let outcome = AuditOutcome(rawValue: outcomeText) else {
            throw EnclaveError.internal(
                "Audit record #\(sequence) has an unknown action '\(actionText)' or outcome '\(outcomeText)': was it written by a newer Enclave?")
        }
        let detailsText: String = row["details"]
        return AuditRecord(
            sequence: sequence, id: row["id"], time: row["time"],
            actor: AuditActor(id: row["actor_id"], name: row["actor_name"]), action: action, target: row["target"],
            outcome: outcome, details: try JSONDecoder().decode(JSONValue.self, from: Data(detailsText.utf8)),
            requestId: row["request_id"], previousHash: row["previous_hash"], hash: row["hash"])
    }
}
