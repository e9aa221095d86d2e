import Crypto
import Foundation

/// Proof Key for Code Exchange (RFC 7636), S256 only.
///
/// `plain` is refused: with it, anyone who sees the authorization request can redeem the code, which is
/// what PKCE exists to prevent. Verifiers must be 43–128 unreserved characters, as the RFC says, so a
/// short guessable verifier is refused rather than accepted.
public enum PKCE {
    /// The only accepted `code_challenge_method`.
    public static let method = "S256"

    /// `BASE64URL(SHA256(verifier))` without padding: what a client sends as `code_challenge`.
    public static func challenge(for verifier: String) -> String {
        base64URL(Data(SHA256.hash(data: Data(verifier.utf8))))
    }

    /// Whether `challenge` looks like an S256 challenge (43 base64url characters).
    public static func isWellFormedChallenge(_ challenge: String) -> Bool {
        challenge.utf8.count == 43 && challenge.utf8.allSatisfy(isBase64URL)
    }

    /// Whether `verifier` is well formed and hashes to `challenge`; compared in constant time.
    public static func verify(verifier: String, challenge: String) -> Bool {
        let bytes = verifier.utf8
        guard (43...128).contains(bytes.count), bytes.allSatisfy(isUnreserved) else { return false }
        return ConstantTime.equals(Array(Self.challenge(for: verifier).utf8), Array(challenge.utf8))
    }

    /// Base64url without padding (RFC 4648 §5).
    public static func base64URL(_ data: Data) -> String {
        data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    private static func isBase64URL(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x5F
    }

    /// RFC 7636 §4.1: ALPHA / DIGIT / "-" / "." / "_" / "~".
    private static func isUnreserved(_ c: UInt8) -> Bool {
        isBase64URL(c) || c == 0x2E || c == 0x7E
    }
}

/// Comparisons whose time does not depend on where the inputs differ, for secrets an attacker may probe
/// byte by byte (PKCE challenges, CSRF tokens, TOTP codes, recovery-code hashes).
public enum ConstantTime {
    /// Equal length and equal bytes; the length itself is not secret.
    public static func equals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    public static func equals(_ a: String, _ b: String) -> Bool {
        equals(Array(a.utf8), Array(b.utf8))
    }
}
