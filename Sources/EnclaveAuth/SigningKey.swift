import Crypto
import Foundation
public import JWTKit

/// The data dir's ES256 signing key, and the JWKS that publishes its public half.
///
/// The key file is created on first start with mode 0600: whoever can read it can mint tokens, which
/// is why `enclave token` is an operator's tool.
public struct SigningKey: Sendable {
    public let privateKey: ES256PrivateKey
    public let kid: String

    public init(privateKey: ES256PrivateKey) throws {
        self.privateKey = privateKey
        guard let params = privateKey.publicKey.parameters else {
            throw SigningKeyError("The signing key has no public parameters")
        }
        let digest = SHA256.hash(data: Data("\(params.x).\(params.y)".utf8))
        self.kid = digest.prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    /// Loads `DIR/keys/signing-es256.pem`, creating it when missing.
    public static func loadOrCreate(dataDir: String) throws -> SigningKey {
        let keysDir = URL(fileURLWithPath: dataDir).appendingPathComponent("keys")
        let file = keysDir.appendingPathComponent("signing-es256.pem")
        let fm = FileManager.default
        if fm.fileExists(atPath: file.path) {
            let pem = try String(contentsOf: file, encoding: .utf8)
            return try SigningKey(privateKey: ES256PrivateKey(pem: pem))
        }
        try fm.createDirectory(at: keysDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let key = ES256PrivateKey()
        guard fm.createFile(atPath: file.path, contents: Data(key.pemRepresentation.utf8), attributes: [.posixPermissions: 0o600])
        else { throw SigningKeyError("Cannot write the signing key to \(file.path)") }
        return try SigningKey(privateKey: key)
    }

    /// Only loads: for `enclave token`, which must not invent a key the server does not know.
    public static func load(dataDir: String) throws -> SigningKey {
        let file = URL(fileURLWithPath: dataDir).appendingPathComponent("keys/signing-es256.pem")
        guard let pem = try? String(contentsOf: file, encoding: .utf8) else {
            throw SigningKeyError(
                "Cannot read the signing key \(file.path): start `enclave serve --data-dir \(dataDir)` once to create it, and run this as a user who may read it")
        }
        return try SigningKey(privateKey: ES256PrivateKey(pem: pem))
    }

    /// `{"keys":[…]}` with this key's public half, served at `/.well-known/jwks.json`.
    public var jwksJSON: String {
        let params = privateKey.publicKey.parameters
        return """
            {"keys":[{"kty":"EC","crv":"P-256","use":"sig","alg":"ES256","kid":"\(kid)","x":"\(params?.x ?? "")","y":"\(params?.y ?? "")"}]}
            """
    }
}

public struct SigningKeyError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
