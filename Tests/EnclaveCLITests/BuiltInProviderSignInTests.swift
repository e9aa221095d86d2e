import AsyncHTTPClient
import EnclaveAPI
import EnclaveAuth
import EnclaveCore
import EnclaveServer
import EnclaveStore
import EnclaveTesting
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import Testing

@testable import EnclaveCLI

/// `enclave login`, the refresh and `enclave logout` end to end against the real built-in provider:
/// a live server on a fixed free port (its issuer must be the URL the CLI reaches), whose HTML sign-in
/// pages (password, then TOTP) a scripted browser fills in.
@Suite("Sign-in against the built-in provider", .serialized)
struct BuiltInProviderSignInTests {
    static let password = "correct horse battery"

    /// A live server and its dependencies, on `http://127.0.0.1:PORT`.
    func withServer(_ body: @Sendable (_ base: String, _ deps: EnclaveDependencies) async throws -> Void) async throws {
        let dir = try TestPaths.temporaryDirectory("cli-signin")
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = try await Self.freePort()
        let base = "http://127.0.0.1:\(port)"
        var logger = Logger(label: "enclave.test")
        logger.logLevel = .warning
        let configuration = ServerConfiguration(
            dataDir: dir.path, port: port, workers: 0, templatesDir: TestPaths.templates, logLevel: .warning, publicURL: base,
            airlock: AirlockServerSettings(scanner: .none))
        let deps = try await buildDependencies(configuration, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [try buildApplication(deps)], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var failure: (any Error)?
            do {
                let probe = EnclaveClient(baseURL: base, token: nil, timeout: .seconds(2))
                var up = false
                for _ in 0..<100 where !up {
                    up = (try? await probe.send(.get, "/api/.metadata"))?.isSuccess == true
                    if !up { try await Task.sleep(for: .milliseconds(100)) }
                }
                try #require(up, "the server did not come up on \(base)")
                try await body(base, deps)
            } catch {
                failure = error
            }
            // A graceful shutdown, waited for: cancelling the server instead makes it log errors.
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            if let failure { throw failure }
        }
    }

    /// A port nothing listens on now (bound, read, released).
    static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(channel.localAddress?.port)
        try await channel.close()
        return port
    }

    /// A TREUser with a password and an enrolled authenticator, made in the store as `enclave users add`
    /// and a first sign-in would; returns the TOTP secret.
    static func account(_ deps: EnclaveDependencies, username: String) async throws -> String {
        let secret = TOTPCode.generateSecret()
        let account = UserAccount(
            id: UUID().uuidString.lowercased(), username: username, name: "Rosa Franklin", email: "\(username)@example.org",
            roles: ["TREUser"], passwordHash: await PasswordHasher().hash(password),
            totpSecretSealed: try deps.controlPlane.secrets.seal(["totp": .string(secret)]),
            createdAt: Date().timeIntervalSince1970)
        try await deps.store.createUser(
            account,
            audit: AuditEntry(
                id: UUID().uuidString.lowercased(), time: account.createdAt, actor: .system, action: .userCreate,
                target: "/oidc/users/\(account.id)"))
        return secret
    }

    @Test("login signs in through the browser pages (password, TOTP) with PKCE; the token works, refreshes and logout revokes it")
    func browserSignInRefreshAndLogout() async throws {
        try await withServer { base, deps in
            let secret = try await Self.account(deps, username: "rosa")
            let home = try temporaryConfigHome()
            defer { try? FileManager.default.removeItem(at: home) }
            let variables = ["XDG_CONFIG_HOME": home.path]
            let (urls, sink) = AsyncStream<String>.makeStream()
            async let login = runCLI(["login", "--url", base], variables: variables) { environment in
                environment.openBrowser = { url in
                    sink.yield(url)
                    return true
                }
            }
            var iterator = urls.makeAsyncIterator()
            let authorizationURL = try #require(await iterator.next())
            #expect(authorizationURL.hasPrefix("\(base)/oidc/authorize?"))
            let pages = SignInPages()
            _ = try await pages.get(authorizationURL)
            let totp = try await pages.post(base + "/oidc/authorize", ["username": "rosa", "password": Self.password])
            #expect(totp.text.contains("Authenticator code"), "\(totp.text)")
            let redirect = try await pages.post(base + "/oidc/authorize", ["code": TOTPCode(secret: secret).code(at: Date())])
            let location = try #require(redirect.location, "\(redirect.status): \(redirect.text)")
            #expect(location.hasPrefix("http://127.0.0.1:") && location.contains("/callback?code="))
            let done = try await pages.get(location)
            #expect(done.status == 200 && done.text.contains("signed in"))
            let result = await login
            #expect(result.exitCode == 0, "\(result.stderr)")
            #expect(result.stderr.contains("Logged in to \(base) as rosa"))

            let store = ConfigStore(variables: variables)
            let saved = try #require(try store.load())
            #expect(saved.issuer == "\(base)/oidc" && saved.clientId == "enclave-cli" && saved.refreshToken != nil)
            #expect(saved.revocationEndpoint == "\(base)/oidc/revoke")
            #expect(await runCLI(["operations", "list"], variables: variables).exitCode == 0)

            // Within a minute of expiry: the next command refreshes at the provider and saves the new pair.
            var expiring = saved
            expiring.expiresAt = Date().timeIntervalSince1970 + 30
            try store.save(expiring)
            let afterRefresh = await runCLI(["operations", "list"], variables: variables)
            #expect(afterRefresh.exitCode == 0, "\(afterRefresh.stderr)")
            let refreshed = try #require(try store.load())
            #expect(refreshed.refreshToken != saved.refreshToken && refreshed.token != saved.token)
            #expect((refreshed.expiresAt ?? 0) > Date().timeIntervalSince1970 + 600)

            // logout revokes the family: the refresh token no longer works at the provider.
            let logout = await runCLI(["logout"], variables: variables)
            #expect(logout.exitCode == 0 && logout.stderr.contains("Revoked the sign-in"), "\(logout.stderr)")
            let oauth = OAuthClient()
            let spent = try await oauth.refresh(
                try #require(refreshed.refreshToken), clientId: "enclave-cli", tokenEndpoint: "\(base)/oidc/token")
            #expect(spent == .error(code: "invalid_grant", description: "the grant is invalid, expired, revoked or already used"))
        }
    }

    @Test("login --device prints a code; approving it on the verification page signs the CLI in")
    func deviceSignIn() async throws {
        try await withServer { base, deps in
            let secret = try await Self.account(deps, username: "dora")
            let home = try temporaryConfigHome()
            defer { try? FileManager.default.removeItem(at: home) }
            let variables = ["XDG_CONFIG_HOME": home.path]
            let (lines, sink) = AsyncStream<String>.makeStream()
            async let login = runCLI(["login", "--url", base, "--device"], variables: variables) { environment in
                let write = environment.writeError
                environment.writeError = { text in
                    write(text)
                    sink.yield(text)
                }
            }
            var complete: String?
            for await text in lines {
                if let range = text.range(of: "or open ") {
                    complete = String(text[range.upperBound...]).trimmingCharacters(in: .whitespacesAndNewlines)
                    break
                }
            }
            let verification = try #require(complete)
            #expect(verification.hasPrefix("\(base)/oidc/device?user_code="))
            let pages = SignInPages()
            let entry = try await pages.get(verification)
            #expect(entry.text.contains("name=\"password\""), "\(entry.text)")
            _ = try await pages.post(base + "/oidc/authorize", ["username": "dora", "password": Self.password])
            let approved = try await pages.post(base + "/oidc/authorize", ["code": TOTPCode(secret: secret).code(at: Date())])
            #expect(approved.text.contains("Return to your terminal"), "\(approved.text)")
            let result = await login
            #expect(result.exitCode == 0, "\(result.stderr)")
            let saved = try #require(try ConfigStore(variables: variables).load())
            #expect(saved.refreshToken != nil)
            #expect(await runCLI(["operations", "list"], variables: variables).exitCode == 0)
        }
    }
}

