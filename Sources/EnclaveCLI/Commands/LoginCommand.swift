public import ArgumentParser
import EnclaveAPI
import EnclaveCore
import Foundation

/// `enclave login --url URL`: signs in at the server's identity provider (browser or device code) and
/// saves the tokens; `--token` saves a given token instead.
public struct LoginCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Sign in to a server (browser or device code), or save a bearer token, for the client commands.",
        discussion: """
            Without --token, signs in at the identity provider the server names in /api/.metadata: in your \
            browser when one is available ($BROWSER, or a desktop session with xdg-open), else with a code \
            you enter on another device (--device forces that). The tokens are saved to \
            $XDG_CONFIG_HOME/enclave/config.json (else ~/.config/enclave/config.json), mode 0600, and refreshed \
            automatically. With --token (or $ENCLAVE_TOKEN), that token is saved as is, e.g. one from \
            `enclave token` on a development server.
            """)

    @Option(help: "Server URL, e.g. https://enclave.example.org.") public var url: String
    @Option(help: "Save this bearer token instead of signing in (default: $ENCLAVE_TOKEN).") public var token: String?
    @Flag(help: "Sign in with a code entered on another device, even when a browser is available.") public var device = false
    @Option(help: "Seconds to wait for the browser sign-in.") public var timeout: Int = 300
    @Flag(help: "Save without checking that the server accepts the token.") public var noVerify = false

    public init() {}

    public func run() async throws {
        let environment = CLIEnvironment.current
        try await environment.reportingErrors {
            let store = ConfigStore(variables: environment.variables)
            let login: StoredLogin
            if let token = [token, environment.variables["ENCLAVE_TOKEN"]].compactMap({ $0 }).first(where: { !$0.isEmpty }) {
                login = StoredLogin(url: url, token: token)
            } else if token != nil {
                throw CLIError("--token is empty: pass the token, or leave --token out to sign in")
            } else {
                login = try await signIn(environment)
            }
            if !noVerify {
                // Any authenticated route will do; this one is open to both core roles and cheap.
                _ = try await EnclaveClient(
                    baseURL: url, token: login.token, httpClient: environment.httpClient, timeout: environment.requestTimeout
                ).get("/api/operations")
            }
            let previous = try await store.withLock {
                let previous = try? store.load()
                try store.save(login)
                return previous
            }
            if let previous, previous.refreshToken != nil, previous.refreshToken != login.refreshToken {
                _ = await LogoutCommand.revoke(previous, environment: environment)  // the replaced sign-in ends too
            }
            let who = Self.displayName(login.token).map { " as \($0)" } ?? ""
            environment.printError("Logged in to \(url)\(who); saved to \(store.file.path)")
            if login.issuer != nil, login.refreshToken == nil {
                environment.printError(
                    "Note: the provider issued no refresh token, so you will have to sign in again when this token expires.")
            }
        }
    }

    /// The sign-in at the server's provider, as the login to save.
    func signIn(_ environment: CLIEnvironment) async throws -> StoredLogin {
        let oauth = OAuthClient(httpClient: environment.httpClient, timeout: environment.requestTimeout)
        let info = try await oauth.signInInfo(server: url)
        let endpoints = try await oauth.discover(issuer: info.issuer)
        let tokens: TokenSet
        if !device, let openBrowser = environment.openBrowser {
            let flow = BrowserSignIn(oauth: oauth, endpoints: endpoints, clientId: info.clientId, scopes: info.scopes)
            tokens = try await flow.run(timeout: .seconds(max(timeout, 1))) { authorizationURL in
                environment.printError("Opening your browser to sign in at \(info.issuer)")
                environment.printError("If it does not open, visit this address on this machine:\n\n  \(authorizationURL)\n")
                if !openBrowser(authorizationURL) { environment.printError("(The browser could not be started.)") }
                environment.printError("Waiting for the sign-in (Ctrl-C to cancel)…")
            }
        } else {
            guard let endpoint = endpoints.deviceAuthorizationEndpoint else {
                throw CLIError(
                    "No browser is available here and \(info.issuer) offers no device sign-in: set BROWSER, sign in on a machine "
                        + "with a browser, or save a token with --token")
            }
            let authorization = try await oauth.authorizeDevice(endpoint: endpoint, clientId: info.clientId, scopes: info.scopes)
            environment.printError("To sign in, visit \(authorization.verificationURI) and enter the code:\n\n  \(authorization.userCode)\n")
            if let complete = authorization.verificationURIComplete {
                environment.printError("or open \(complete)")
            }
            environment.printError("Waiting for the sign-in (the code expires in \(Int(authorization.expiresIn / 60)) min; Ctrl-C to cancel)…")
            tokens = try await DeviceSignIn(
                oauth: oauth, clientId: info.clientId, tokenEndpoint: endpoints.tokenEndpoint, now: environment.now,
                sleep: environment.sleep
            ).poll(authorization)
        }
        return StoredLogin(
            url: url, token: tokens.accessToken, refreshToken: tokens.refreshToken, expiresAt: tokens.expiresAt(now: environment.now()),
            issuer: endpoints.issuer, clientId: info.clientId, tokenEndpoint: endpoints.tokenEndpoint,
            revocationEndpoint: endpoints.revocationEndpoint)
    }

    /// `preferred_username` (or `name`, `email`) of a JWT, read unverified and only to greet the user.
    static func displayName(_ token: String) -> String? {
        let parts = token.split(separator: ".")
        guard parts.count == 3 else { return nil }
        var base64 = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64),
            let claims = try? JSONDecoder().decode([String: JSONValue].self, from: data)
        else { return nil }
        return ["preferred_username", "name", "email"].lazy.compactMap { claims[$0]?.stringValue }.first { !$0.isEmpty }
    }
}

