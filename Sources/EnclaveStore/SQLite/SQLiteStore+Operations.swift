public import EnclaveCore
import Foundation
import GRDB

extension SQLiteStore {
    public func operation(id: String) async throws -> ResourceOperation? {
        try await read { db in
            try String.fetchOne(db, sql: "SELECT doc FROM operations WHERE id = ?", arguments: [id])
        }.map { try DocumentCoding.decode(StoredOperation.self, $0).restored }
    }

    public func operations(resourceId: String) async throws -> [ResourceOperation] {
        try await read { db in
            try String.fetchAll(
                db, sql: "SELECT doc FROM operations WHERE resource_id = ? ORDER BY created_when, id",
                arguments: [resourceId])
        }.map { try DocumentCoding.decode(StoredOperation.self, $0).restored }
    }

    public func operations(workspaceId: String, limit: Int) async throws -> [ResourceOperation] {
        try await read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT doc FROM operations WHERE resource_id IN (
                        SELECT id FROM resources WHERE id = ?1 UNION ALL SELECT id FROM resources WHERE workspace_id = ?1)
                    ORDER BY created_when DESC, id DESC LIMIT ?2
                    """,
                arguments: [workspaceId, max(0, limit)])
        }.map { try DocumentCoding.decode(StoredOperation.self, $0).restored }
    }

    public func inFlightOperations(userId: String) async throws -> [ResourceOperation] {
        let statuses = OperationStatus.inFlight.map(\.rawValue).sorted()
        let placeholders = statuses.map { _ in "?" }.joined(separator: ",")
        let args = StatementArguments([userId] + statuses)
        return try await read { db in
            try String.fetchAll(
                db,
                sql: "SELECT doc FROM operations WHERE user_id = ? AND status IN (\(placeholders)) ORDER BY created_when, id",
                arguments: args)
        }.map { try DocumentCoding.decode(StoredOperation.self, $0).restored }
    }

    public func operationCounts() async throws -> [String: Int] {
        try await read { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM operations GROUP BY status") {
                counts[row["status"]] = row["n"]
            }
            return counts
        }
    }
}

extension SQLiteStore {
    public func claimNextStep(workerId: String, leaseSeconds: Double, now: Double) async throws -> ClaimedStep? {
        let expires = now + leaseSeconds
        return try await write { db in
            // Oldest queued step whose resource has no running step and no older queued step.
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        UPDATE jobs SET state = 'running', lease_owner = ?, lease_expires = ?, attempts = attempts + 1
                        WHERE seq = (
                            SELECT j.seq FROM jobs j
                            WHERE j.state = 'queued' AND NOT EXISTS (
                                SELECT 1 FROM jobs k WHERE k.resource_id = j.resource_id
                                AND (k.state = 'running' OR k.seq < j.seq))
                            ORDER BY j.seq LIMIT 1)
                        RETURNING id, operation_id, resource_id, attempts
                        """,
                    arguments: [workerId, expires])
            else { return nil }
            return ClaimedStep(
                id: row["id"], operationId: row["operation_id"], resourceId: row["resource_id"],
                attempt: row["attempts"], leaseExpires: expires)
        }
    }

    public func renewLease(jobId: String, workerId: String, leaseSeconds: Double, now: Double) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: "UPDATE jobs SET lease_expires = ? WHERE id = ? AND state = 'running' AND lease_owner = ?",
                arguments: [now + leaseSeconds, jobId, workerId])
            return db.changesCount > 0
        }
    }

    public func expiredSteps(now: Double) async throws -> [ExpiredStep] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, operation_id, resource_id, attempts, lease_owner FROM jobs
                    WHERE state = 'running' AND lease_expires < ? ORDER BY seq
                    """,
                arguments: [now]
            ).map {
                ExpiredStep(
                    id: $0["id"], operationId: $0["operation_id"], resourceId: $0["resource_id"],
                    attempt: $0["attempts"], leaseOwner: $0["lease_owner"] ?? "")
            }
        }
    }

    public func requeueExpired(jobId: String, now: Double) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_expires = NULL
                    WHERE id = ? AND state = 'running' AND lease_expires < ?
                    """,
                arguments: [jobId, now])
            return db.changesCount > 0
        }
    }

    public func queueStats(now: Double) async throws -> QueueStats {
        try await read { db in
            let queued = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs WHERE state = 'queued'") ?? 0
            let running = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs WHERE state = 'running'") ?? 0
            let oldest = try Double.fetchOne(db, sql: "SELECT MIN(enqueued_at) FROM jobs WHERE state = 'queued'")
            return QueueStats(queued: queued, running: running, oldestQueuedAgeSeconds: oldest.map { max(0, now - $0) })
        }
    }
}
