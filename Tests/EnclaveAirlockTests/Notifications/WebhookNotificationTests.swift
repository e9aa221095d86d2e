import EnclaveAirlock
import EnclaveCore
import EnclaveStore
import EnclaveTesting
import Foundation
import Testing

@Suite("Airlock webhooks")
struct WebhookNotificationTests {
    static let secret = "whsec-test-1"

    func settings(_ url: String, attempts: Int = 5) -> AirlockNotificationSettings {
        AirlockNotificationSettings(
            webhooks: [WebhookEndpoint(url: url, secret: Self.secret)], retry: NotificationRetryPolicy(maxAttempts: attempts, baseDelay: 0))
    }

    @Test("a 503 is retried; the second attempt is delivered, signed with the secret, and logged as delivered after 2 attempts")
    func retriedAfterServiceUnavailable() async throws {
        let fixture = try await NotificationFixture.make()
        defer { fixture.remove() }
        try await fixture.recordStatusChange(to: .inReview)
        try await WebhookReceiver.with(script: [503]) { receiver, url in
            let service = fixture.service(settings(url))
            await service.runOnce()

            let received = await receiver.received
            #expect(received.count == 2)
            for request in received {
                let signature = try #require(request.headers["x-enclave-signature"])
                #expect(WebhookSignature.verify(secret: Self.secret, body: request.body, signature: signature))
                #expect(!WebhookSignature.verify(secret: "wrong", body: request.body, signature: signature))
            }
            #expect(Set(received.compactMap { $0.headers["x-enclave-delivery"] }).count == 1, "a retry carries the same delivery id")
            let json = try #require(received.last).json
            #expect(json["event"] == "airlock.status_changed")
            #expect(json["request"]?["id"] == "req-1")
            #expect(json["request"]?["status"] == "in_review")
            #expect(json["request"]?["previousStatus"] == "draft")
            #expect(json["request"]?["workspaceId"] == "ws-1")
            #expect(json["request"]?["requester"]?["email"] == "ravi@example.org")
            #expect(json["request"]?["files"] == [["name": "cohort.csv", "size": 12, "sha256": .string(String(repeating: "a", count: 64))]])
            #expect(json["recipients"] == ["airlock_manager": ["mia@example.org"]])
            #expect(json["link"] == "https://tre.example.org/workspaces/ws-1/airlock/req-1")

            let log = try await fixture.store.notificationDeliveries(status: nil, auditSequence: nil, limit: 10)
            #expect(log.count == 1)
            #expect(log.first?.status == .delivered)
            #expect(log.first?.attempts == 2)
            #expect(log.first?.channel == .webhook)
            #expect(log.first?.target == url)

            // The cursor moved past the record: another pass sends nothing again.
            await service.runOnce()
            #expect(await receiver.received.count == 2)
        }
    }

    @Test("a 400 is refused for good: one attempt, logged as failed with the status")
    func refusedIsNotRetried() async throws {
        let fixture = try await NotificationFixture.make()
        defer { fixture.remove() }
        try await fixture.recordStatusChange(to: .approved)
        try await WebhookReceiver.with(script: [400, 400]) { receiver, url in
            let service = fixture.service(settings(url))
            await service.runOnce()
            await service.runOnce()
            #expect(await receiver.received.count == 1)
            let log = try await fixture.store.notificationDeliveries(status: nil, auditSequence: nil, limit: 10)
            #expect(log.map(\.status) == [.failed])
            #expect(log.first?.attempts == 1)
            #expect(log.first?.lastError == "HTTP 400")
        }
    }

    @Test("a receiver failing every attempt is given up after the last one")
    func givenUpAfterMaxAttempts() async throws {
        let fixture = try await NotificationFixture.make()
        defer { fixture.remove() }
        try await fixture.recordStatusChange(to: .rejected)
        try await WebhookReceiver.with(script: [500, 502, 429, 200]) { receiver, url in
            let service = fixture.service(settings(url, attempts: 3))
            await service.runOnce()
            #expect(await receiver.received.count == 3)
            let log = try await fixture.store.notificationDeliveries(status: nil, auditSequence: nil, limit: 10)
            #expect(log.map(\.status) == [.failed])
            #expect(log.first?.attempts == 3)
            #expect(log.first?.lastError == "HTTP 429")
        }
    }

    @Test("a pending retry survives a restart: a new service on the same database sends it when due")
    func pendingRetrySurvivesRestart() async throws {
        let fixture = try await NotificationFixture.make()
        defer { fixture.remove() }
        try await fixture.recordStatusChange(to: .blockedByScan, message: "cohort.csv: Eicar-Signature")
        try await WebhookReceiver.with(script: [503]) { receiver, url in
            var slow = settings(url)
            slow.retry = NotificationRetryPolicy(maxAttempts: 5, baseDelay: 3600)
            let first = fixture.service(slow)
            await first.runOnce()
            #expect(await receiver.received.count == 1)
            let pending = try await fixture.store.notificationDeliveries(status: .pending, auditSequence: nil, limit: 10)
            #expect(pending.count == 1)

            // "Restart": a new store and service on the same file, an hour later.
            let reopened = try SQLiteStore(path: fixture.directory.appendingPathComponent("enclave.sqlite").path)
            let later = Date().timeIntervalSince1970 + 3700
            let second = AirlockNotificationService(
                store: reopened, settings: slow, publicURL: "https://tre.example.org", now: { later }, logger: fixture.quietLogger)
            await second.runOnce()
            let received = await receiver.received
            #expect(received.count == 2)
            #expect(received.last?.json["request"]?["statusMessage"] == "cohort.csv: Eicar-Signature")
            #expect(received.last?.json["recipients"] == ["requester": ["ravi@example.org"], "workspace_owner": ["olga@example.org"]])
            let log = try await reopened.notificationDeliveries(status: nil, auditSequence: nil, limit: 10)
            #expect(log.map(\.status) == [.delivered])
            #expect(log.first?.attempts == 2)
        }
    }

    @Test("with nothing configured the cursor still advances, so enabling webhooks later does not replay old changes")
    func nothingConfiguredSkipsHistory() async throws {
        let fixture = try await NotificationFixture.make()
        defer { fixture.remove() }
        try await fixture.recordStatusChange(to: .submitted)
        await fixture.service(AirlockNotificationSettings()).runOnce()
        #expect(try await fixture.store.notificationCursor() > 0)
        try await WebhookReceiver.with { receiver, url in
            await fixture.service(settings(url)).runOnce()
            #expect(await receiver.received.isEmpty)
        }
    }

    @Test("bad webhook and SMTP settings are refused with what to fix")
    func badSettings() {
        #expect(throws: EnclaveError.self) { try WebhookEndpoint(url: "ftp://x", secret: "s").validate() }
        #expect(throws: EnclaveError.self) { try WebhookEndpoint(url: "https://hooks.example.org/x", secret: "").validate() }
        #expect(throws: EnclaveError.self) { try SMTPSettings(host: "mail", from: "not an address").validate() }
        #expect(throws: EnclaveError.self) { try SMTPSettings(host: "mail", port: 0, from: "a@b.org").validate() }
        #expect(throws: EnclaveError.self) {
            try SMTPSettings(host: "mail", tls: .off, username: "u", password: "p", from: "a@b.org").validate()
        }
        #expect(throws: Never.self) { try SMTPSettings(host: "mail", username: "u", password: "p", from: "a@b.org").validate() }
    }
}
