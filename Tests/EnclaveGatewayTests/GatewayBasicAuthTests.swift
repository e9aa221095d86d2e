// The gateway with git's way of authenticating: an access token as the Basic password, the Basic challenge on
// 401, and the caller named to the tool in X-Forwarded-User / X-Forwarded-Email.
import EnclaveAuth
import EnclaveCore
import EnclaveServer
import EnclaveTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Gateway Basic authentication", .serialized)
struct GatewayBasicAuthTests {
    static let svcA = GatewayProxyTests.svcA

    func get(_ client: any TestClientProtocol, _ uri: String, headers: HTTPFields) async throws -> (HTTPResponse.Status, String, HTTPFields) {
        try await client.execute(uri: uri, method: .get, headers: headers) { ($0.status, String(buffer: $0.body), $0.headers) }
    }

    func basic(_ enclave: TestEnclave, _ user: User, name: String = "git") async throws -> String {
        BasicCredentialsTests.basic("\(name):\(try await enclave.token(user))")
    }

    @Test func anAccessTokenAsTheBasicPasswordOpensTheServiceAndTheToolIsToldWho() async throws {
        try await withGateway { enclave, client, _ in
            let spoofed = try #require(HTTPField.Name("X-Forwarded-User"))
            let (status, body, _) = try await get(
                client, "\(Self.svcA)/echo/info/refs", headers: [.authorization: try await basic(enclave, TestUsers.researcher), spoofed: "res-0005"])
            #expect(status == .ok, "\(body)")
            #expect(body.contains("x-forwarded-user: \(TestUsers.researcher.id)"), "\(body)")
            #expect(body.contains("x-forwarded-email: \(TestUsers.researcher.email)"))
            #expect(!body.contains("res-0005"), "a client-supplied X-Forwarded-User reached the tool")
            #expect(!body.contains("Basic"), "the Basic credentials reached the tool")
            #expect(body.contains("authorization: token tool-secret"))
            // Bearer callers are named the same way.
            let bearer = try await get(client, "\(Self.svcA)/echo/x", headers: [.authorization: try await enclave.bearer(TestUsers.owner)])
            #expect(bearer.1.contains("x-forwarded-user: \(TestUsers.owner.id)"))
        }
    }

    @Test func aBadOrExpiredTokenOrNoneIs401WithABasicChallengeSoGitAsks() async throws {
        try await withGateway { enclave, client, _ in
            let expired = try await enclave.issuer.token(for: TestUsers.researcher, ttl: 60, now: Date().addingTimeInterval(-7200))
            for authorization in [BasicCredentialsTests.basic("git:\(expired)"), BasicCredentialsTests.basic("git:nonsense"), "Basic %%%", nil] {
                var headers = HTTPFields()
                if let authorization { headers[.authorization] = authorization }
                let (status, body, reply) = try await get(client, "\(Self.svcA)/static", headers: headers)
                #expect(status == .unauthorized, "\(authorization ?? "none"): \(body)")
                #expect(reply[values: .wwwAuthenticate].contains { $0.hasPrefix("Basic realm=\"Enclave") }, "\(reply)")
            }
        }
    }

    @Test func aBrowserWithAnExpiredSessionGets401WithoutABasicChallenge() async throws {
        try await withGateway { _, client, _ in
            let (status, _, reply) = try await get(client, "\(Self.svcA)/api/contents", headers: [.cookie: "enclave_session=expired"])
            #expect(status == .unauthorized)
            #expect(!reply[values: .wwwAuthenticate].contains { $0.hasPrefix("Basic") }, "a browser would show its own password dialog")
        }
    }

    @Test func aValidTokenOfAUserWithoutARoleIs403() async throws {
        try await withGateway { enclave, client, _ in
            let status = try await get(client, "\(Self.svcA)/static", headers: [.authorization: try await basic(enclave, TestUsers.noRole)]).0
            #expect(status == .forbidden)
        }
    }

    @Test func basicCredentialsFromAnotherSiteAreRefused() async throws {
        try await withGateway { enclave, client, _ in
            let site = try #require(HTTPField.Name("Sec-Fetch-Site"))
            let headers: HTTPFields = [.authorization: try await basic(enclave, TestUsers.researcher), site: "cross-site"]
            #expect(try await get(client, "\(Self.svcA)/static", headers: headers).0 == .forbidden)
        }
    }

    @Test func theAPIStillAcceptsOnlyBearerTokens() async throws {
        try await withGateway { enclave, client, _ in
            let (status, body, _) = try await get(client, "/api/workspaces", headers: [.authorization: try await basic(enclave, TestUsers.admin)])
            #expect(status == .unauthorized)
            #expect(body.contains("'Bearer <token>'"))
        }
    }
}
