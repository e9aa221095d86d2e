// Notifications end to end: a request submitted through the API reaches review, and the managers'
// webhook arrives signed — the notifier follows the audit log, the handlers know nothing of it.
import EnclaveAirlock
import EnclaveCore
import EnclaveServer
import EnclaveStore
import EnclaveTesting
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Airlock notifications through the API")
struct AirlockNotificationAPITests {
    @Test("a submitted request reaches in_review and the webhook names the workspace's managers, signed with the secret")
    func submittedRequestNotifiesManagers() async throws {
        try await WebhookReceiver.with { receiver, url in
            let notifications = AirlockNotificationSettings(webhooks: [WebhookEndpoint(url: url, secret: "e2e-secret")], pollSeconds: 0.2)
            let enclave = try await TestEnclave.make(
                templatesDir: try TestPaths.combinedTemplates(),
                airlock: AirlockServerSettings(processing: AirlockSettings(pollSeconds: 0.2), scanner: .none, notifications: notifications))
            defer { enclave.remove() }
            let app = try buildApplication(enclave.deps)
            try await app.test(.router) { client in
                let api = APIClient(client: client, enclave: enclave)
                let ws = try await api.airlockWorkspace()
                // The managers have used Enclave once, so their email addresses are known.
                for user in [TestUsers.manager, manager2] { _ = try await api.call(.get, "/api/workspaces/\(ws)/requests", as: user) }
                let rid = try await api.newRequest(ws, type: "import")
                let upload = try await api.put(
                    "/api/workspaces/\(ws)/requests/\(rid)/files/data.csv", Array("a,b\n1,2\n".utf8), as: TestUsers.researcher)
                #expect(upload.status == .created, "\(upload.text)")
                #expect(try await api.call(.post, "/api/workspaces/\(ws)/requests/\(rid)/submit", as: TestUsers.researcher).status == .ok)
                try await api.waitFor("in_review", ws, rid)

                var review: WebhookReceiver.Received?
                let deadline = Date().addingTimeInterval(20)
                while review == nil, Date() < deadline {
                    review = await receiver.received.first { $0.json["request"]?["status"] == "in_review" }
                    if review == nil { try await Task.sleep(for: .milliseconds(100)) }
                }
                let received = try #require(review, "no in_review webhook arrived")
                let signature = try #require(received.headers["x-enclave-signature"])
                #expect(WebhookSignature.verify(secret: "e2e-secret", body: received.body, signature: signature))
                let json = received.json
                #expect(json["request"]?["id"] == .string(rid))
                #expect(json["request"]?["previousStatus"] == "submitted")
                #expect(json["request"]?["workspaceName"] == "Test tre-workspace-base")
                #expect(json["request"]?["title"] == "Cohort")
                #expect(json["request"]?["requester"]?["email"] == .string(TestUsers.researcher.email))
                #expect(json["request"]?["files"]?.arrayValue?.map { $0["name"] } == ["data.csv"])
                #expect(json["recipients"] == ["airlock_manager": [.string(TestUsers.manager.email), .string(manager2.email)]])
                #expect(json["link"] == .string("\(enclave.deps.configuration.resolvedPublicURL)/workspaces/\(ws)/airlock/\(rid)"))

                // The submit receipt went to the requester as well, as its own delivery.
                let statuses = await receiver.received.compactMap { $0.json["request"]?["status"]?.stringValue }
                #expect(statuses.contains("submitted"))
                let log = try await enclave.deps.store.notificationDeliveries(status: .delivered, auditSequence: nil, limit: 50)
                #expect(log.count >= 2)

                // Admins read the delivery log through the API; anything but a known status is refused.
                let listed = try await api.call(.get, "/api/airlock/notifications?status=delivered", as: TestUsers.admin)
                #expect(listed.status == .ok)
                let entries = listed.json["notificationDeliveries"]?.arrayValue ?? []
                #expect(entries.count == log.count)
                #expect(entries.allSatisfy { $0["channel"] == "webhook" && $0["target"] == .string(url) && $0["status"] == "delivered" })
                #expect(entries.first?["payload"] == nil, "payloads stay in the database")
                #expect(try await api.call(.get, "/api/airlock/notifications?status=sent", as: TestUsers.admin).status == .unprocessableContent)
            }
        }
    }
}
