import EnclaveAuth
import EnclaveCore
import Foundation
import JWTKit
import Testing

/// Claims of any shape, signed with a generated ES256 key, to drive `TokenVerifier` end to end.
private struct AnyClaims: JWTPayload {
    var json: [String: JSONValue]
    init(_ json: [String: JSONValue]) { self.json = json }
    init(from decoder: any Decoder) throws { json = try [String: JSONValue](from: decoder) }
    func encode(to encoder: any Encoder) throws { try json.encode(to: encoder) }
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

@Suite("Claim rules and token headers")
struct ClaimRulesTests {
    let key = ES256PrivateKey()
    let kid = "test-key"

    func verifier(_ rules: ClaimRules) async throws -> TokenVerifier {
        let params = try #require(key.publicKey.parameters)
        let jwks = #"{"keys":[{"kty":"EC","crv":"P-256","kid":"\#(kid)","x":"\#(params.x)","y":"\#(params.y)"}]}"#
        let keySet = try await VerificationKeySet.parse(jwksJSON: Data(jwks.utf8))
        return TokenVerifier(keySource: StaticKeySource(keySet: keySet), rules: rules)
    }

    func sign(_ claims: [String: JSONValue]) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: key, kid: JWKIdentifier(string: kid))
        return try await keys.sign(AnyClaims(claims), kid: JWKIdentifier(string: kid))
    }

    func claims(_ extra: [String: JSONValue]) -> [String: JSONValue] {
        var claims: [String: JSONValue] = [
            "iss": "https://kc.example.org/realms/tre", "aud": ["enclave-api", "account"], "sub": "kc-42",
            "exp": .int(Int(Date().timeIntervalSince1970) + 300), "preferred_username": "grace",
        ]
        for (key, value) in extra { claims[key] = value }
        return claims
    }

    @Test("roles come from a dotted claim path plus the group map, keeping only core roles")
    func rolesFromPathAndGroups() async throws {
        let rules = ClaimRules(
            issuer: "https://kc.example.org/realms/tre", audiences: ["enclave-api"], rolesClaim: "realm_access.roles",
            groupRoles: ["/tre-admins": .treAdmin])
        let verifier = try await verifier(rules)
        let token = try await sign(
            claims(["realm_access": ["roles": ["TREUser", "offline_access", "uma_authorization"]], "groups": ["/tre-admins"]]))
        let user = try await verifier.verify(token)
        #expect(user == User(id: "kc-42", name: "grace", email: "grace", roles: ["TREAdmin", "TREUser"]))
        let plain = try await verifier.verify(try await sign(claims(["roles": ["TREAdmin"]])))
        #expect(plain.roles.isEmpty, "the top-level roles claim is not the configured one")
    }

    @Test("oid wins over sub as the user id, and aud may be a string or a list")
    func identityAndAudience() async throws {
        let verifier = try await verifier(ClaimRules(issuer: "https://kc.example.org/realms/tre", audiences: ["x", "enclave-api"]))
        #expect(try await verifier.verify(try await sign(claims(["oid": "entra-oid"]))).id == "entra-oid")
        #expect(try await verifier.verify(try await sign(claims(["aud": "enclave-api"]))).id == "kc-42")
        await #expect(throws: EnclaveError.self) { try await verifier.verify(try await sign(claims(["aud": "other"]))) }
        await #expect(throws: EnclaveError.self) { try await verifier.verify(try await sign(claims(["exp": nil]))) }
    }

    @Test("tokens over 16 KiB, with alg none or HS256, or naming no known key are refused before verification")
    func headerChecks() async throws {
        #expect(throws: EnclaveError.unauthorized("Invalid token: it is longer than 16 KiB")) {
            try UnverifiedToken(String(repeating: "a", count: 16 * 1024 + 1))
        }
        let payload = Data(#"{"iss":"x"}"#.utf8).base64EncodedString()
        for alg in ["none", "HS256", "RS512", "PS256"] {
            let header = Data(#"{"alg":"\#(alg)","kid":"test-key"}"#.utf8).base64EncodedString()
            #expect(throws: EnclaveError.self) { try UnverifiedToken("\(header).\(payload).c2ln") }
        }
        let verifier = try await verifier(ClaimRules(issuer: "https://kc.example.org/realms/tre", audiences: ["enclave-api"]))
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: ES256PrivateKey(), kid: JWKIdentifier(string: "other-key"))
        let foreign = try await keys.sign(AnyClaims(claims([:])), kid: JWKIdentifier(string: "other-key"))
        await #expect(throws: EnclaveError.unauthorized("Invalid token: it was signed with an unknown key (kid 'other-key')")) {
            try await verifier.verify(foreign)
        }
    }

    @Test("keys a JWKS holds for other uses or algorithms are skipped, the signing keys kept")
    func jwksFiltering() async throws {
        let params = try #require(key.publicKey.parameters)
        let jwks = """
            {"keys":[
              {"kty":"EC","crv":"P-256","kid":"sig","use":"sig","x":"\(params.x)","y":"\(params.y)"},
              {"kty":"EC","crv":"P-256","kid":"enc","use":"enc","x":"\(params.x)","y":"\(params.y)"},
              {"kty":"oct","kid":"hmac","k":"c2VjcmV0"},
              {"kty":"EC","crv":"P-256","kid":"es384","alg":"ES384","x":"\(params.x)","y":"\(params.y)"}
            ]}
            """
        let set = try await VerificationKeySet.parse(jwksJSON: Data(jwks.utf8))
        #expect(set.algorithms == ["sig": .es256])
        #expect(set.skipped.count == 3)
    }

    @Test("a token claiming an issuer nobody configured is refused, and two verifiers may not share an issuer")
    func issuerRouting() async throws {
        let own = try await verifier(ClaimRules(issuer: "enclave", audiences: ["api://enclave"]))
        let trusted = try TrustedIssuers([own])
        await #expect(throws: EnclaveError.self) { try await trusted.verifyWithExpiry(try await sign(claims([:])), now: Date()) }
        #expect(throws: EnclaveError.self) { try TrustedIssuers([own, own]) }
    }

    @Test("OIDC settings: group mappings parse, plain http only on loopback, the secret never printed")
    func configuration() throws {
        let mapping = try OIDCConfiguration.parseGroupRole("0d5e-41=TREAdmin")
        #expect(mapping.group == "0d5e-41" && mapping.role == .treAdmin)
        #expect(throws: EnclaveError.self) { try OIDCConfiguration.parseGroupRole("group=WorkspaceOwner") }
        #expect(throws: EnclaveError.self) { try OIDCConfiguration.parseGroupRole("no-equals") }
        #expect(throws: EnclaveError.self) {
            try OIDCConfiguration(issuer: "http://idp.example.org/realms/x", audiences: ["a"]).validate()
        }
        #expect(throws: EnclaveError.self) { try OIDCConfiguration(issuer: "https://idp.example.org", audiences: []).validate() }
        try OIDCConfiguration(issuer: "http://127.0.0.1:8080", audiences: ["a"]).validate()
        let config = OIDCConfiguration(issuer: "https://idp.example.org", audiences: ["a"], clientSecret: "s3cr3t-value")
        #expect(!config.description.contains("s3cr3t-value"))
        #expect(!"\(config)".contains("s3cr3t-value"))
    }
}
