import EnclaveAPI
import EnclaveCore
import Foundation

/// Sign-in in the user's browser: authorization code with PKCE (S256) and a loopback redirect
/// (RFC 6749 §4.1, RFC 7636, RFC 8252).
///
/// A fresh verifier and `state` per attempt: the code is useless without the verifier, which never
/// leaves this process, and a redirect whose `state` differs from the one sent (another page, an
/// attacker on this machine, an old tab) is refused rather than redeemed.
public struct BrowserSignIn: Sendable {
    public var oauth: OAuthClient
    public var endpoints: ProviderEndpoints
    public var clientId: String
    public var scopes: String

    public init(oauth: OAuthClient, endpoints: ProviderEndpoints, clientId: String, scopes: String) {
        self.oauth = oauth
        self.endpoints = endpoints
        self.clientId = clientId
        self.scopes = scopes
    }

    /// Listens for the redirect, hands the authorization URL to `open` (which opens the browser and
    /// prints the URL), waits up to `timeout` for the redirect and redeems the code.
    public func run(timeout: Duration, open: (_ authorizationURL: String) async throws -> Void) async throws -> TokenSet {
        let verifier = Self.randomToken(bytes: 32)
        let state = Self.randomToken(bytes: 16)
        var redirectURI = ""
        let issuer = endpoints.issuer
        let code = try await LoopbackReceiver.receive(timeout: timeout) { uri in
            redirectURI = uri
            try await open(authorizationURL(redirectURI: uri, state: state, challenge: PKCE.challenge(for: verifier)))
        } judge: { query in
            Self.judge(query, state: state, issuer: issuer)
        }
        switch try await oauth.redeem(
            code: code, verifier: verifier, redirectURI: redirectURI, clientId: clientId, tokenEndpoint: endpoints.tokenEndpoint)
        {
        case .tokens(let tokens): return tokens
        case .error(let error, let description):
            throw CLIError("The provider would not redeem the sign-in code (\(error)\(description.map { ": \($0)" } ?? ""))")
        }
    }

    /// The authorization request URL.
    public func authorizationURL(redirectURI: String, state: String, challenge: String) -> String {
        var components = URLComponents(string: endpoints.authorizationEndpoint)
        var items = components?.queryItems ?? []
        items += [
            URLQueryItem(name: "response_type", value: "code"), URLQueryItem(name: "client_id", value: clientId),
            URLQueryItem(name: "redirect_uri", value: redirectURI), URLQueryItem(name: "scope", value: scopes),
            URLQueryItem(name: "state", value: state), URLQueryItem(name: "code_challenge", value: challenge),
            URLQueryItem(name: "code_challenge_method", value: PKCE.method),
        ]
        components?.percentEncodedQuery = items.map {
            "\(OAuthClient.percentEncode($0.name))=\(OAuthClient.percentEncode($0.value ?? ""))"
        }.joined(separator: "&")
        return components?.string ?? endpoints.authorizationEndpoint
    }

    /// What the redirect's query means: the code, or why the sign-in failed. The state must match; an
    /// `iss` parameter, when present, must name the provider signed in at (RFC 9207: no mix-up with
    /// another provider's redirect).
    static func judge(_ query: [String: String], state: String, issuer: String) -> Result<String, CLIError> {
        guard query["state"] == state else {
            return .failure(CLIError("The sign-in redirect did not carry this login's state, so it was refused; run `enclave login` again."))
        }
        if let iss = query["iss"], iss != issuer {
            return .failure(CLIError("The sign-in redirect came from issuer '\(iss)', not '\(issuer)'; refused."))
        }
        if let error = query["error"] {
            let description = query["error_description"].map { ": \($0)" } ?? ""
            return .failure(CLIError("The provider refused the sign-in (\(error)\(description))."))
        }
        guard let code = query["code"], !code.isEmpty else {
            return .failure(CLIError("The sign-in redirect carried no authorization code."))
        }
        return .success(code)
    }

    /// `bytes` random bytes, base64url: a PKCE verifier (32 bytes → 43 characters) or a state value.
    static func randomToken(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return PKCE.base64URL(Data((0..<bytes).map { _ in UInt8.random(in: 0...255, using: &generator) }))
    }
}

/// Sign-in on another device: RFC 8628 device authorization, for machines without a browser (SSH).
///
/// Polls the token endpoint at the provider's interval (5 s if it names none), 5 s slower after each
/// `slow_down`, and backs off while the provider cannot be reached, until the code expires.
public struct DeviceSignIn: Sendable {
    public var oauth: OAuthClient
    public var clientId: String
    public var tokenEndpoint: String
    public var now: @Sendable () -> Double
    public var sleep: @Sendable (Duration) async throws -> Void

    public init(
        oauth: OAuthClient, clientId: String, tokenEndpoint: String, now: @escaping @Sendable () -> Double,
        sleep: @escaping @Sendable (Duration) async throws -> Void
    ) {
        self.oauth = oauth
        self.clientId = clientId
        self.tokenEndpoint = tokenEndpoint
        self.now = now
        self.sleep = sleep
    }

    /// Polls until the user approves (tokens), denies, or the code expires (a `CLIError` saying so).
    public func poll(_ authorization: DeviceAuthorization) async throws -> TokenSet {
        var interval = max(authorization.interval ?? 5, 1)
        let deadline = now() + authorization.expiresIn
        while true {
            try await sleep(.milliseconds(Int64(interval * 1000)))
            guard now() < deadline else { throw Self.expired }
            let result: TokenEndpointResult
            switch await pollOnce(authorization) {
            case .success(let answer): result = answer
            case .failure(.unreachable):
                interval = min(interval * 2, 60)
                continue
            case .failure(let error): throw error
            }
            switch result {
            case .tokens(let tokens): return tokens
            case .error("authorization_pending", _): continue
            case .error("slow_down", _): interval += 5
            case .error("access_denied", _): throw CLIError("The sign-in was denied at the provider; nothing was saved.")
            case .error("expired_token", _): throw Self.expired
            case .error(let code, let description):
                throw CLIError("The provider refused the device sign-in (\(code)\(description.map { ": \($0)" } ?? "")).")
            }
        }
    }

    /// One poll of the token endpoint, its failure as a value.
    private func pollOnce(_ authorization: DeviceAuthorization) async -> Result<TokenEndpointResult, EnclaveClientError> {
        do {
            return .success(
                try await oauth.requestTokens(
                    tokenEndpoint,
                    [
                        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                        ("device_code", authorization.deviceCode), ("client_id", clientId),
                    ]))
        } catch {
            return .failure(error)
        }
    }

    static let expired = CLIError("The code expired before the sign-in was approved; run `enclave login` again for a new one.")
}
