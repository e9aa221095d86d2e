import EnclaveCore
import EnclaveStore
import Foundation

/// Invitation links: an admin invites a user (`AccountAdministration.invite`, `POST /api/users`), the
/// user opens `<public-url>/oidc/invitation?token=…`, chooses a password, then enrolls an authenticator
/// and sees recovery codes as every new user does.
///
/// Opening the link only checks it; the link is spent when the password is set, in the same write
/// transaction that stores the password (`AccountRepository.redeemInvitation`), so a link opened twice
/// sets at most one password. Every refusal (unknown, superseded, used, expired, account disabled) is
/// audited as `auth.invitation_refused`, and the page's posts count toward the per-address rate limit.
extension BuiltInProvider {
    /// The link for an invitation token.
    public nonisolated func invitationURL(token: String) -> String {
        "\(settings.issuer)/invitation?token=\(token)"
    }

    /// Opens the invitation page for a token. Throws 403 with a message for the invited person when the
    /// link cannot be used (audited), 429 when the address has tried too often.
    public func beginInvitation(token: String, address: String) async throws -> (flowId: String, csrf: String, step: SignInStep) {
        let time = now()
        let counted = settings.addressLimit.record(addressCounters[address], now: time)
        addressCounters[address] = counted.state
        guard counted.allowed else {
            throw EnclaveError.tooManyRequests("Too many attempts from this address: wait a minute and try again")
        }
        let hash = SecretToken.sha256Hex(token)
        let invitation = try await store.invitation(tokenHash: hash)
        var account: UserAccount?
        if let invitation { account = try await store.user(id: invitation.userId) }
        let refusal = invitation.map { $0.refusal(now: time, account: account) } ?? .unknown
        if let refusal {
            try await store.appendAudit([Self.invitationRefusal(refusal, account: account, time: time, address: address)])
            throw EnclaveError.forbidden(refusal.message)
        }
        guard let account else { throw EnclaveError.forbidden(Invitation.Refusal.accountUnavailable.message) }
        let flowId = SecretToken.random()
        let csrf = SecretToken.random()
        let step = SignInStep.invitation(username: account.username, error: nil)
        flows[flowId] = Flow(csrf: csrf, request: nil, step: step, invitationHash: hash, createdAt: time)
        return (flowId, csrf, step)
    }

    /// The invitation page's form: checks the password, then spends the link and stores the password in
    /// one transaction. Next comes authenticator enrollment (or, without `requireMFA`, a final page).
    func acceptInvitation(_ flow: inout Flow, form: [String: String], address: String) async throws -> SignInStep {
        guard case .invitation(let username, _) = flow.step, let hash = flow.invitationHash else {
            return .password(error: Self.genericFailure)
        }
        let password = form["password"] ?? ""
        if let problem = UserAccount.problem(password: password) { return .invitation(username: username, error: problem) }
        guard password == form["confirm"] else {
            return .invitation(username: username, error: "The two passwords are not the same: type the same password twice.")
        }
        let passwordHash = await hasher.hash(password)
        let time = now()
        let result = try await store.redeemInvitation(tokenHash: hash, now: time) { account in
            var updated = account
            updated.passwordHash = passwordHash
            updated.lockout = .init()
            return AccountChange(
                account: updated,
                audit: [
                    Self.invitationEntry(
                        .invitationAccept, account: updated, outcome: .success, details: [:], time: time, address: address)
                ])
        }
        switch result {
        case .redeemed(let account):
            flow.invitationHash = nil
            flow.userId = account.id
            if settings.requireMFA && account.totpSecretSealed == nil { return enrollmentStep(&flow, account: account, error: nil) }
            return .done("Your password is set. Sign in to Enclave through a client as '\(account.username)'.")
        case .refused(let refusal, let account):
            try await store.appendAudit([Self.invitationRefusal(refusal, account: account, time: time, address: address)])
            throw EnclaveError.forbidden(refusal.message)
        }
    }

    static func invitationRefusal(_ refusal: Invitation.Refusal, account: UserAccount?, time: Double, address: String) -> AuditEntry {
        invitationEntry(
            .invitationRefused, account: account, outcome: .denied, details: ["reason": .string(refusal.rawValue)], time: time,
            address: address)
    }

    /// A record about an invitation: the invited account as actor and target (`/api/users/<id>`), or,
    /// for a token that names no account, the anonymous actor and `/oidc/invitation`.
    static func invitationEntry(
        _ action: AuditAction, account: UserAccount?, outcome: AuditOutcome, details: [String: JSONValue], time: Double,
        address: String
    ) -> AuditEntry {
        var details = details
        details["address"] = .string(address)
        if let account { details["username"] = .string(account.username) }
        return AuditEntry(
            id: UUID().uuidString.lowercased(), time: time, actor: account.map { AuditActor($0.user) } ?? anonymous,
            action: action, target: account.map { "/api/users/\($0.id)" } ?? "/oidc/invitation", outcome: outcome,
            details: .object(details))
    }
}
