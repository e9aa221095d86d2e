import Foundation
import Crypto

/// The bearer secrets Enclave hands out (sign-in flow ids, CSRF tokens, authorization and device codes,
/// refresh tokens, session cookies, client secrets, invitation links) and how it stores them.
///
/// Each is 256 random bits, so a fast hash is enough to keep only a digest: nothing stored can be
/// turned back into a working secret, and guessing one is out of reach.
public enum SecretToken {
    /// 32 random bytes from the system's generator, base64url without padding.
    public static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        return PKCE.base64URL(Data((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }))
    }

    /// Lower-case hex SHA-256 of the text: what the store keeps instead of a secret.
    public static func sha256Hex(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
