/// The airlock notifications' delivery log and the position of the notifier in the audit log.
///
/// Notifications are derived from `airlock.status_change` audit records. Planning a record's deliveries
/// and moving the cursor past it happen in one transaction, and a delivery stays `pending` until it is
/// delivered or given up, so after a crash every notification is sent at least once — never lost,
/// possibly repeated (a receiver sees the same `X-Enclave-Delivery` id again).
public protocol NotificationRepository: Sendable {
    /// The sequence number of the last audit record whose deliveries are planned; 0 before the first.
    func notificationCursor() async throws -> Int
    /// Stores the deliveries planned for audit records up to `cursor` and moves the cursor there, in one
    /// transaction. Ids already stored are left as they are (a re-planned record adds no duplicates).
    func planNotificationDeliveries(_ deliveries: [NotificationDelivery], cursor: Int) async throws
    /// Pending deliveries whose next attempt is due at `now`, oldest first.
    func dueNotificationDeliveries(now: Double, limit: Int) async throws -> [NotificationDelivery]
    /// Replaces a delivery's attempt count, status, error and next attempt time.
    func updateNotificationDelivery(_ delivery: NotificationDelivery) async throws
    /// The delivery log, newest first, optionally only one status or one audit record.
    func notificationDeliveries(status: NotificationDeliveryStatus?, auditSequence: Int?, limit: Int) async throws -> [NotificationDelivery]
}

public enum NotificationChannel: String, Codable, Sendable, Hashable, CaseIterable {
    case webhook, email
}

public enum NotificationDeliveryStatus: String, Codable, Sendable, Hashable, CaseIterable {
    /// Not yet delivered; tried again at `nextAttemptAt`.
    case pending
    case delivered
    /// Given up: refused by the receiver, or still failing after the last attempt.
    case failed
}

/// One message to one webhook endpoint or one email address, with everything needed to send it again
/// after a restart (the request may have changed since; the message describes the change as it was).
public struct NotificationDelivery: Codable, Sendable, Hashable {
    /// Also the webhook's `X-Enclave-Delivery` header and the mail's Message-ID, so receivers can deduplicate.
    public var id: String
    /// The `airlock.status_change` audit record this delivery tells of.
    public var auditSequence: Int
    public var channel: NotificationChannel
    /// The webhook URL or the email address.
    public var target: String
    /// The webhook body (JSON), or the mail as JSON `{subject, body}`.
    public var payload: String
    public var attempts: Int
    public var status: NotificationDeliveryStatus
    public var lastError: String?
    public var createdAt: Double
    public var updatedAt: Double
    public var nextAttemptAt: Double

    public init(
        id: String, auditSequence: Int, channel: NotificationChannel, target: String, payload: String, attempts: Int = 0,
        status: NotificationDeliveryStatus = .pending, lastError: String? = nil, createdAt: Double, updatedAt: Double? = nil,
        nextAttemptAt: Double? = nil
    ) {
        self.id = id
        self.auditSequence = auditSequence
        self.channel = channel
        self.target = target
        self.payload = payload
        self.attempts = attempts
        self.status = status
        self.lastError = lastError
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
        self.nextAttemptAt = nextAttemptAt ?? createdAt
    }
}
