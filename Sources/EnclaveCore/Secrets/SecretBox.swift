public import Crypto
import Foundation

/// Seals sensitive property values (template `sensitive: true`) with AES-GCM before they reach the store.
///
/// Resources keep `REDACTED` in place of these values so no API response or history item can show
/// them; the sealed copy exists only so a deployer can receive the real value, also on later upgrades.
public struct SecretBox: Sendable {
    let key: SymmetricKey

    public init(key: SymmetricKey) {
        self.key = key
    }

    /// A fresh random 256-bit key.
    public static func generateKey() -> SymmetricKey { SymmetricKey(size: .bits256) }

    public func seal(_ values: [String: JSONValue]) throws -> String {
        let plain = Data(JSONValue.object(values).description.utf8)
        guard let combined = try AES.GCM.seal(plain, using: key).combined else {
            throw EnclaveError.internal("AES-GCM produced no combined box")
        }
        return combined.base64EncodedString()
    }

    public func open(_ sealed: String) throws -> [String: JSONValue] {
        guard let data = Data(base64Encoded: sealed) else { throw EnclaveError.internal("Sealed secret is not base64") }
        let plain = try AES.GCM.open(AES.GCM.SealedBox(combined: data), using: key)
        let value = try JSONDecoder().decode(JSONValue.self, from: plain)
        return value.objectValue ?? [:]
    }
}
