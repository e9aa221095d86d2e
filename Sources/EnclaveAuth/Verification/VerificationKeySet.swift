import EnclaveCore
import Foundation
import JWTKit

/// The signing keys of one issuer, each pinned to the one algorithm its key type allows.
///
/// jwt-kit's own JWKS loading lets a token's header choose the algorithm for keys published without
/// `alg`, and falls back to a default key when a `kid` is unknown. Here every key is added with a fixed
/// algorithm (RSA → RS256, EC P-256 → ES256), a token must name a key that exists, and its `alg` must be
/// that key's algorithm: no algorithm confusion, no verifying with a key the token did not ask for.
/// Keys that cannot verify RS256/ES256 signatures (encryption keys, other curves, symmetric keys) are
/// skipped and listed in `skipped`, so one odd key in a provider's JWKS does not make the others unusable.
public struct VerificationKeySet: Sendable {
    let collection: JWTKeyCollection
    /// kid → the algorithm that key verifies.
    public let algorithms: [String: UnverifiedToken.Algorithm]
    /// Keys left out, with the reason (for logs and health).
    public let skipped: [String]

    public static let empty = VerificationKeySet(collection: JWTKeyCollection(), algorithms: [:], skipped: [])

    init(collection: JWTKeyCollection, algorithms: [String: UnverifiedToken.Algorithm], skipped: [String]) {
        self.collection = collection
        self.algorithms = algorithms
        self.skipped = skipped
    }

    private struct JWKSDocument: Decodable {
        var keys: [Key]
        struct Key: Decodable {
            var kty: String?
            var kid: String?
            var use: String?
            var alg: String?
            var crv: String?
            var n: String?
            var e: String?
            var x: String?
            var y: String?
        }
    }

    /// Builds the set from a JWKS document (`{"keys":[…]}`); throws when the document is not a JWKS.
    public static func parse(jwksJSON: Data) async throws -> VerificationKeySet {
        let document = try JSONDecoder().decode(JWKSDocument.self, from: jwksJSON)
        let collection = JWTKeyCollection()
        var algorithms: [String: UnverifiedToken.Algorithm] = [:]
        var skipped: [String] = []
        for key in document.keys {
            let kid = key.kid ?? ""
            func skip(_ why: String) { skipped.append("key '\(kid)': \(why)") }
            if kid.isEmpty { skip("no kid"); continue }
            if let use = key.use, use != "sig" { skip("use '\(use)' is not 'sig'"); continue }
            switch key.kty {
            case "RSA":
                if let alg = key.alg, alg != "RS256" { skip("alg '\(alg)' is not RS256"); continue }
                guard let n = key.n, let e = key.e, let publicKey = try? Insecure.RSA.PublicKey(modulus: n, exponent: e)
                else { skip("not a usable RSA public key"); continue }
                await collection.add(rsa: publicKey, digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
                algorithms[kid] = .rs256
            case "EC":
                if let alg = key.alg, alg != "ES256" { skip("alg '\(alg)' is not ES256"); continue }
                guard key.crv == "P-256", let x = key.x, let y = key.y,
                    let publicKey = try? ES256PublicKey(parameters: (x: x, y: y))
                else { skip("not a usable P-256 public key"); continue }
                await collection.add(ecdsa: publicKey, kid: JWKIdentifier(string: kid))
                algorithms[kid] = .es256
            default:
                skip("key type '\(key.kty ?? "")' is not RSA or EC")
            }
        }
        return VerificationKeySet(collection: collection, algorithms: algorithms, skipped: skipped)
    }

    /// The key a token names, checked against the token's algorithm; 401 when there is none.
    func resolve(_ token: UnverifiedToken) throws(EnclaveError) -> UnverifiedToken.Algorithm {
        let kid: String
        if let named = token.kid {
            kid = named
        } else if algorithms.count == 1, let only = algorithms.keys.first {
            kid = only
        } else {
            throw .unauthorized("Invalid token: its header names no signing key (kid)")
        }
        guard let algorithm = algorithms[kid] else {
            throw .unauthorized("Invalid token: it was signed with an unknown key (kid '\(kid)')")
        }
        guard algorithm == token.algorithm else {
            throw .unauthorized(
                "Invalid token: its algorithm \(token.algorithm.rawValue) does not match its key (\(algorithm.rawValue))")
        }
        return algorithm
    }

    /// Whether a token's `kid` is in this set (an unknown one may mean the issuer rotated its keys).
    public func contains(kid: String?) -> Bool {
        guard let kid else { return algorithms.count == 1 }
        return algorithms[kid] != nil
    }

    /// Checks the signature with the named key and decodes the payload.
    func verifySignature<Payload: JWTPayload>(_ token: String, as: Payload.Type) async throws -> Payload {
        try await collection.verify(token, as: Payload.self)
    }
}
