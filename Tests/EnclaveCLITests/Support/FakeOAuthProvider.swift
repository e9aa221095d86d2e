// TEST FAKE: a small OAuth 2.0 / OpenID Connect provider, plus the two Enclave routes `enclave login`
// touches, served by Hummingbird on loopback. It follows the standards the CLI is written against
// (authorization code + PKCE S256, rotating refresh tokens whose reuse revokes the family, RFC 8628
// device authorization, RFC 7009 revocation) and records what it was asked, so the tests can check the
// client's side of each exchange. Not a model of Enclave's built-in provider.
import EnclaveAPI
import EnclaveCore
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

@testable import EnclaveCLI

final class FakeOAuthProvider: Sendable {
    static let clientId = "enclave-cli"

    struct State {
        var base = ""
        /// Seconds each access token lives (`expires_in`).
        var accessLifetime = 3600
        /// How long a refresh takes: long enough that concurrent refreshers would overlap.
        var refreshDelay: Duration = .zero
        /// What the token endpoint answers to device-code polls, in order, before it issues tokens.
        var deviceAnswers: [String] = []
        var advertisesProvider = true
        var offersDevice = true
        var offersRevocation = true

        var codes: [String: (challenge: String, redirectURI: String)] = [:]
        var liveAccess: Set<String> = []
        var liveRefresh: Set<String> = []
        var spentRefresh: Set<String> = []
        var counter = 0
        // Records.
        var authorizeQueries: [[String: String]] = []
        var tokenForms: [[String: String]] = []
        var refreshes = 0
        var familyRevocations = 0
        var revoked: [String] = []
        var devicePolls = 0
    }

    let state = Mutex(State())

    var issuer: String { state.withLock { $0.base } + "/fake-oidc" }

    func with<T>(_ body: (inout State) -> T) -> T { state.withLock { body(&$0) } }

    /// Issues a new access and refresh token pair.
    func issue(_ state: inout State) -> [String: JSONValue] {
        state.counter += 1
        let access = "access-\(state.counter)"
        let refresh = "refresh-\(state.counter)"
        state.liveAccess.insert(access)
        state.liveRefresh.insert(refresh)
        return [
            "access_token": .string(access), "refresh_token": .string(refresh), "id_token": "unused", "token_type": "Bearer",
            "expires_in": .int(state.accessLifetime), "scope": "openid offline_access",
        ]
    }

