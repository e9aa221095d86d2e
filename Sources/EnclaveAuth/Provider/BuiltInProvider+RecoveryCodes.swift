import EnclaveCore
import EnclaveStore
import Foundation

/// Replacing recovery codes from a signed-in session (the portal's account page).
///
/// A session alone is not enough: the user re-types a current code from their authenticator, checked
/// exactly as at sign-in (a step not used before, lockout counted and honoured), so a browser left
/// signed in cannot be used to mint codes that outlive the session. Recovery codes are not accepted
/// here: they stand in for a lost authenticator, and renewing them is a job for the authenticator.
extension BuiltInProvider {
    /// Why a renewal was refused. The message is the same for a wrong and a locked-out code, as at sign-in.
    public enum RecoveryCodeRefusal: Error, Sendable, Hashable {
        /// The code was wrong, already used, or the account is locked.
        case wrongCode
        /// The account has no authenticator (enrollment was never required), so there is nothing to check.
        case noAuthenticator
        /// The signed-in user is not a built-in account (or it is disabled).
        case notBuiltIn

        public var message: String {
            switch self {
            case .wrongCode: "That code did not match. Type the current 6-digit code from your authenticator app (each code works once)."
            case .noAuthenticator: "Your account has no authenticator, so it has no recovery codes to replace."
            case .notBuiltIn: "Your sign-in is managed by your identity provider."
            }
        }
    }

    /// Ten new recovery codes for `userId` when `code` is a current TOTP code of its authenticator; the old
    /// codes stop working in the same write, which is audited (`user.recovery_codes`). A wrong code is
    /// recorded as a second-factor failure and counts towards the account's lockout; nothing else changes.
    public func regenerateRecoveryCodes(userId: String, code: String, address: String) async throws
        -> Result<[String], RecoveryCodeRefusal>
    {
        guard var account = try await store.user(id: userId), account.enabled else { return .failure(.notBuiltIn) }
        guard let sealed = account.totpSecretSealed, case .string(let secret)? = try secrets.open(sealed)["totp"] else {
            return .failure(.noAuthenticator)
        }
        if settings.lockout.isLocked(account.lockout, now: now()) {
            try await store.appendAudit([
                audit(.signInMFAFailure, account, outcome: .denied, details: ["reason": "locked (new recovery codes)"], address: address)
            ])
            return .failure(.wrongCode)
        }
        guard let step = TOTPCode(secret: secret).acceptedStep(code, now: Date(timeIntervalSince1970: now()), lastStep: account.totpLastStep)
        else {
            try await recordFailure(&account, action: .signInMFAFailure, reason: "wrong code for new recovery codes", address: address)
            return .failure(.wrongCode)
        }
        let codes = Self.recoveryCodes()
        account.totpLastStep = step
        account.lockout = settings.lockout.afterSuccess(account.lockout)
        account.recoveryCodeHashes = codes.map(SecretToken.sha256Hex)
        try await store.updateUser(
            account, audit: [audit(.userRecoveryCodes, account, outcome: .success, details: ["count": .int(codes.count)], address: address)])
        return .success(codes)
    }
}
