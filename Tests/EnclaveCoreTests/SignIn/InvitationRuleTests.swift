import EnclaveCore
import Testing

@Suite("Invitation links")
struct InvitationRuleTests {
    static let invited = UserAccount(id: "u1", username: "rosa", name: "Rosa", email: "rosa@example.org", roles: ["TREUser"], createdAt: 0)
    static let invitation = Invitation(userId: "u1", tokenHash: "h", issuedAt: 100, expiresAt: 100 + Invitation.lifetime)

    @Test func aFreshLinkForAnAccountWithoutPasswordIsUsable() {
        #expect(Self.invitation.refusal(now: 200, account: Self.invited) == nil)
        #expect(Invitation.lifetime == 7 * 24 * 3600)
    }

    @Test func aUsedLinkIsAReplayEvenBeforeItExpires() {
        var used = Self.invitation
        used.usedAt = 150
        #expect(used.refusal(now: 200, account: Self.invited) == .used)
    }

    @Test func aLinkExpiresAtItsExpiryTime() {
        #expect(Self.invitation.refusal(now: Self.invitation.expiresAt - 1, account: Self.invited) == nil)
        #expect(Self.invitation.refusal(now: Self.invitation.expiresAt, account: Self.invited) == .expired)
    }

    @Test func aDisabledMissingOrPasswordHoldingAccountCannotUseIt() {
        var disabled = Self.invited
        disabled.enabled = false
        var withPassword = Self.invited
        withPassword.passwordHash = "bcrypt"
        #expect(Self.invitation.refusal(now: 200, account: disabled) == .accountUnavailable)
        #expect(Self.invitation.refusal(now: 200, account: withPassword) == .accountUnavailable)
        #expect(Self.invitation.refusal(now: 200, account: nil) == .accountUnavailable)
    }

    @Test func everyRefusalTellsThePersonWhatToDo() {
        for refusal in Invitation.Refusal.allCases {
            #expect(refusal.message.contains("administrator"), "\(refusal)")
        }
    }

    @Test func onlyEnabledAccountsWithoutPasswordAreInvitedAgain() {
        var withPassword = Self.invited
        withPassword.passwordHash = "bcrypt"
        var disabled = Self.invited
        disabled.enabled = false
        #expect(Invitation.problem(reissuingFor: Self.invited) == nil)
        #expect(Invitation.problem(reissuingFor: withPassword)?.contains("already set a password") == true)
        #expect(Invitation.problem(reissuingFor: disabled)?.contains("disabled") == true)
    }
}

@Suite("Invitation input rules")
struct InvitationInputTests {
    @Test("emails need one @ and a dotted domain", arguments: [
        ("rosa@example.org", true), ("r.f+tre@sub.example.co.uk", true), ("", false), ("rosa", false), ("rosa@", false),
        ("@example.org", false), ("rosa@example", false), ("ro sa@example.org", false), ("a@b@example.org", false),
        ("rosa@example.org.", false), ("rosa@\nexample.org", false),
    ])
    func emails(email: String, valid: Bool) {
        #expect((UserAccount.problem(email: email) == nil) == valid)
    }

    @Test func namesAreShortAndOnOneLine() {
        #expect(UserAccount.problem(name: "Rosa Franklin") == nil)
        #expect(UserAccount.problem(name: String(repeating: "x", count: 201)) != nil)
        #expect(UserAccount.problem(name: "Rosa\nFranklin") != nil)
    }

    @Test func coreRolesAreCheckedAndDeduplicated() throws {
        #expect(try UserAccount.coreRoles(["TREUser", "TREAdmin", "TREUser"]) == ["TREUser", "TREAdmin"])
        #expect(throws: EnclaveError.self) { try UserAccount.coreRoles(["TREUser", "Root"]) }
        do {
            _ = try CoreRole.named("WorkspaceOwner")
            Issue.record("a workspace role was accepted as a core role")
        } catch {
            #expect(error.statusCode == 400)
            #expect(error.message.contains("WorkspaceOwner is a workspace role"))
        }
    }
}
