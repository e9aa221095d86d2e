import EnclaveCore
import Testing

@Suite("Refresh tokens, device grants and sessions (rules)")
struct CredentialRulesTests {
    let policy = RefreshTokenPolicy(idle: 100, absolute: 1000)

    @Test("a refresh token is usable once by its own client before it expires; a spent one is reuse")
    func refreshRefusals() {
        var token = policy.first(id: "h1", userId: "u", clientId: "cli", amr: ["pwd", "otp"], now: 0)
        #expect(token.expiresAt == 100)
        #expect(token.refusal(clientId: "cli", now: 50) == nil)
        #expect(token.refusal(clientId: "other", now: 50) == .clientMismatch)
        #expect(token.refusal(clientId: "cli", now: 100) == .expired)
        token.revokedAt = 60
        #expect(token.refusal(clientId: "cli", now: 61) == .revoked)
        token.spentAt = 55
        // Spent wins over revoked: a replay is always recorded as reuse.
        #expect(token.refusal(clientId: "cli", now: 61) == .reused)
    }

    @Test("successors keep the family, user, client and amr; no successor outlives the family's absolute limit")
    func successors() {
        let first = policy.first(id: "h1", userId: "u", clientId: "cli", amr: ["pwd", "otp"], now: 0)
        let second = first.successor(id: "h2", now: 90, policy: policy)
        #expect(second.family == "h1" && second.userId == "u" && second.clientId == "cli" && second.amr == ["pwd", "otp"])
        #expect(second.expiresAt == 190)
        let late = first.successor(id: "h3", now: 950, policy: policy)
        #expect(late.expiresAt == 1000)
    }

    @Test("device polls: pending, slow_down when faster than the interval (interval grows by 5 s), approval once, then expired")
    func devicePolls() {
        var grant = DeviceGrant(clientId: "cli", userCode: "BCDF-GHJK", createdAt: 0)
        var result: DeviceGrant.PollResult
        (grant, result) = grant.poll(clientId: "cli", now: 1)
        #expect(result == .pending)
        (grant, result) = grant.poll(clientId: "cli", now: 3)
        #expect(result == .slowDown && grant.interval == 10)
        (grant, result) = grant.poll(clientId: "cli", now: 14)
        #expect(result == .pending)
        (grant, result) = grant.poll(clientId: "other", now: 30)
        #expect(result == .clientMismatch && result.errorCode == "invalid_grant")
        grant.approval = .init(userId: "u", amr: ["pwd", "otp"])
        (grant, result) = grant.poll(clientId: "cli", now: 30)
        #expect(result == .approved(.init(userId: "u", amr: ["pwd", "otp"])))
        (grant, result) = grant.poll(clientId: "cli", now: 45)
        #expect(result == .expired && result.errorCode == "expired_token")
    }

    @Test("a device grant expires after 10 minutes; a denied one answers access_denied")
    func deviceExpiryAndDenial() {
        var grant = DeviceGrant(clientId: "cli", userCode: "BCDF-GHJK", createdAt: 0)
        #expect(grant.poll(clientId: "cli", now: DeviceGrant.lifetime).result == .expired)
        grant.denied = true
        #expect(grant.poll(clientId: "cli", now: 10).result == .denied)
    }

    @Test("user codes: eight consonants shown as XXXX-XXXX; typed in any case, with or without the dash")
    func userCodes() {
        var generator = SystemRandomNumberGenerator()
        let code = DeviceGrant.makeUserCode(using: &generator)
        #expect(code.count == 9 && code.dropFirst(4).first == "-")
        #expect(DeviceGrant.normalize(userCode: code) == code)
        #expect(DeviceGrant.normalize(userCode: "bcdf ghjk") == "BCDF-GHJK")
        #expect(DeviceGrant.normalize(userCode: "BCDFGHJK") == "BCDF-GHJK")
        #expect(DeviceGrant.normalize(userCode: "ABCD-EFGH") == nil)  // vowels are never issued
        #expect(DeviceGrant.normalize(userCode: "BCDF-GHJ") == nil)
    }

    @Test("sessions: active until the idle or the absolute limit; ended ones stay ended; touched at most once per interval")
    func sessionStates() {
        let policy = SessionPolicy(idle: 1800, absolute: 43_200, touchInterval: 60)
        var session = BrowserSession(
            id: "h", user: User(id: "u", name: "U", email: "u@x", roles: []), amr: ["pwd", "otp"], csrf: "c", issuer: "i",
            idToken: nil, createdAt: 0)
        #expect(policy.state(of: session, now: 1799) == .active)
        #expect(policy.state(of: session, now: 1800) == .idleTimeout)
        #expect(!policy.shouldTouch(session, now: 59) && policy.shouldTouch(session, now: 60))
        session.lastSeenAt = 43_000
        #expect(policy.state(of: session, now: 43_100) == .active)
        #expect(policy.state(of: session, now: 43_200) == .absoluteTimeout)
        session.endedAt = 10
        #expect(policy.state(of: session, now: 20) == .ended)
    }

    @Test("automation client ids: 3–64 lower-case letters, digits, dashes; the enclave- prefix is reserved")
    func clientIds() {
        #expect(AutomationClient.problem(id: "ci-pipeline") == nil)
        #expect(AutomationClient.problem(id: "CI") != nil)
        #expect(AutomationClient.problem(id: "-x-") != nil)
        #expect(AutomationClient.problem(id: "enclave-cli") != nil)
    }
}