    /// Runs `body` with the fake listening; its base URL is `http://127.0.0.1:PORT` (the live test server listens on IPv4 loopback only).
    func run(_ body: @Sendable (_ base: String) async throws -> Void) async throws {
        let router = Router()
        router.get("/api/.metadata") { _, _ in
            guard self.with({ $0.advertisesProvider }) else { return Self.json(["api_version": "test"]) }
            return Self.json([
                "api_version": "test", "oidc_issuer": .string(self.issuer), "cli_client_id": .string(Self.clientId),
                "cli_scopes": "openid profile offline_access",
            ])
        }
        router.get("/api/operations") { request, _ in
            let bearer = request.headers[.authorization].map { String($0.dropFirst("Bearer ".count)) } ?? ""
            guard self.with({ $0.liveAccess.contains(bearer) }) else {
                return Response(status: .unauthorized, body: .init(byteBuffer: ByteBuffer(string: "Unauthorized")))
            }
            return Self.json(["operations": []])
        }
        router.get("/fake-oidc/.well-known/openid-configuration") { _, _ in
            let issuer = self.issuer
            var document: [String: JSONValue] = [
                "issuer": .string(issuer), "authorization_endpoint": .string(issuer + "/authorize"),
                "token_endpoint": .string(issuer + "/token"),
            ]
            if self.with({ $0.offersDevice }) { document["device_authorization_endpoint"] = .string(issuer + "/device") }
            if self.with({ $0.offersRevocation }) { document["revocation_endpoint"] = .string(issuer + "/revoke") }
            return Self.json(.object(document))
        }
        router.get("/fake-oidc/authorize") { request, _ in
            var query: [String: String] = [:]
            for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
            let redirect = query["redirect_uri"] ?? ""
            guard query["client_id"] == Self.clientId, redirect.hasPrefix("http://127.0.0.1:"), redirect.hasSuffix("/callback"),
                query["response_type"] == "code", query["code_challenge_method"] == "S256",
                let challenge = query["code_challenge"], PKCE.isWellFormedChallenge(challenge)
            else { return Response(status: .badRequest) }
            let code = self.with { state in
                state.authorizeQueries.append(query)
                state.counter += 1
                let code = "code-\(state.counter)"
                state.codes[code] = (challenge, redirect)
                return code
            }
            var components = URLComponents(string: redirect)
            components?.queryItems = [
                URLQueryItem(name: "code", value: code), URLQueryItem(name: "state", value: query["state"]),
                URLQueryItem(name: "iss", value: self.issuer),
            ]
            return Response(status: .found, headers: [.location: components?.string ?? redirect])
        }
        router.post("/fake-oidc/token") { request, _ in
            let form = try await Self.form(request)
            self.with { $0.tokenForms.append(form) }
            guard form["client_id"] == Self.clientId else { return Self.oauthError("invalid_client") }
            switch form["grant_type"] {
            case "authorization_code":
                let ok = self.with { state -> [String: JSONValue]? in
                    guard let code = form["code"], let stored = state.codes.removeValue(forKey: code),
                        stored.redirectURI == form["redirect_uri"],
                        PKCE.verify(verifier: form["code_verifier"] ?? "", challenge: stored.challenge)
                    else { return nil }
                    return self.issue(&state)
                }
                return ok.map { Self.json(.object($0)) } ?? Self.oauthError("invalid_grant")
            case "refresh_token":
                try await Task.sleep(for: self.with { $0.refreshDelay })
                let tokens = self.with { state -> [String: JSONValue]? in
                    let presented = form["refresh_token"] ?? ""
                    if state.spentRefresh.contains(presented) {
                        // Reuse of a spent token: revoke the whole family, as real providers do.
                        state.familyRevocations += 1
                        state.liveRefresh.removeAll()
                        state.liveAccess.removeAll()
                        return nil
                    }
                    guard state.liveRefresh.remove(presented) != nil else { return nil }
                    state.spentRefresh.insert(presented)
                    state.refreshes += 1
                    return self.issue(&state)
                }
                return tokens.map { Self.json(.object($0)) } ?? Self.oauthError("invalid_grant")
            case "urn:ietf:params:oauth:grant-type:device_code":
                guard form["device_code"] == "device-1" else { return Self.oauthError("invalid_grant") }
                let answer = self.with { state -> (tokens: [String: JSONValue]?, error: String?) in
                    state.devicePolls += 1
                    if !state.deviceAnswers.isEmpty { return (nil, state.deviceAnswers.removeFirst()) }
                    return (self.issue(&state), nil)
                }
                if let tokens = answer.tokens { return Self.json(.object(tokens)) }
                return Self.oauthError(answer.error ?? "invalid_grant")
            default:
                return Self.oauthError("unsupported_grant_type")
            }
        }
        router.post("/fake-oidc/device") { request, _ in
            let form = try await Self.form(request)
            guard form["client_id"] == Self.clientId, form["scope"]?.contains("offline_access") == true else {
                return Self.oauthError("invalid_request")
            }
            let issuer = self.issuer
            return Self.json([
                "device_code": "device-1", "user_code": "WDJB-MJHT", "verification_uri": .string(issuer + "/device"),
                "verification_uri_complete": .string(issuer + "/device?user_code=WDJB-MJHT"), "expires_in": 600, "interval": 5,
            ])
        }
        router.post("/fake-oidc/revoke") { request, _ in
            let form = try await Self.form(request)
            self.with { state in
                state.revoked.append(form["token"] ?? "")
                state.liveRefresh.remove(form["token"] ?? "")
            }
            return Response(status: .ok)
        }
        try await Application(router: router).test(.live) { client in
            let port = try #require(client.port)
            let base = "http://127.0.0.1:\(port)"
            self.with { $0.base = base }
            try await body(base)
        }
    }

    static func json(_ value: JSONValue) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: value.description)))
    }

    static func oauthError(_ code: String) -> Response {
        Response(
            status: .badRequest, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: JSONValue.object(["error": .string(code)]).description)))
    }

    static func form(_ request: Request) async throws -> [String: String] {
        let text = String(buffer: try await request.body.collect(upTo: 65536))
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let value = parts.count > 1 ? parts[1].replacingOccurrences(of: "+", with: " ") : ""
            fields[String(parts[0]).removingPercentEncoding ?? ""] = value.removingPercentEncoding ?? ""
        }
        return fields
    }
}

/// A scripted browser for the fake's sign-in: follows the authorization URL to its redirect by hand
/// (redirects are not followed automatically), optionally changing the redirect on the way.
struct ScriptedBrowser {
    /// Visits `authorizationURL`; `tamper` may rewrite the loopback redirect before it is followed.
    /// Returns the loopback page's status and text.
    static func signIn(_ authorizationURL: String, tamper: @Sendable (String) -> String = { $0 }) async throws -> (status: Int, page: String) {
        let api = EnclaveClient(baseURL: "http://unused", token: nil, httpClient: SignInPages.client)
        let authorize = try await api.send(.get, authorizationURL)
        let location = try #require(authorize.location, "the provider answered \(authorize.status): \(authorize.text)")
        let page = try await api.send(.get, tamper(location))
        return (page.status, page.text)
    }
}

/// Captures every sleep instead of sleeping; time moves on by the amount slept.
final class FakeClock: Sendable {
    private let state = Mutex((now: 1_700_000_000.0, sleeps: [Double]()))

    var now: Double { state.withLock { $0.now } }
    var sleeps: [Double] { state.withLock { $0.sleeps } }

    func advance(_ seconds: Double) { state.withLock { $0.now += seconds } }

    func sleep(_ duration: Duration) {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        state.withLock {
            $0.sleeps.append(seconds)
            $0.now += seconds
        }
    }
}
