public import Foundation
import HummingbirdOTP

/// TOTP (RFC 6238: SHA-1, 6 digits, 30 s) through HummingbirdOTP, with the checks around it that the
/// library leaves to us: a window of one step either side for clock drift, constant-time comparison,
/// and no reuse of an accepted time step.
public struct TOTPCode: Sendable {
    public let secret: String

    public init(secret: String) { self.secret = secret }

    /// 32 random characters from a 32-letter alphabet (160 bits): the shared secret HummingbirdOTP
    /// keys HMAC with (as UTF-8 bytes).
    public static func generateSecret() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var generator = SystemRandomNumberGenerator()
        return String((0..<32).map { _ in alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))] })
    }

    /// The `otpauth://` URI an authenticator app reads (from the QR code); its `secret` parameter is
    /// the base32 form users type by hand.
    public func uri(account: String, issuer: String) -> String {
        TOTP(secret: secret).createAuthenticatorURL(label: "\(issuer):\(account)", issuer: issuer)
    }

    /// The `secret=` value of `uri(…)`: what a user types into an app without a camera.
    public func base32Secret(account: String, issuer: String) -> String {
        let uri = uri(account: account, issuer: issuer)
        guard let range = uri.range(of: "secret=") else { return "" }
        return String(uri[range.upperBound...].prefix(while: { $0 != "&" }))
    }

    /// The 6-digit code for a time, zero-padded.
    public func code(at date: Date) -> String {
        let value = TOTP(secret: secret).compute(date: date)
        let digits = String(value)
        return String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    /// The time step `code` is valid for (now, one before or one after), unless it is not a valid code or
    /// that step is not after `lastStep` (a code already used, or an older one).
    public func acceptedStep(_ code: String, now: Date, lastStep: Int?) -> Int? {
        let typed = code.filter { !$0.isWhitespace }
        let current = Int(now.timeIntervalSince1970 / 30)
        var accepted: Int?
        for step in [current - 1, current, current + 1] {
            let expected = self.code(at: Date(timeIntervalSince1970: Double(step) * 30))
            if constantTimeEquals(expected, typed), step > (lastStep ?? Int.min) { accepted = step }
        }
        return accepted
    }
}

/// Equal strings, compared without an early exit (EnclaveCore's `ConstantTime`, kept local so this
/// file needs only Foundation).
func constantTimeEquals(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8)
    let y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var difference: UInt8 = 0
    for index in x.indices { difference |= x[index] ^ y[index] }
    return difference == 0
}
