import EnclaveCore
import Foundation
import GRDB

// The airlock notifications' delivery log and cursor.
extension SQLiteStore {
    public func notificationCursor() async throws -> Int {
        try await read { db in try Int.fetchOne(db, sql: "SELECT sequence FROM notification_cursor WHERE id = 1") ?? 0 }
    }

    public func planNotificationDeliveries(_ deliveries: [NotificationDelivery], cursor: Int) async throws {
        try await write { db in
            for delivery in deliveries {
                try db.execute(
                    sql: """
                        INSERT OR IGNORE INTO notification_deliveries (id, audit_sequence, channel, target, payload, attempts, status,
                            last_error, created_at, updated_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: Self.arguments(delivery))
            }
            // Never backwards: two notifiers on one database (serve and a second serve) may race here.
            try db.execute(
                sql: """
                    INSERT INTO notification_cursor (id, sequence) VALUES (1, ?)
                    ON CONFLICT(id) DO UPDATE SET sequence = max(sequence, excluded.sequence)
                    """,
                arguments: [cursor])
        }
    }

    public func dueNotificationDeliveries(now: Double, limit: Int) async throws -> [NotificationDelivery] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM notification_deliveries WHERE status = 'pending' AND next_attempt_at <= ?
                    ORDER BY next_attempt_at, audit_sequence, id LIMIT ?
                    """,
                arguments: [now, max(0, limit)]
            ).map(Self.delivery)
        }
    }

    public func updateNotificationDelivery(_ delivery: NotificationDelivery) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE notification_deliveries SET attempts = ?, status = ?, last_error = ?, updated_at = ?, next_attempt_at = ?
                    WHERE id = ?
                    """,
                arguments: [
                    delivery.attempts, delivery.status.rawValue, delivery.lastError, delivery.updatedAt, delivery.nextAttemptAt, delivery.id,
                ])
            if db.changesCount == 0 { throw EnclaveError.notFound("Notification delivery \(delivery.id) does not exist") }
        }
    }

    public func notificationDeliveries(status: NotificationDeliveryStatus?, auditSequence: Int?, limit: Int) async throws
        -> [NotificationDelivery]
    {
        var clauses: [String] = []
        var arguments: StatementArguments = []
        if let status { clauses.append("status = ?"); arguments += [status.rawValue] }
        if let auditSequence { clauses.append("audit_sequence = ?"); arguments += [auditSequence] }
        let whereClause = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let sql = "SELECT * FROM notification_deliveries \(whereClause) ORDER BY created_at DESC, audit_sequence DESC, id LIMIT \(max(0, limit))"
        let args = arguments
        return try await read { db in try Row.fetchAll(db, sql: sql, arguments: args).map(Self.delivery) }
    }

    static func arguments(_ delivery: NotificationDelivery) -> StatementArguments {
        [
            delivery.id, delivery.auditSequence, delivery.channel.rawValue, delivery.target, delivery.payload, delivery.attempts,
            delivery.status.rawValue, delivery.lastError, delivery.createdAt, delivery.updatedAt, delivery.nextAttemptAt,
        ]
    }

    static func delivery(_ row: Row) throws -> NotificationDelivery {
        let channelText: String = row["channel"]
        let statusText: String = row["status"]
        guard let channel = NotificationChannel(rawValue: channelText), let status = NotificationDeliveryStatus(rawValue: statusText) else {
            throw EnclaveError.internal("Notification delivery has an unknown channel '\(channelText)' or status '\(statusText)'")
        }
        return NotificationDelivery(
            id: row["id"], auditSequence: row["audit_sequence"], channel: channel, target: row["target"], payload: row["payload"],
            attempts: row["attempts"], status: status, lastError: row["last_error"], createdAt: row["created_at"], updatedAt: row["updated_at"],
            nextAttemptAt: row["next_attempt_at"])
    }
}
