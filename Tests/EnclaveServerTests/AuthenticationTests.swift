import EnclaveAuth
import EnclaveCore
import EnclaveServer
import EnclaveTesting
import Foundation
import Hummingbird
import JWTKit
import Testing

@Suite("Authentication")
struct AuthenticationTests {
    @Test("health, ping, metadata and the JWKS need no token")
    func openRoutes() async throws {
        try await withAPI { api in
            let health = try await api.call(.get, "/api/health", as: nil)
            #expect(health.status == .ok)
            let services = health.json["services"]?.arrayValue ?? []
            #expect(
                services.map { $0["service"]?.stringValue ?? "" }
                    == ["Store", "Resource Processor", "Deployer: exec", "Data plane", "Airlock scanner", "Identity provider"])
            #expect(services.last?["message"]?.stringValue?.contains("no external OIDC provider") == true)
            #expect(services.allSatisfy { $0["status"] == "OK" })
            #expect(try await api.call(.get, "/api/ping", as: nil).text == "\"pong\"")
            #expect(try await api.call(.get, "/api/.metadata", as: nil).json["api_client_id"] == "api://enclave")
            let jwks = try await api.call(.get, "/.well-known/jwks.json", as: nil).json
            #expect(jwks["keys"]?.arrayValue?.first?["alg"] == "ES256")
        }
    }

    @Test("a request without a token is 401 with a plain-text reason")
    func missingToken() async throws {
        try await withAPI { api in
            let reply = try await api.call(.get, "/api/workspaces", as: nil)
            #expect(reply.status == .unauthorized)
            #expect(reply.headers[.contentType]?.hasPrefix("text/plain") == true)
            #expect(reply.text.contains("Could not validate credentials"))
        }
    }

    /// Tokens that must all be refused, each made a different wrong way.
    enum BadToken: String, CaseIterable, CustomTestStringConvertible {
        case expired, forged, wrongAudience, wrongIssuer, garbage, notBearer, hmac
        var testDescription: String { rawValue }
    }

    @Test("missing, expired, forged, wrong-audience or otherwise bad tokens are 401", arguments: BadToken.allCases)
    func badTokens(kind: BadToken) async throws {
        try await withAPI { api in
            let enclave = api.enclave
            let user = TestUsers.admin
            let header: String
            switch kind {
            case .expired:
                header = "Bearer " + (try await enclave.issuer.token(for: user, ttl: 60, now: Date().addingTimeInterval(-7200)))
            case .forged:
                let other = try SigningKey(privateKey: ES256PrivateKey())
                header = "Bearer " + (try await TokenIssuer(key: other, issuer: "enclave", audience: "api://enclave").token(for: user))
            case .wrongAudience:
                header = "Bearer " + (try await TokenIssuer(key: enclave.deps.signingKey, issuer: "enclave", audience: "api://other").token(for: user))
            case .wrongIssuer:
                header = "Bearer " + (try await TokenIssuer(key: enclave.deps.signingKey, issuer: "someone-else", audience: "api://enclave").token(for: user))
            case .garbage:
                header = "Bearer not.a.token"
            case .notBearer:
                header = "Basic YWRtaW46YWRtaW4="
            case .hmac:
                let keys = JWTKeyCollection()
                await keys.add(hmac: HMACKey(from: String(repeating: "k", count: 64)), digestAlgorithm: .sha256)
                let claims = TokenClaims(
                    iss: "enclave", aud: "api://enclave", exp: Date().addingTimeInterval(600), iat: Date(), sub: user.id,
                    oid: user.id, name: user.name, email: user.email, roles: user.roles)
                header = "Bearer " + (try await keys.sign(claims))
            }
            let reply = try await api.call(.get, "/api/workspaces", as: nil, headers: [.authorization: header])
            #expect(reply.status == .unauthorized, "\(kind): \(reply.text)")
            if kind == .expired { #expect(reply.text == "Expired token signature") }
        }
    }

    @Test("a valid caller without the role is 403 naming the roles needed")
    func missingRole() async throws {
        try await withAPI { api in
            let reply = try await api.call(
                .post, "/api/workspaces", as: TestUsers.treUser,
                json: ["templateName": "tre-workspace-base", "properties": ["display_name": "x", "description": "y"]])
            #expect(reply.status == .forbidden)
            #expect(reply.text.contains("TREAdmin"))
            #expect(try await api.call(.get, "/api/workspace-templates", as: TestUsers.treUser).status == .forbidden)
            #expect(try await api.call(.get, "/api/workspace-service-templates", as: TestUsers.treUser).status == .ok)
        }
    }
}
