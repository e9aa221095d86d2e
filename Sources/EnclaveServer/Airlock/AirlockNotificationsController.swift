import EnclaveCore
import EnclaveStore
import Foundation
import Hummingbird

/// `GET /api/airlock/notifications`: the notification delivery log, for TREAdmins — the answer to "was
/// the reviewer told?" without reading server logs. Admin-only like the audit log: it names every
/// recipient's address and every webhook.
struct AirlockNotificationsController: Sendable {
    let store: any Store
    let access: Access

    func register(on group: RouterGroup<AuthenticatedContext>) {
        group.get("airlock/notifications", use: list)
    }

    /// One delivery as shown to admins (without its payload, which can be rebuilt from the audit record).
    struct Delivery: Encodable {
        var id: String
        var auditSequence: Int
        var channel: String
        var target: String
        var status: String
        var attempts: Int
        var lastError: String?
        var createdAt: Double
        var updatedAt: Double
        var nextAttemptAt: Double?

        init(_ delivery: NotificationDelivery) {
            id = delivery.id
            auditSequence = delivery.auditSequence
            channel = delivery.channel.rawValue
            target = delivery.target
            status = delivery.status.rawValue
            attempts = delivery.attempts
            lastError = delivery.lastError
            createdAt = delivery.createdAt
            updatedAt = delivery.updatedAt
            nextAttemptAt = delivery.status == .pending ? delivery.nextAttemptAt : nil
        }
    }

    struct Page: Encodable {
        var notificationDeliveries: [Delivery]
    }

    @Sendable func list(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        try access.require(Actor(user: context.user), .readAudit)
        let query = request.uri.queryParameters
        func text(_ name: String) -> String? { query.get(name).flatMap { $0.isEmpty ? nil : String($0) } }
        let status = try text("status").map { value in
            guard let status = NotificationDeliveryStatus(rawValue: value) else {
                throw EnclaveError.unprocessable("'\(value)' is not a delivery status: use pending, delivered or failed")
            }
            return status
        }
        let sequence = try text("auditSequence").map { try AuditController.integer($0, parameter: "auditSequence", range: 1...Int.max) }
        let limit =
            try text("limit").map { try AuditController.integer($0, parameter: "limit", range: 1...AuditController.maxLimit) }
            ?? AuditController.defaultLimit
        let deliveries = try await store.notificationDeliveries(status: status, auditSequence: sequence, limit: limit)
        return try JSONBody.response(Page(notificationDeliveries: deliveries.map(Delivery.init)))
    }
}
