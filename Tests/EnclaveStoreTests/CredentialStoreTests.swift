import EnclaveCore
import EnclaveStore
import EnclaveTesting
import Foundation
import Testing

/// Sessions and refresh tokens in SQLite: rotation is atomic, reuse revokes the family.
@Suite("Credentials (SQLite)")
struct CredentialStoreTests {
    let policy = RefreshTokenPolicy()

    func openStore() throws -> SQLiteStore {
        try SQLiteStore(path: TestPaths.temporaryDirectory("credentials").appendingPathComponent("enclave.sqlite").path)
    }

    func entry(_ action: AuditAction) -> AuditEntry {
        AuditEntry(id: UUID().uuidString, time: 1, actor: AuditActor(id: "u", name: "U"), action: action, target: "/oidc/users/u")
    }

    @Test("two concurrent rotations of one refresh token: exactly one succeeds, the other is reuse and revokes the family")
    func concurrentRotation() async throws {
        let store = try openStore()
        let first = policy.first(id: "t0", userId: "u", clientId: "cli", amr: ["pwd", "otp"], now: 0)
        try await store.saveRefreshToken(first, audit: [])
        let policy = policy
        let refresh = entry(.tokenRefresh)
        let reuse = entry(.tokenReuse)
        async let a = store.rotateRefreshToken(
            id: "t0", clientId: "cli", now: 1, successor: { $0.successor(id: "ta", now: 1, policy: policy) },
            audit: { _ in [refresh] }, reuseAudit: { _ in [reuse] })
        async let b = store.rotateRefreshToken(
            id: "t0", clientId: "cli", now: 1, successor: { $0.successor(id: "tb", now: 1, policy: policy) },
            audit: { _ in [refresh] }, reuseAudit: { _ in [reuse] })
        let outcomes = try await [a, b]
        let rotated = outcomes.compactMap { if case .rotated(let token) = $0 { token } else { nil } }
        let reused = outcomes.filter { if case .refused(.reused, _) = $0 { true } else { false } }
        #expect(rotated.count == 1 && reused.count == 1)
        // The successor that was issued is revoked with its family.
        let issued = try #require(rotated.first)
        let successor = try #require(try await store.refreshToken(id: issued.id))
        #expect(successor.revokedAt != nil)
        let actions = try await store.auditRecords(AuditFilter(), after: nil, limit: 10).map(\.action)
        #expect(actions == [.tokenRefresh, .tokenReuse])
    }

    @Test("a refused rotation (other client, expired) changes nothing")
    func refusedRotationChangesNothing() async throws {
        let store = try openStore()
        let first = policy.first(id: "t0", userId: "u", clientId: "cli", amr: [], now: 0)
        try await store.saveRefreshToken(first, audit: [])
        let outcome = try await store.rotateRefreshToken(
            id: "t0", clientId: "other", now: 1, successor: { $0 }, audit: { _ in [] }, reuseAudit: { _ in [] })
        #expect(outcome == .refused(.clientMismatch, first))
        #expect(try await store.refreshToken(id: "t0") == first)
        let unknown = try await store.rotateRefreshToken(
            id: "nope", clientId: "cli", now: 1, successor: { $0 }, audit: { _ in [] }, reuseAudit: { _ in [] })
        #expect(unknown == .unknown)
    }

    @Test("sessions: created, touched forward only, ended once; ending a user's credentials ends sessions and revokes tokens")
    func sessions() async throws {
        let store = try openStore()
        let user = User(id: "u", name: "U", email: "u@x", roles: ["TREUser"])
        let session = BrowserSession(id: "s1", user: user, amr: ["pwd"], csrf: "c", issuer: "i", idToken: nil, createdAt: 10)
        try await store.createSession(session, audit: [entry(.sessionStart)])
        try await store.touchSession(id: "s1", at: 50)
        try await store.touchSession(id: "s1", at: 20)
        #expect(try await store.session(id: "s1")?.lastSeenAt == 50)
        try await store.saveRefreshToken(policy.first(id: "t0", userId: "u", clientId: "cli", amr: [], now: 10), audit: [])
        #expect(try await store.endCredentials(userId: "u", at: 60, audit: [entry(.userUpdate)]) == 1)
        #expect(try await store.session(id: "s1")?.endedAt == 60)
        #expect(try await store.refreshToken(id: "t0")?.revokedAt == 60)
        #expect(try await store.endSession(id: "s1", at: 70, audit: [entry(.signOut)]) == false)
    }
}