/// `enclave logout`: revokes the saved sign-in at the provider and forgets it.
public struct LogoutCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "logout",
        abstract: "Sign out: revoke the saved refresh token at the identity provider and remove the saved login.")

    public init() {}

    public func run() async throws {
        let environment = CLIEnvironment.current
        try await environment.reportingErrors {
            let store = ConfigStore(variables: environment.variables)
            // Under the lock, so no other process spends the refresh token while it is being revoked.
            let (removed, revocation) = try await store.withLock {
                var revocation: Revocation?
                if let saved = try store.load() { revocation = await Self.revoke(saved, environment: environment) }
                return (try store.remove(), revocation)
            }
            if let revocation, let message = revocation.message { environment.printError(message) }
            environment.printError(removed ? "Logged out; removed \(store.file.path)" : "Not logged in")
        }
    }

    /// What revoking a login came to: nothing to revoke, revoked, or a warning to show.
    struct Revocation {
        var message: String?
    }

    /// Revokes `login`'s refresh token at its provider (RFC 7009), best effort within 10 s: the endpoint
    /// saved at sign-in, else the one discovery names now. Never throws: signing out locally must work
    /// even when the provider is unreachable.
    static func revoke(_ login: StoredLogin, environment: CLIEnvironment) async -> Revocation {
        guard let refreshToken = login.refreshToken, let clientId = login.clientId else { return Revocation() }
        let oauth = OAuthClient(httpClient: environment.httpClient, timeout: .seconds(10))
        var endpoint = login.revocationEndpoint
        if endpoint == nil, let issuer = login.issuer {
            endpoint = try? await oauth.discover(issuer: issuer).revocationEndpoint
        }
        guard let endpoint else {
            return Revocation(message: "The provider offers no token revocation; the sign-in ends when its refresh token expires.")
        }
        do throws(EnclaveClientError) {
            try await oauth.revoke(refreshToken, clientId: clientId, endpoint: endpoint)
            return Revocation(message: "Revoked the sign-in at \(login.issuer ?? endpoint)")
        } catch {
            return Revocation(
                message: "Warning: could not revoke the sign-in at \(endpoint) (\(error.description)); it ends when its refresh token expires.")
        }
    }
}
