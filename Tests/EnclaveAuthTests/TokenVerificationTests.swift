import EnclaveAuth
import EnclaveCore
import EnclaveTesting
import Foundation
import JWTKit
import Testing

@Suite("Token verification")
struct TokenVerificationTests {
    let user = User(id: "u-1", name: "Ursula", email: "u@example.org", roles: ["TREUser"])

    func make() async throws -> (TokenIssuer, TokenVerifier) {
        let key = try SigningKey(privateKey: ES256PrivateKey())
        let issuer = TokenIssuer(key: key, issuer: "enclave", audience: "api://enclave")
        let verifier = try await TokenVerifier(jwksJSON: key.jwksJSON, issuer: "enclave", audience: "api://enclave", clockSkew: 30)
        return (issuer, verifier)
    }

    @Test("a token signed with the data dir's key verifies through its JWKS and carries the user's claims")
    func roundTrip() async throws {
        let (issuer, verifier) = try await make()
        #expect(try await verifier.verify(try await issuer.token(for: user)) == user)
    }

    @Test("a cached token is still refused once it expires, and a refused token is never cached")
    func cacheHonoursExpiry() async throws {
        let (issuer, verifier) = try await make()
        let cache = VerifiedTokenCache()
        let now = Date()
        let token = try await issuer.token(for: user, ttl: 60, now: now)
        #expect(try await cache.user(for: token, verifier: verifier, now: now) == user)
        #expect(try await cache.user(for: token, verifier: verifier, now: now.addingTimeInterval(80)) == user, "within the skew")
        await #expect(throws: EnclaveError.unauthorized("Expired token signature")) {
            try await cache.user(for: token, verifier: verifier, now: now.addingTimeInterval(120))
        }
        let forged = token.dropLast(4) + "AAAA"
        await #expect(throws: EnclaveError.self) { try await cache.user(for: String(forged), verifier: verifier) }
        await #expect(throws: EnclaveError.self) { try await cache.user(for: String(forged), verifier: verifier) }
    }

    @Test("the signing key is created once with mode 0600 and reloaded on the next start")
    func keyFile() throws {
        let dir = try TestPaths.temporaryDirectory("keys")
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: SigningKeyError.self) { try SigningKey.load(dataDir: dir.path) }
        let first = try SigningKey.loadOrCreate(dataDir: dir.path)
        let second = try SigningKey.loadOrCreate(dataDir: dir.path)
        #expect(first.kid == second.kid)
        let mode = try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent("keys/signing-es256.pem").path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }
}
