// The standard OAuth 2.0 / OpenID Connect calls `enclave login`, the token refresh and `enclave logout`
// make: discovery, the token endpoint (RFC 6749), device authorization (RFC 8628) and revocation
// (RFC 7009). Written against the standards, so the built-in provider, Entra ID and Keycloak all work.
public import AsyncHTTPClient
public import EnclaveAPI
import EnclaveCore
import Foundation

/// What the server's `GET /api/.metadata` says about signing in to it.
public struct ServerSignInInfo: Sendable, Equatable {
    /// The issuer the CLI signs in against (the built-in provider's, or the external provider's).
    public var issuer: String
    /// The public client registered for the CLI (the built-in provider's is `enclave-cli`).
    public var clientId: String
    /// Space-separated scopes to ask for; include `offline_access` for a refresh token.
    public var scopes: String
}

/// The provider's endpoints, from `<issuer>/.well-known/openid-configuration`.
public struct ProviderEndpoints: Sendable, Equatable, Decodable {
    public var issuer: String
    public var authorizationEndpoint: String
    public var tokenEndpoint: String
    public var deviceAuthorizationEndpoint: String?
    public var revocationEndpoint: String?
    public var endSessionEndpoint: String?

    enum CodingKeys: String, CodingKey {
        case issuer
        case authorizationEndpoint = "authorization_endpoint"
        case tokenEndpoint = "token_endpoint"
        case deviceAuthorizationEndpoint = "device_authorization_endpoint"
        case revocationEndpoint = "revocation_endpoint"
        case endSessionEndpoint = "end_session_endpoint"
    }
}

/// A successful token response (RFC 6749 §5.1).
public struct TokenSet: Sendable, Equatable, Decodable {
    public var accessToken: String
    public var refreshToken: String?
    public var idToken: String?
    public var tokenType: String?
    public var expiresIn: Double?
    public var scope: String?

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token"
        case refreshToken = "refresh_token"
        case idToken = "id_token"
        case tokenType = "token_type"
        case expiresIn = "expires_in"
        case scope
    }

    public init(accessToken: String, refreshToken: String? = nil, expiresIn: Double? = nil) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.expiresIn = expiresIn
    }

    /// When the access token expires: `expires_in` from `now`, else the token's own `exp` claim when it is
    /// a JWT, else nil (unknown: the token is then only renewed after the server refuses it).
    public func expiresAt(now: Double) -> Double? {
        if let expiresIn { return now + expiresIn }
        return Self.jwtExpiry(accessToken)
    }

    /// The `exp` claim of a JWT, read without verifying it (only to schedule a refresh).
    static func jwtExpiry(_ token: String) -> Double? {
        let parts = token.split(separator: ".")
        guard parts.count == 3 else { return nil }
        var base64 = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64),
            let claims = try? JSONDecoder().decode([String: JSONValue].self, from: data)
        else { return nil }
        switch claims["exp"] {
        case .int(let value): return Double(value)
        case .double(let value): return value
        default: return nil
        }
    }
}

/// The token endpoint's answer: tokens, or an RFC 6749 §5.2 error such as `invalid_grant` or (device
/// flow) `authorization_pending`.
public enum TokenEndpointResult: Sendable, Equatable {
    case tokens(TokenSet)
    case error(code: String, description: String?)
}

/// An RFC 8628 device authorization response.
public struct DeviceAuthorization: Sendable, Equatable, Decodable {
    public var deviceCode: String
    public var userCode: String
    public var verificationURI: String
    public var verificationURIComplete: String?
    public var expiresIn: Double
    public var interval: Double?

    enum CodingKeys: String, CodingKey {
        case deviceCode = "device_code"
        case userCode = "user_code"
        case verificationURI = "verification_uri"
        case verificationURIComplete = "verification_uri_complete"
        case expiresIn = "expires_in"
        case interval
    }

    public init(
        deviceCode: String, userCode: String, verificationURI: String, verificationURIComplete: String? = nil,
        expiresIn: Double, interval: Double? = nil
    ) {
        self.deviceCode = deviceCode
        self.userCode = userCode
        self.verificationURI = verificationURI
        self.verificationURIComplete = verificationURIComplete
        self.expiresIn = expiresIn
        self.interval = interval
    }
}

/// Talks to the server's metadata and to the identity provider's standard endpoints.
///
/// Every call has the same deadline as API calls; provider endpoints must be https, except on loopback
/// (a development server), so tokens and codes never cross a network in the clear.
public struct OAuthClient: Sendable {
    public var httpClient: HTTPClient
    public var timeout: Duration

    public init(httpClient: HTTPClient = EnclaveClient.sharedHTTPClient, timeout: Duration = .seconds(30)) {
        self.httpClient = httpClient
        self.timeout = timeout
    }

    private func client(_ base: String) -> EnclaveClient {
        EnclaveClient(baseURL: base, token: nil, httpClient: httpClient, maxBodyBytes: 1 << 20, timeout: timeout)
    }

    /// The sign-in settings the server at `url` publishes in `GET /api/.metadata`.
    public func signInInfo(server url: String) async throws -> ServerSignInInfo {
        let api = client(url)
        let metadata = try api.decode([String: JSONValue].self, from: try await api.get("/api/.metadata"))
        guard let issuer = metadata["oidc_issuer"]?.stringValue, !issuer.isEmpty,
            let clientId = metadata["cli_client_id"]?.stringValue, !clientId.isEmpty
        else {
            throw CLIError(
                "\(url) does not name an identity provider for the CLI (oidc_issuer and cli_client_id in /api/.metadata); "
                    + "sign in with a token instead: enclave login --url \(url) --token TOKEN")
        }
        let scopes = metadata["cli_scopes"]?.stringValue ?? "openid profile email offline_access"
        return ServerSignInInfo(issuer: issuer, clientId: clientId, scopes: scopes)
    }

