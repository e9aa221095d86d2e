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

    @Test("roles are added and removed idempotently, each real change audited with its role; unknown roles are 400")
    func roles() async throws {
        try await Self.withAdministration { admin, store in
            _ = try await admin.add(username: "ada", name: "Ada", email: "", roles: ["TREAdmin"], password: "first password!")
            let tom = try await admin.add(username: "tom", name: "Tom", email: "", roles: ["TREUser"], password: "tom's password")
            #expect(try await admin.addRole("tom", "TREAdmin").roles == ["TREUser", "TREAdmin"])
            #expect(try await admin.addRole(.id(tom.id), "TREAdmin").roles == ["TREUser", "TREAdmin"])
            #expect(try await admin.removeRole("tom", "TREUser").roles == ["TREAdmin"])
            #expect(try await admin.removeRole("tom", "TREUser").roles == ["TREAdmin"])
            await #expect(throws: EnclaveError.badRequest("Unknown role 'Root': core roles are TREAdmin and TREUser")) {
                _ = try await admin.addRole("tom", "Root")
            }
            await #expect(throws: EnclaveError.self) { _ = try await admin.addRole(.id("no-such-id"), "TREUser") }
            let records = try await store.auditRecords(AuditFilter(action: "user"), after: nil, limit: 10)
                .filter { $0.action == .userRoleAdd || $0.action == .userRoleRemove }
            #expect(records.map(\.action) == [.userRoleAdd, .userRoleRemove])
            #expect(records.map { $0.details["role"] } == ["TREAdmin", "TREUser"])
            #expect(records.allSatisfy { $0.target == "/api/users/\(tom.id)" })
        }
    }

    @Test("the last TREAdmin keeps the role (409, nothing changes, nothing recorded)")
    func lastAdminKeepsRole() async throws {
        try await Self.withAdministration { admin, store in
            _ = try await admin.add(username: "ada", name: "Ada", email: "", roles: ["TREAdmin"], password: "first password!")
            do {
                _ = try await admin.removeRole("ada", "TREAdmin")
                Issue.record("the last admin lost TREAdmin")
            } catch let error as EnclaveError {
                #expect(error.statusCode == 409 && error.message.contains("'ada' is the last TREAdmin"))
            }
            #expect(try await store.user(username: "ada")?.roles == ["TREAdmin"])
            #expect(try await store.auditRecords(AuditFilter(action: "user.role_remove"), after: nil, limit: 10).isEmpty)
        }
    }

    @Test("two operators taking away the only two admins at once: exactly one succeeds, through separate connections")
    func concurrentLastAdminRace() async throws {
        for round in 0..<8 {
            let dir = try TestPaths.temporaryDirectory("enclave-users-race")
            defer { try? FileManager.default.removeItem(at: dir) }
            let path = dir.appendingPathComponent("enclave.sqlite").path
            let first = AccountAdministration(store: try SQLiteStore(path: path), actor: AuditActor(id: "operator:one", name: "One"))
            // A second store on the same file, as a second `enclave users` process would open it.
            let second = AccountAdministration(store: try SQLiteStore(path: path), actor: AuditActor(id: "operator:two", name: "Two"))
            // Invited accounts (no password to hash) count as admins as much as any.
            let a = try await first.invite(username: "a", name: "", email: "a@example.org", roles: ["TREAdmin"]).account
            let b = try await first.invite(username: "b", name: "", email: "b@example.org", roles: ["TREAdmin"]).account
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                group.addTask { (try? await first.setEnabled(.id(a.id), false)) != nil }
                group.addTask { (try? await second.removeRole(.id(b.id), "TREAdmin")) != nil }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1, "round \(round): \(outcomes)")
            #expect(try await first.list().filter(\.isEnabledAdmin).count == 1, "round \(round)")
        }
    }

    @Test("an invitation creates an account without password; re-issuing replaces the link; 409 once a password is set")
    func invitations() async throws {
        try await Self.withAdministration { admin, store in
            let issued = try await admin.invite(username: "Rosa", name: "", email: "rosa@example.org", roles: ["TREUser", "TREUser"])
            #expect(issued.account.username == "rosa" && issued.account.name == "Rosa" && issued.account.roles == ["TREUser"])
            #expect(issued.account.passwordHash == nil && issued.token.count >= 43)
            let hash = AuditChain.sha256Hex(issued.token)
            let stored = try #require(try await store.invitation(tokenHash: hash))
            #expect(stored.userId == issued.account.id && stored.expiresAt == issued.expiresAt && stored.usedAt == nil)

            let again = try await admin.reissueInvitation("rosa")
            #expect(try await store.invitation(tokenHash: hash) == nil)
            #expect(try await store.invitation(tokenHash: AuditChain.sha256Hex(again.token))?.userId == issued.account.id)

            _ = try await admin.resetPassword("rosa", password: "a password now")
            do {
                _ = try await admin.reissueInvitation("rosa")
                Issue.record("an account with a password was invited again")
            } catch let error as EnclaveError {
                #expect(error.statusCode == 409)
            }
            let actions = try await store.auditRecords(AuditFilter(target: "/api/users/\(issued.account.id)"), after: nil, limit: 20)
                .map(\.action)
            #expect(actions == [.userCreate, .userInvite, .userInvite, .userUpdate])
        }
    }

    @Test("bad invitations are 400 or 409 and create nothing")
    func badInvitations() async throws {
        try await Self.withAdministration { admin, store in
            _ = try await admin.invite(username: "taken", name: "", email: "t@example.org", roles: [])
            let cases: [(String, String, String, [String], Int)] = [
                ("no spaces", "", "a@example.org", [], 400),
                ("ok", "", "not-an-email", [], 400),
                ("ok", "Line\nbreak", "a@example.org", [], 400),
                ("ok", "", "a@example.org", ["Root"], 400),
                ("TAKEN", "", "a@example.org", [], 409),
            ]
            for (username, name, email, roles, status) in cases {
                do {
                    _ = try await admin.invite(username: username, name: name, email: email, roles: roles)
                    Issue.record("\(username) \(email) \(roles) was accepted")
                } catch let error as EnclaveError {
                    #expect(error.statusCode == status, "\(username) \(email): \(error)")
                }
            }
            #expect(try await store.users().map(\.username) == ["taken"])
            #expect(try await store.auditRecords(AuditFilter(action: "user"), after: nil, limit: 20).count == 2)
        }
    }
}
