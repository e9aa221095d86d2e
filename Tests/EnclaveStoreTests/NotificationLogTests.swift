import EnclaveCore
import EnclaveStore
import EnclaveTesting
import Foundation
import Testing

@Suite("Notification delivery log (SQLite)")
struct NotificationLogTests {
    func store() throws -> (SQLiteStore, URL) {
        let directory = try TestPaths.temporaryDirectory("enclave-notify-log")
        return (try SQLiteStore(path: directory.appendingPathComponent("enclave.sqlite").path), directory)
    }

    @Test("planning stores deliveries with the cursor; a re-planned id is ignored and the cursor never moves back")
    func planningIsIdempotent() async throws {
        let (store, directory) = try store()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(try await store.notificationCursor() == 0)
        let delivery = NotificationDelivery(id: "d1", auditSequence: 5, channel: .email, target: "a@b.org", payload: "{}", createdAt: 10)
        try await store.planNotificationDeliveries([delivery], cursor: 5)
        var changed = delivery
        changed.target = "other@b.org"
        try await store.planNotificationDeliveries([changed], cursor: 3)
        #expect(try await store.notificationCursor() == 5)
        let all = try await store.notificationDeliveries(status: nil, auditSequence: 5, limit: 10)
        #expect(all.map(\.target) == ["a@b.org"])
    }

    @Test("only pending deliveries that are due are handed out, and an update is kept")
    func dueDeliveries() async throws {
        let (store, directory) = try store()
        defer { try? FileManager.default.removeItem(at: directory) }
        let now = NotificationDelivery(id: "now", auditSequence: 1, channel: .webhook, target: "https://h/x", payload: "{}", createdAt: 10)
        let later = NotificationDelivery(
            id: "later", auditSequence: 1, channel: .webhook, target: "https://h/y", payload: "{}", createdAt: 10, nextAttemptAt: 100)
        try await store.planNotificationDeliveries([now, later], cursor: 1)
        #expect(try await store.dueNotificationDeliveries(now: 50, limit: 10).map(\.id) == ["now"])
        var done = now
        done.status = .delivered
        done.attempts = 1
        try await store.updateNotificationDelivery(done)
        #expect(try await store.dueNotificationDeliveries(now: 200, limit: 10).map(\.id) == ["later"])
        #expect(try await store.notificationDeliveries(status: .delivered, auditSequence: nil, limit: 10).map(\.attempts) == [1])
        var unknown = now
        unknown.id = "missing"
        await #expect(throws: EnclaveError.self) { try await store.updateNotificationDelivery(unknown) }
    }
}