    /// The provider's endpoints from discovery; refuses a document for another issuer (OpenID Connect
    /// Discovery §4.3) and endpoints that are not https.
    public func discover(issuer: String) async throws -> ProviderEndpoints {
        var base = issuer
        while base.hasSuffix("/") { base.removeLast() }
        let discovery = client(base)
        let response = try await discovery.get(base + "/.well-known/openid-configuration")
        let endpoints = try discovery.decode(ProviderEndpoints.self, from: response)
        guard endpoints.issuer == issuer else {
            throw CLIError("The provider at \(response.url) calls itself '\(endpoints.issuer)', not '\(issuer)'; refusing to sign in")
        }
        for endpoint in [endpoints.authorizationEndpoint, endpoints.tokenEndpoint]
            + [endpoints.deviceAuthorizationEndpoint, endpoints.revocationEndpoint].compactMap({ $0 })
        {
            try Self.requireSecure(endpoint)
        }
        return endpoints
    }

    /// Refuses plain http except to this machine.
    static func requireSecure(_ endpoint: String) throws(CLIError) {
        guard let url = URL(string: endpoint), let scheme = url.scheme?.lowercased(), let host = url.host?.lowercased() else {
            throw CLIError("The provider's endpoint '\(endpoint)' is not a URL")
        }
        let loopback = ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host)
        guard scheme == "https" || (scheme == "http" && loopback) else {
            throw CLIError("The provider's endpoint \(endpoint) is not https; refusing to send credentials to it")
        }
    }

    /// POSTs an `application/x-www-form-urlencoded` body.
    public func postForm(_ endpoint: String, _ fields: [(String, String)]) async throws(EnclaveClientError) -> EnclaveClient.Response {
        try await client(endpoint).send(
            .post, endpoint, body: Data(Self.formEncode(fields).utf8),
            headers: ["Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"])
    }

    /// Calls the token endpoint: tokens, an OAuth error (any 4xx with an `error` member), or a thrown
    /// error for anything else (unreachable, 5xx, a body that is not a token response).
    public func requestTokens(_ endpoint: String, _ fields: [(String, String)]) async throws(EnclaveClientError)
        -> TokenEndpointResult
    {
        let response = try await postForm(endpoint, fields)
        if response.isSuccess {
            do {
                return .tokens(try JSONDecoder().decode(TokenSet.self, from: response.body))
            } catch {
                throw EnclaveClientError.invalidResponse(url: response.url, reason: "not a token response (\(error))")
            }
        }
        if (400..<500).contains(response.status),
            let body = try? JSONDecoder().decode([String: JSONValue].self, from: response.body),
            let code = body["error"]?.stringValue
        {
            return .error(code: code, description: body["error_description"]?.stringValue)
        }
        throw EnclaveClientError.api(
            status: response.status, message: response.text.isEmpty ? "no message" : response.text, url: response.url)
    }

    /// Redeems an authorization code with its PKCE verifier.
    public func redeem(
        code: String, verifier: String, redirectURI: String, clientId: String, tokenEndpoint: String
    ) async throws(EnclaveClientError) -> TokenEndpointResult {
        try await requestTokens(
            tokenEndpoint,
            [
                ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI),
                ("client_id", clientId), ("code_verifier", verifier),
            ])
    }

    /// Spends a refresh token for new tokens (the provider may rotate the refresh token).
    public func refresh(_ refreshToken: String, clientId: String, tokenEndpoint: String) async throws(EnclaveClientError)
        -> TokenEndpointResult
    {
        try await requestTokens(
            tokenEndpoint, [("grant_type", "refresh_token"), ("refresh_token", refreshToken), ("client_id", clientId)])
    }

    /// Starts an RFC 8628 device authorization.
    public func authorizeDevice(endpoint: String, clientId: String, scopes: String) async throws -> DeviceAuthorization {
        let response = try await postForm(endpoint, [("client_id", clientId), ("scope", scopes)])
        if !response.isSuccess, let body = try? JSONDecoder().decode([String: JSONValue].self, from: response.body),
            let code = body["error"]?.stringValue
        {
            let detail = body["error_description"]?.stringValue.map { ": \($0)" } ?? ""
            throw CLIError("The provider refused to start a device sign-in (\(code)\(detail))")
        }
        try response.requireSuccess()
        do {
            return try JSONDecoder().decode(DeviceAuthorization.self, from: response.body)
        } catch {
            throw EnclaveClientError.invalidResponse(url: response.url, reason: "not a device authorization response (\(error))")
        }
    }

    /// Revokes a token (RFC 7009); throws unless the provider answered 2xx.
    public func revoke(_ token: String, hint: String = "refresh_token", clientId: String, endpoint: String) async throws(EnclaveClientError) {
        try await postForm(endpoint, [("token", token), ("token_type_hint", hint), ("client_id", clientId)]).requireSuccess()
    }

    /// `a=1&b=x%20y`: every character but the unreserved ones percent-encoded.
    public static func formEncode(_ fields: [(String, String)]) -> String {
        fields.map { "\(percentEncode($0.0))=\(percentEncode($0.1))" }.joined(separator: "&")
    }

    static func percentEncode(_ text: String) -> String {
        var allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
