import AsyncHTTPClient
import Crypto
import EnclaveCore
public import EnclaveStore
import Foundation
public import Logging
public import ServiceLifecycle

/// What the notifier reads and writes.
public typealias AirlockNotificationStore = AuditRepository & NotificationRepository & AirlockRepository & IdentityRepository
    & AccountRepository & ResourceRepository

/// Tells people and systems about airlock status changes: signed webhooks and SMTP mail.
///
/// It follows the audit log rather than being called by the request handlers: every status change is
/// already an `airlock.status_change` record written in the change's own transaction, so nothing can
/// change status without being notified, a slow mail server never slows a request, and the API and the
/// processor need no knowledge of notifications.
///
/// Delivery is at least once: a record's deliveries are planned (stored as `pending`) in the same
/// transaction that moves the cursor past it, and each stays pending until delivered or given up, so a
/// restart resumes retries where they were. Outcomes go to the delivery log, not the audit log (volume);
/// a delivery given up is logged as an error.
public final class AirlockNotificationService: Service, Sendable {
    let store: any AirlockNotificationStore
    public let settings: AirlockNotificationSettings
    /// Where people open Enclave, without a trailing slash: links are `<publicURL>/workspaces/{ws}/airlock/{rid}`.
    let publicURL: String
    let now: @Sendable () -> Double
    let logger: Logger