/// A scripted browser for the built-in provider's sign-in pages over real HTTP: keeps the sign-in cookie,
/// reads each page's CSRF token, posts forms, and does not follow redirects.
final class SignInPages: Sendable {
    /// Lives as long as the test process, like `EnclaveClient.sharedHTTPClient`, so it needs no shutdown.
    static let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
    private let state = Mutex((cookie: String?.none, csrf: String?.none))

    func get(_ url: String) async throws -> EnclaveClient.Response {
        try await send(.get, url, body: nil)
    }

    /// Posts a form with the last page's CSRF token.
    func post(_ url: String, _ fields: [String: String]) async throws -> EnclaveClient.Response {
        let csrf = state.withLock { $0.csrf } ?? ""
        let form = OAuthClient.formEncode((fields.merging(["csrf": csrf]) { old, _ in old }).sorted { $0.key < $1.key })
        return try await send(.post, url, body: form)
    }

    private func send(_ method: EnclaveClient.Method, _ url: String, body: String?) async throws -> EnclaveClient.Response {
        var headers: [String: String] = [:]
        if let cookie = state.withLock({ $0.cookie }) { headers["Cookie"] = "enclave_signin=\(cookie)" }
        if body != nil { headers["Content-Type"] = "application/x-www-form-urlencoded" }
        headers["Accept"] = "text/html"
        // Two minutes, as the CLI harness: a password check queued behind the suite's other sign-ins.
        let response = try await EnclaveClient(baseURL: url, token: nil, httpClient: Self.client, timeout: .seconds(120)).send(
            method, url, body: body.map { Data($0.utf8) }, headers: headers)
        state.withLock { state in
            if let set = response.header("set-cookie"), set.hasPrefix("enclave_signin=") {
                let value = set.dropFirst("enclave_signin=".count).prefix { $0 != ";" }
                state.cookie = value.isEmpty ? nil : String(value)
            }
            if let range = response.text.range(of: #"name="csrf" value="[^"]+""#, options: .regularExpression) {
                state.csrf = String(response.text[range].dropFirst(#"name="csrf" value=""#.count).dropLast())
            }
        }
        return response
    }
}
