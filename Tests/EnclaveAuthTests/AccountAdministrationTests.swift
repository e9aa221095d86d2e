import EnclaveAuth
import EnclaveCore
import EnclaveStore
import EnclaveTesting
import Foundation
import Testing

@Suite("Account administration (enclave users)")
struct AccountAdministrationTests {
    static func withAdministration(_ body: (AccountAdministration, SQLiteStore) async throws -> Void) async throws {
        let dir = try TestPaths.temporaryDirectory("enclave-users")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try SQLiteStore(path: dir.appendingPathComponent("enclave.sqlite").path)
        try await body(AccountAdministration(store: store, actor: AuditActor(id: "operator:test", name: "Test operator")), store)
    }

    @Test("add, disable, enable, reset-password and reset-mfa change the account and are each audited")
    func lifecycle() async throws {
        try await Self.withAdministration { admin, store in
            let first = try await admin.add(
                username: "Ada", name: "Ada", email: "ada@example.org", roles: ["TREAdmin"], password: "first password!")
            #expect(first.username == "ada")
            _ = try await admin.add(username: "tom", name: "", email: "", roles: ["TREUser"], password: "tom's password")
            #expect(try await admin.list().map(\.username) == ["ada", "tom"])

            #expect(try await admin.setEnabled("TOM", false).enabled == false)
            #expect(try await admin.setEnabled("tom", true).enabled == true)

            var locked = try #require(try await store.user(username: "tom"))
            locked.lockout = .init(failedAttempts: 0, lockedUntil: Date().timeIntervalSince1970 + 600)
            locked.totpSecretSealed = "sealed"
            locked.recoveryCodeHashes = ["x"]
            try await store.updateUser(locked, audit: [])
            let reset = try await admin.resetPassword("tom", password: "a new password")
            #expect(reset.lockout.lockedUntil == nil && reset.passwordHash != locked.passwordHash)
            let mfa = try await admin.resetMFA("tom")
            #expect(mfa.totpSecretSealed == nil && mfa.recoveryCodeHashes.isEmpty)

            let records = try await store.auditRecords(AuditFilter(action: "user"), after: nil, limit: 100)
            #expect(records.map(\.action) == [.userCreate, .userCreate, .userUpdate, .userUpdate, .userUpdate, .userUpdate])
            #expect(records.allSatisfy { $0.actor.id == "operator:test" })
        }
    }

    @Test("the last enabled TREAdmin cannot be disabled (409, nothing changes); with a second admin it can")
    func lastAdmin() async throws {
        try await Self.withAdministration { admin, store in
            _ = try await admin.add(username: "ada", name: "Ada", email: "", roles: ["TREAdmin"], password: "first password!")
            await #expect(throws: EnclaveError.self) { _ = try await admin.setEnabled("ada", false) }
            #expect(try await store.user(username: "ada")?.enabled == true)
            #expect(try await store.auditRecords(AuditFilter(action: "user.update"), after: nil, limit: 10).isEmpty)
            _ = try await admin.add(username: "bob", name: "Bob", email: "", roles: ["TREAdmin"], password: "second password")
            #expect(try await admin.setEnabled("ada", false).enabled == false)
            await #expect(throws: EnclaveError.self) { _ = try await admin.setEnabled("bob", false) }
        }
    }

    @Test("bad usernames, short passwords, unknown roles, taken names and unknown users are refused")
    func badInput() async throws {
        try await Self.withAdministration { admin, _ in
            await #expect(throws: EnclaveError.self) {
                _ = try await admin.add(username: "no spaces", name: "", email: "", roles: [], password: "long enough pw")
            }
            await #expect(throws: EnclaveError.self) {
                _ = try await admin.add(username: "short", name: "", email: "", roles: [], password: "short")
            }
            await #expect(throws: EnclaveError.self) {
                _ = try await admin.add(username: "role", name: "", email: "", roles: ["Root"], password: "long enough pw")
            }
            _ = try await admin.add(username: "taken", name: "", email: "", roles: [], password: "long enough pw")
            await #expect(throws: EnclaveError.self) {
                _ = try await admin.add(username: "TAKEN", name: "", email: "", roles: [], password: "long enough pw")
            }
            await #expect(throws: EnclaveError.self) { _ = try await admin.resetMFA("ghost") }
        }
    }
}
