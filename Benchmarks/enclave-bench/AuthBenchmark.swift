import ArgumentParser
import EnclaveAuth
import EnclaveCore
import Foundation
import Histogram
import JWTKit

/// Bearer-token verification through the code the API middleware runs, against a raw ES256 verify
/// loop in the same process and run; and the bcrypt cost that dominates a sign-in.
///
/// The middleware path is `VerifiedTokenCache.user(for:verifier:)` over `TrustedIssuers`: issuer
/// routing, the key set ("warm JWKS"), the claim rules and the cache insert. Every token is distinct,
/// so the verified-token cache never answers and each call pays for a signature check, like a first
/// request; a repeated token (cache hit) is reported separately for contrast.
struct AuthBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auth",
        abstract: "Token verifications/s through the middleware's verifier vs a raw ES256 loop; bcrypt sign-in cost.")

    @Option(help: "Distinct tokens per round.") var tokens: Int = 2000
    @Option(help: "Alternating rounds.") var rounds: Int = 3
    @Option(help: "bcrypt verifications to time.") var bcryptSamples: Int = 10

    func run() async throws {
        let key = try SigningKey(privateKey: ES256PrivateKey())
        let issuer = TokenIssuer(key: key, issuer: "enclave", audience: "api://enclave")
        var list: [String] = []
        list.reserveCapacity(tokens)
        for i in 0..<tokens {
            let user = User(id: "user-\(i)", name: "User \(i)", email: "u\(i)@example.org", roles: ["TREUser"])
            list.append(try await issuer.token(for: user))
        }
        let trusted = try TrustedIssuers([
            try await TokenVerifier(jwksJSON: key.jwksJSON, issuer: "enclave", audience: "api://enclave")
        ])
        let raw = JWTKeyCollection()
        await raw.add(ecdsa: key.privateKey.publicKey, kid: JWKIdentifier(string: key.kid))

        print("auth: \(tokens) distinct ES256 tokens per round, \(rounds) rounds")
        var ratios: [Double] = []
        for round in 1...rounds {
            let rawRate = try await rate { for token in list { _ = try await raw.verify(token, as: TokenClaims.self) } }
            let cache = VerifiedTokenCache()
            let enclaveRate = try await rate { for token in list { _ = try await cache.user(for: token, verifier: trusted) } }
            let hitRate = try await rate {
                if let token = list.first { for _ in list { _ = try await cache.user(for: token, verifier: trusted) } }
            }
            let ratio = enclaveRate / rawRate
            ratios.append(ratio)
            print(String(
                format: "round %d: raw ES256 verify %.0f/s, middleware verifier (cache miss) %.0f/s, ratio %.2f; cache hit %.0f/s",
                round, rawRate, enclaveRate, ratio, hitRate))
        }
        // Where a cache miss spends its time beyond the signature: each piece alone over the same tokens.
        guard let verifier = trusted.verifiers["enclave"] else { throw ValidationError("no verifier") }
        let parse = try await rate { for token in list { _ = try UnverifiedToken(token) } }
        let rawAsJSON = try await rate { for token in list { _ = try await raw.verify(token, as: JSONClaims.self) } }
        let oneIssuer = try await rate { for token in list { _ = try await verifier.verifyWithExpiry(token) } }
        print(String(
            format: "breakdown: header+iss parse %.0f/s; raw verify decoding claims as JSON %.0f/s; one issuer's TokenVerifier %.0f/s",
            parse, rawAsJSON, oneIssuer))
        let median = ratios.sorted()[ratios.count / 2]
        print(String(format: "ratio middleware / raw: median %.2f (goal >= 0.8: %@)", median, median >= 0.8 ? "met" : "NOT met"))

        let hasher = PasswordHasher()
        let password = "correct horse battery staple"
        let hash = await hasher.hash(password)
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        for _ in 0..<bcryptSamples {
            let start = ContinuousClock.now
            guard await hasher.verify(password, hash: hash) else { throw ValidationError("bcrypt did not verify") }
            let elapsed = ContinuousClock.now - start
            histogram.record(UInt64(elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000))
        }
        let cost = hash.split(separator: "$").dropFirst().first.map(String.init) ?? "?"  // "$2b$12$…" → "12"
        print(String(
            format: "bcrypt cost %@: verify p50 %.1f ms, max %.1f ms (n=%d) — a password sign-in pays this once",
            cost, Double(histogram.valueAtPercentile(50)) / 1000, Double(histogram.max) / 1000, bcryptSamples))
    }

    /// Calls per second of `body`, which runs `tokens` calls.
    func rate(_ body: () async throws -> Void) async throws -> Double {
        let start = ContinuousClock.now
        try await body()
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Double(tokens) / max(seconds, 1e-9)
    }
}

/// The payload decoded as a JSON object, as the middleware's claim rules read it (any provider's shape).
struct JSONClaims: JWTPayload {
    var claims: [String: JSONValue]
    init(from decoder: any Decoder) throws { claims = try [String: JSONValue](from: decoder) }
    func encode(to encoder: any Encoder) throws { try claims.encode(to: encoder) }
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