    public init(
        store: any AirlockNotificationStore, settings: AirlockNotificationSettings, publicURL: String,
        now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }, logger: Logger
    ) {
        self.store = store
        self.settings = settings
        self.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        self.now = now
        self.logger = logger
    }

    public func run() async throws {
        if settings.isEmpty {
            logger.info("airlock notifications are off: no --airlock-webhook or --smtp-host configured")
        }
        let client = WebhookSender.makeClient()
        let sender = WebhookSender(client: client)
        let poll = settings.pollSeconds
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.runOnce(webhooks: sender)
                try? await Task.sleep(for: .seconds(poll))
            }
        }
        try? await client.shutdown()
    }

    /// One pass with a webhook client of its own (tests, one-off runs).
    public func runOnce() async {
        let client = WebhookSender.makeClient()
        await runOnce(webhooks: WebhookSender(client: client))
        try? await client.shutdown()
    }

    /// One pass: plans deliveries for new status changes, then attempts every delivery that is due.
    /// Errors are logged; the next pass tries again from where this one stopped.
    public func runOnce(webhooks: WebhookSender) async {
        do {
            try await planNewRecords()
        } catch {
            if Task.isCancelled { return }
            logger.error("airlock notifications not planned", metadata: ["error": "\(error)"])
        }
        do {
            try await attemptDue(webhooks: webhooks)
        } catch {
            if Task.isCancelled { return }
            logger.error("airlock notifications not sent", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Planning

    func planNewRecords() async throws {
        while !Task.isCancelled {
            let cursor = try await store.notificationCursor()
            let records = try await store.auditRecords(AuditFilter(action: AuditAction.airlockStatusChange.rawValue), after: cursor, limit: 50)
            if records.isEmpty { return }
            for record in records {
                if Task.isCancelled { return }
                let deliveries = settings.isEmpty ? [] : try await plan(record)
                try await store.planNotificationDeliveries(deliveries, cursor: record.sequence)
            }
        }
    }

    /// The deliveries one status change calls for: one per webhook (every change, for systems that track
    /// all of them), one mail per recipient address (only the changes `AirlockNotificationRules` names).
    func plan(_ record: AuditRecord) async throws -> [NotificationDelivery] {
        let parts = record.target.split(separator: "/")
        guard parts.count == 4, parts[0] == "workspaces", parts[2] == "requests",
            let status = record.details["status"]?.stringValue.flatMap(AirlockStatus.init(rawValue:))
        else {
            logger.warning("airlock status record not understood; no notification", metadata: ["sequence": "\(record.sequence)"])
            return []
        }
        let workspaceId = String(parts[1])
        let requestId = String(parts[3])
        guard let request = try await store.airlockRequest(id: requestId) else {
            logger.warning("airlock request of a status record is gone; no notification", metadata: ["request": "\(requestId)"])
            return []
        }
        let previous = record.details["previousStatus"]?.stringValue
        let statusMessage = record.details["statusMessage"]?.stringValue
        let workspaceName = try await store.resource(id: workspaceId)?.properties["display_name"]?.stringValue ?? workspaceId
        let assignments = try await store.assignments(workspaceId: workspaceId).map { (userId: $0.userId, role: $0.role) }
        let recipientIds = AirlockNotificationRules.recipients(status: status, requesterId: request.createdBy.id, assignments: assignments)
        let emails = try await emailAddresses(of: Set(recipientIds.values.joined()), requester: request.createdBy)
        var emailsByRole: [AirlockNotificationRole: [String]] = [:]
        for (role, ids) in recipientIds {
            let addresses = ids.compactMap { emails[$0] }
            for id in ids where emails[id] == nil {
                // Azure TRE's airlock broke on users without an email (its #2262); here they are only not mailed.
                logger.notice("no email address known for an airlock notification recipient", metadata: ["user": "\(id)"])
            }
            if !addresses.isEmpty { emailsByRole[role] = addresses }
        }
        let link = "\(publicURL)/workspaces/\(workspaceId)/airlock/\(requestId)"
        let time = now()
        var deliveries: [NotificationDelivery] = []
        if !settings.webhooks.isEmpty {
            let body: JSONValue = [
                "event": "airlock.status_changed",
                "sequence": .int(record.sequence),
                "time": .double(record.time),
                "request": [
                    "id": .string(request.id), "type": .string(request.type.rawValue), "title": .string(request.title),
                    "status": .string(status.rawValue), "previousStatus": previous.map(JSONValue.string) ?? .null,
                    "statusMessage": statusMessage.map(JSONValue.string) ?? .null,
                    "workspaceId": .string(workspaceId), "workspaceName": .string(workspaceName),
                    "requester": [
                        "id": .string(request.createdBy.id), "name": .string(request.createdBy.name), "email": .string(request.createdBy.email),
                    ],
                    "files": .array(request.files.map { ["name": .string($0.name), "size": .int($0.size), "sha256": .string($0.sha256)] }),
                ],
                "recipients": .object(emailsByRole.reduce(into: [:]) { $0[$1.key.rawValue] = .array($1.value.map(JSONValue.string)) }),
                "link": .string(link),
            ]
            for endpoint in settings.webhooks {
                deliveries.append(
                    NotificationDelivery(
                        id: Self.deliveryId(record.sequence, .webhook, endpoint.url), auditSequence: record.sequence, channel: .webhook,
                        target: endpoint.url, payload: body.description, createdAt: time))
            }
        }
        if settings.smtp != nil {
            var mailed: Set<String> = []
            for role in emailsByRole.keys.sorted() {
                for address in emailsByRole[role] ?? [] where !mailed.contains(address.lowercased()) {
                    mailed.insert(address.lowercased())
                    let message = AirlockNotificationMessage.make(
                        role: role, status: status, type: request.type, title: request.title, workspaceName: workspaceName,
                        requesterName: request.createdBy.name, statusMessage: statusMessage, link: link)
                    deliveries.append(
                        NotificationDelivery(
                            id: Self.deliveryId(record.sequence, .email, address), auditSequence: record.sequence, channel: .email,
                            target: address, payload: try Self.encode(message), createdAt: time))
                }
            }
        }
        return deliveries
    }

    /// Email addresses by user id: the addresses users last signed in with, then built-in accounts',
    /// then the requester's as recorded on the request.
    func emailAddresses(of ids: Set<String>, requester: User) async throws -> [String: String] {
        var result: [String: String] = [:]
        for user in try await store.knownUsers(ids: Array(ids)) where SMTPAddress.isValid(user.email) { result[user.id] = user.email }
        if ids.contains(where: { result[$0] == nil }) {
            for account in try await store.users() where ids.contains(account.id) && result[account.id] == nil && SMTPAddress.isValid(account.email) {
                result[account.id] = account.email
            }
        }
        if result[requester.id] == nil, ids.contains(requester.id), SMTPAddress.isValid(requester.email) { result[requester.id] = requester.email }
        return result
    }

    /// Stable for one record, channel and target, so planning a record twice cannot double its deliveries.
    static func deliveryId(_ sequence: Int, _ channel: NotificationChannel, _ target: String) -> String {
        let digest = SHA256.hash(data: Data("\(sequence)|\(channel.rawValue)|\(target)".utf8))
        return "ntf-\(sequence)-" + digest.prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    static func encode(_ message: AirlockNotificationMessage) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(message), as: UTF8.self)
    }

    // MARK: Sending

    func attemptDue(webhooks: WebhookSender) async throws {
        while !Task.isCancelled {
            let due = try await store.dueNotificationDeliveries(now: now(), limit: 20)
            if due.isEmpty { return }
            // Deliveries of one batch run concurrently: one slow receiver does not hold up the others.
            await withTaskGroup(of: Void.self) { group in
                for delivery in due {
                    group.addTask { await self.attempt(delivery, webhooks: webhooks) }
                }
            }
        }
    }

    func attempt(_ delivery: NotificationDelivery, webhooks: WebhookSender) async {
        let result: NotificationAttemptResult
        switch delivery.channel {
        case .webhook:
            if let endpoint = settings.webhooks.first(where: { $0.url == delivery.target }) {
                result = await webhooks.send(to: endpoint, deliveryId: delivery.id, body: Array(delivery.payload.utf8))
            } else {
                result = .refused("the webhook is no longer configured")
            }
        case .email:
            result = await sendMail(delivery)
        }
        var next = delivery
        next.attempts += 1
        next.updatedAt = now()
        switch result {
        case .delivered:
            next.status = .delivered
            next.lastError = nil
        case .retry(let reason):
            next.lastError = reason
            if let delay = settings.retry.delay(afterAttempts: next.attempts) {
                next.nextAttemptAt = next.updatedAt + delay
            } else {
                next.status = .failed
            }
        case .refused(let reason):
            next.lastError = reason
            next.status = .failed
        }
        if next.status == .failed {
            logger.error(
                "airlock notification given up",
                metadata: [
                    "delivery": "\(next.id)", "channel": "\(next.channel.rawValue)", "target": "\(next.target)", "attempts": "\(next.attempts)",
                    "error": "\(next.lastError ?? "")",
                ])
        }
        do {
            try await store.updateNotificationDelivery(next)
        } catch {
            // Still pending in the log: it will be sent again (at least once, possibly twice).
            logger.error("airlock notification outcome not recorded", metadata: ["delivery": "\(next.id)", "error": "\(error)"])
        }
    }

    func sendMail(_ delivery: NotificationDelivery) async -> NotificationAttemptResult {
        guard let smtp = settings.smtp else { return .refused("SMTP is no longer configured") }
        guard let message = try? JSONDecoder().decode(AirlockNotificationMessage.self, from: Data(delivery.payload.utf8)) else {
            return .refused("the stored message is not readable")
        }
        let text = NotificationMail.render(
            from: smtp.from, to: delivery.target, subject: message.subject, body: message.body, messageId: delivery.id,
            date: Date(timeIntervalSince1970: now()))
        do {
            try await SMTPClient(settings: smtp).send(from: smtp.from, to: [delivery.target], message: text)
            return .delivered
        } catch {
            guard let smtpError = error as? SMTPError else { return .retry("\(error)") }
            return smtpError.permanent ? .refused(smtpError.description) : .retry(smtpError.description)
        }
    }
}
