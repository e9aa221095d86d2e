import EnclaveAirlock
import EnclaveCore
import EnclaveStore
import EnclaveTesting
import Foundation
import Logging

/// A store with one airlock request whose status change to `status` is in the audit log, in a workspace
/// with a requester (r1), a manager (m1) and an owner (o1) whose emails are known.
struct NotificationFixture {
    let store: SQLiteStore
    let directory: URL
    let request: AirlockRequest

    static let requester = User(id: "r1", name: "Ravi Researcher", email: "ravi@example.org", roles: ["TREUser"])
    static let manager = User(id: "m1", name: "Mia Manager", email: "mia@example.org", roles: ["TREUser"])
    static let owner = User(id: "o1", name: "Olga Owner", email: "olga@example.org", roles: ["TREUser"])

    static func make(title: String = "Cohort") async throws -> NotificationFixture {
        let directory = try TestPaths.temporaryDirectory("enclave-notify")
        let store = try SQLiteStore(path: directory.appendingPathComponent("enclave.sqlite").path)
        var request = AirlockRequest(
            id: "req-1", workspaceId: "ws-1", type: .import, title: title, businessJustification: "Study", createdBy: requester, now: 1000)
        request.files = [AirlockFile(name: "cohort.csv", size: 12, sha256: String(repeating: "a", count: 64))]
        try await store.createAirlockRequest(request, audit: [])
        var changes = ChangeSet()
        changes.assignRoles = [
            RoleAssignment(workspaceId: "ws-1", userId: "r1", role: .researcher),
            RoleAssignment(workspaceId: "ws-1", userId: "m1", role: .airlockManager),
            RoleAssignment(workspaceId: "ws-1", userId: "o1", role: .owner),
        ]
        try await store.commit(changes)
        for user in [requester, manager, owner] { try await store.recordUserSeen(user, now: 1000) }
        return NotificationFixture(store: store, directory: directory, request: request)
    }

    /// Appends the audit record the processor writes when the request moves to `status`.
    func recordStatusChange(to status: AirlockStatus, message: String? = nil) async throws {
        var next = request
        next.status = status
        next.statusMessage = message
        try await store.appendAudit([AirlockProcessor.statusAudit(id: UUID().uuidString, from: request, to: next, time: 1001)])
    }

    func service(_ settings: AirlockNotificationSettings, now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 })
        -> AirlockNotificationService
    {
        var logger = Logger(label: "enclave.test.notify")
        logger.logLevel = .critical
        return AirlockNotificationService(store: store, settings: settings, publicURL: "https://tre.example.org/", now: now, logger: logger)
    }

    var quietLogger: Logger {
        var logger = Logger(label: "enclave.test.notify")
        logger.logLevel = .critical
        return logger
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}
