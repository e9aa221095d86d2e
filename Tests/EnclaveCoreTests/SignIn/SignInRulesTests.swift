import EnclaveCore
import Foundation
import Testing

@Suite struct PKCETests {
    // RFC 7636 Appendix B.
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

    @Test func theRFCExampleVerifierMatchesItsChallenge() {
        #expect(PKCE.challenge(for: verifier) == challenge)
        #expect(PKCE.verify(verifier: verifier, challenge: challenge))
        #expect(PKCE.isWellFormedChallenge(challenge))
    }

    @Test func aDifferentVerifierIsRefused() {
        #expect(!PKCE.verify(verifier: verifier.replacingOccurrences(of: "d", with: "e"), challenge: challenge))
    }

    @Test func aTooShortVerifierIsRefusedEvenIfItHashesRight() {
        #expect(!PKCE.verify(verifier: "short", challenge: PKCE.challenge(for: "short")))
    }

    @Test func aPlainChallengeIsNotWellFormed() {
        #expect(!PKCE.isWellFormedChallenge("plain-challenge"))
    }
}

@Suite struct AuthorizationCodeTests {
    let verifier = String(repeating: "v", count: 50)
    var code: AuthorizationCode {
        AuthorizationCode(
            clientId: "enclave-cli", redirectURI: "http://127.0.0.1:5000/callback",
            codeChallenge: PKCE.challenge(for: verifier), userId: "u", amr: ["pwd", "otp"], nonce: nil, issuedAt: 1000)
    }

    @Test func aFreshCodeRedeemsOnceThenIsAReplay() {
        let first = code.redeem(clientId: "enclave-cli", redirectURI: "http://127.0.0.1:5000/callback", verifier: verifier, now: 1010)
        #expect(first.refusal == nil)
        let second = first.code.redeem(
            clientId: "enclave-cli", redirectURI: "http://127.0.0.1:5000/callback", verifier: verifier, now: 1011)
        #expect(second.refusal == .replayed)
    }

    @Test func aCodeOlderThanSixtySecondsHasExpired() {
        #expect(code.redeem(clientId: "enclave-cli", redirectURI: "http://127.0.0.1:5000/callback", verifier: verifier, now: 1061).refusal == .expired)
    }

    @Test func theCodeIsBoundToClientRedirectAndVerifier() {
        #expect(code.redeem(clientId: "enclave-portal", redirectURI: "http://127.0.0.1:5000/callback", verifier: verifier, now: 1001).refusal == .clientMismatch)
        #expect(code.redeem(clientId: "enclave-cli", redirectURI: "http://127.0.0.1:5001/callback", verifier: verifier, now: 1001).refusal == .redirectMismatch)
        let wrong = code.redeem(clientId: "enclave-cli", redirectURI: "http://127.0.0.1:5000/callback", verifier: verifier + "x", now: 1001)
        #expect(wrong.refusal == .pkceMismatch)
        #expect(wrong.code.redeemed, "a code presented with a wrong verifier cannot be tried again")
    }
}

@Suite struct LockoutPolicyTests {
    let policy = LockoutPolicy(maxFailures: 3, lockout: 60)

    @Test func theThirdFailureLocksTheAccountUntilTheLockoutEnds() {
        var state = LockoutPolicy.State()
        var locked: [Bool] = []
        for _ in 0..<3 {
            let result = policy.afterFailure(state, now: 100)
            state = result.state
            locked.append(result.lockedNow)
        }
        #expect(locked == [false, false, true])
        #expect(policy.isLocked(state, now: 159))
        #expect(!policy.isLocked(state, now: 160))
    }

    @Test func failuresWhileLockedDoNotExtendTheLock() {
        let state = LockoutPolicy.State(failedAttempts: 0, lockedUntil: 160)
        let result = policy.afterFailure(state, now: 120)
        #expect(result.state == state && !result.lockedNow)
    }

    @Test func aSuccessResetsTheCount() {
        #expect(policy.afterSuccess(.init(failedAttempts: 2)) == .init())
    }

    @Test func aRateLimitAllowsLimitEventsPerWindow() {
        let limit = RateLimit(limit: 2, window: 10)
        var state: RateLimit.State?
        var allowed: [Bool] = []
        for now in [0.0, 1, 2, 11] {
            let result = limit.record(state, now: now)
            state = result.state
            allowed.append(result.allowed)
        }
        #expect(allowed == [true, true, false, true])
    }
}

@Suite struct OIDCClientTests {
    let clients = OIDCClient.builtIn(publicURL: "https://tre.example.org")

    @Test func thePortalAcceptsOnlyItsExactRedirect() {
        let portal = clients[0]
        #expect(portal.allows(redirectURI: "https://tre.example.org/auth/callback"))
        #expect(!portal.allows(redirectURI: "https://tre.example.org/auth/callback/../x"))
        #expect(!portal.allows(redirectURI: "https://evil.example.org/auth/callback"))
    }

    @Test(arguments: [
        ("http://127.0.0.1:53123/callback", true), ("http://[::1]:8080/callback", true),
        ("http://127.0.0.1:53123/callback?x=1", false), ("http://127.0.0.1/callback", false),
        ("http://localhost:53123/callback", false), ("http://127.0.0.1:53123@evil.org/callback", false),
        ("http://127.0.0.1:99999/callback", false),
    ])
    func theCLIAcceptsAnyLoopbackPortWithItsPath(uri: String, allowed: Bool) {
        #expect(clients[1].allows(redirectURI: uri) == allowed)
    }

    @Test func usernamesAndPasswordsAreChecked() {
        #expect(UserAccount.problem(username: "Ada.Admin") == nil)
        #expect(UserAccount.problem(username: "ada admin") != nil)
        #expect(UserAccount.problem(password: "short") != nil)
        #expect(UserAccount.problem(password: String(repeating: "é", count: 40)) != nil)
        #expect(UserAccount.problem(password: "correct horse battery") == nil)
    }
}
