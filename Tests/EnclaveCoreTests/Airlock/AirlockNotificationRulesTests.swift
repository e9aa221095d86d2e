import EnclaveCore
import Testing

@Suite("Airlock notification rules")
struct AirlockNotificationRulesTests {
    /// r1 requests; m1 and r1 manage the airlock; o1 owns the workspace and also manages it.
    let assignments: [(userId: String, role: WorkspaceRole)] = [
        ("r1", .researcher), ("r1", .airlockManager), ("m1", .airlockManager), ("o1", .owner), ("o1", .airlockManager),
        ("r2", .researcher),
    ]

    static let table: [(AirlockStatus, [AirlockNotificationRole: [String]])] = [
        (.draft, [:]),
        (.submitted, [.requester: ["r1"]]),
        (.inReview, [.airlockManager: ["m1", "o1"]]),
        (.approvalInProgress, [:]),
        (.rejectionInProgress, [:]),
        (.blockingInProgress, [:]),
        (.approved, [.requester: ["r1"]]),
        (.rejected, [.requester: ["r1"]]),
        (.blockedByScan, [.requester: ["r1"], .workspaceOwner: ["o1"]]),
        (.failed, [.requester: ["r1"]]),
        (.cancelled, [.requester: ["r1"]]),
        (.revoked, [.requester: ["r1"], .workspaceOwner: ["o1"]]),
    ]

    @Test("each status tells exactly the people who must act or know", arguments: table)
    func recipientsPerStatus(status: AirlockStatus, expected: [AirlockNotificationRole: [String]]) {
        #expect(AirlockNotificationRules.recipients(status: status, requesterId: "r1", assignments: assignments) == expected)
    }

    @Test("the table covers every status")
    func tableIsComplete() {
        #expect(Set(Self.table.map(\.0)) == Set(AirlockStatus.allCases))
    }

    @Test("a requester who owns the workspace hears of a block once, as the requester")
    func ownerRequesterToldOnce() {
        let recipients = AirlockNotificationRules.recipients(status: .blockedByScan, requesterId: "o1", assignments: assignments)
        #expect(recipients == [.requester: ["o1"]])
    }

    @Test("the manager's mail names workspace, requester, title, status, reason and link")
    func managerMessage() {
        let message = AirlockNotificationMessage.make(
            role: .airlockManager, status: .inReview, type: .export, title: "Cohort", workspaceName: "Diabetes study",
            requesterName: "Ravi Researcher", statusMessage: nil, link: "https://tre.example.org/workspaces/ws/airlock/r")
        #expect(message.subject == "[Enclave] Diabetes study: export request \"Cohort\" is in review")
        #expect(message.body.contains("by Ravi Researcher needs your review"))
        #expect(message.body.contains("Open the request: https://tre.example.org/workspaces/ws/airlock/r"))
        #expect(!message.body.contains("Reason:"))
        let blocked = AirlockNotificationMessage.make(
            role: .requester, status: .blockedByScan, type: .import, title: "Data", workspaceName: "W", requesterName: "R",
            statusMessage: "f.zip: Eicar-Signature", link: "l")
        #expect(blocked.body.contains("Reason:    f.zip: Eicar-Signature"))
        #expect(blocked.body.hasPrefix("Your airlock import request in workspace \"W\" is now blocked by scan."))
    }

    @Test("a webhook signature verifies with its secret only")
    func signature() {
        let body = Array(#"{"event":"airlock.status_changed"}"#.utf8)
        let signature = WebhookSignature.sign(secret: "s3cret", body: body)
        #expect(signature.hasPrefix("sha256=") && signature.count == 7 + 64)
        #expect(WebhookSignature.verify(secret: "s3cret", body: body, signature: signature))
        #expect(!WebhookSignature.verify(secret: "other", body: body, signature: signature))
        #expect(!WebhookSignature.verify(secret: "s3cret", body: body + [0x20], signature: signature))
        #expect(!WebhookSignature.verify(secret: "s3cret", body: body, signature: "sha256=zz"))
    }

    @Test("retries back off exponentially and stop after the last attempt; only 5xx and 429 are retried")
    func retryPolicy() {
        let policy = NotificationRetryPolicy(maxAttempts: 5, baseDelay: 2, maxDelay: 10)
        #expect((1...5).map { policy.delay(afterAttempts: $0) } == [2, 4, 8, 10, nil])
        #expect(NotificationRetryPolicy.classify(httpStatus: 204) == .delivered)
        #expect(NotificationRetryPolicy.classify(httpStatus: 503) == .retry("HTTP 503"))
        #expect(NotificationRetryPolicy.classify(httpStatus: 429) == .retry("HTTP 429"))
        #expect(NotificationRetryPolicy.classify(httpStatus: 400) == .refused("HTTP 400"))
        #expect(NotificationRetryPolicy.classify(httpStatus: 301) == .refused("HTTP 301"))
    }
}
