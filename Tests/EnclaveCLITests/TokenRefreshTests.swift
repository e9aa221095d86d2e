import ArgumentParser
import EnclaveAPI
import EnclaveCore
import Foundation
import Testing

@testable import EnclaveCLI

/// The saved sign-in: automatic refresh under the lock, sign-out when the provider refuses, logout's
/// revocation, and the config file's format.
@Suite("Token refresh and logout")
struct TokenRefreshTests {
    /// A fresh config home and a saved login holding a token pair the fake issued.
    func savedLogin(
        _ provider: FakeOAuthProvider, base: String, home: URL, expiresIn: Double
    ) throws -> (variables: [String: String], login: StoredLogin) {
        let tokens = provider.with { provider.issue(&$0) }
        let login = StoredLogin(
            url: base, token: tokens["access_token"]?.stringValue ?? "", refreshToken: tokens["refresh_token"]?.stringValue,
            expiresAt: Date().timeIntervalSince1970 + expiresIn, issuer: provider.issuer, clientId: FakeOAuthProvider.clientId,
            tokenEndpoint: provider.issuer + "/token", revocationEndpoint: provider.issuer + "/revoke")
        let variables = ["XDG_CONFIG_HOME": home.path]
        try ConfigStore(variables: variables).save(login)
        return (variables, login)
    }

    @Test("Two commands whose token is about to expire spend the refresh token once between them")
    func concurrentRefreshSpendsTheTokenOnce() async throws {
        let provider = FakeOAuthProvider()
        provider.with { $0.refreshDelay = .milliseconds(300) }
        try await provider.run { base in
            let home = try temporaryConfigHome()
            defer { try? FileManager.default.removeItem(at: home) }
            let (variables, old) = try savedLogin(provider, base: base, home: home, expiresIn: 30)
            async let first = runCLI(["operations", "list", "-o", "json"], variables: variables)
            async let second = runCLI(["operations", "list", "-o", "json"], variables: variables)
            let results = await [first, second]
            for result in results { #expect(result.exitCode == 0, "\(result.stderr)") }
            #expect(provider.with { $0.refreshes } == 1)
            #expect(provider.with { $0.familyRevocations } == 0)
            let saved = try #require(try ConfigStore(variables: variables).load())
            #expect(saved.token != old.token && saved.refreshToken != old.refreshToken)
            #expect(provider.with { $0.liveRefresh.contains(saved.refreshToken ?? "") })
            #expect((saved.expiresAt ?? 0) > Date().timeIntervalSince1970 + 3000)
        }
    }

    @Test("Two sessions refreshing at once (as two processes would) take turns: one spends, the other reads its result")
    func sessionsTakeTurnsUnderTheLock() async throws {
        let provider = FakeOAuthProvider()
        provider.with { $0.refreshDelay = .milliseconds(300) }
        try await provider.run { base in
            let home = try temporaryConfigHome()
            defer { try? FileManager.default.removeItem(at: home) }
            let (variables, old) = try savedLogin(provider, base: base, home: home, expiresIn: 10)
            let store = ConfigStore(variables: variables)
            let sessions = (0..<3).map { _ in
                SavedLoginSession(login: old, store: store, oauth: OAuthClient(), now: { Date().timeIntervalSince1970 })
            }
            let tokens = try await withThrowingTaskGroup(of: String?.self) { group in
                for session in sessions { group.addTask { try await session.currentToken() } }
                return try await group.reduce(into: Set<String?>()) { $0.insert($1) }
            }
            #expect(tokens.count == 1 && !tokens.contains(old.token))
            #expect(provider.with { $0.refreshes } == 1)
            #expect(provider.with { $0.familyRevocations } == 0)
        }
    }

    @Test("A token the server refuses is refreshed once and the request sent again")
    func refusedTokenIsRefreshedAndRetried() async throws {
        let provider = FakeOAuthProvider()
        try await provider.run { base in
            let home = try temporaryConfigHome()
            defer { try? FileManager.default.removeItem(at: home) }
            let (variables, old) = try savedLogin(provider, base: base, home: home, expiresIn: 3600)
            provider.with { _ = $0.liveAccess.remove(old.token) }
            let result = await runCLI(["operations", "list", "-o", "json"], variables: variables)
            #expect(result.exitCode == 0, "\(result.stderr)")
            #expect(provider.with { $0.refreshes } == 1)
            #expect(try ConfigStore(variables: variables).load()?.token != old.token)
        }
    }

    @Test("A token that is not near expiry is used as is")
    func freshTokenIsNotRefreshed() async throws {
        let provider = FakeOAuthProvider()
        try await provider.run { base in
            let home = try temporaryConfigHome()
            defer { try? FileManager.default.removeItem(at: home) }
            let (variables, old) = try savedLogin(provider, base: base, home: home, expiresIn: 3600)
            #expect(await runCLI(["operations", "list"], variables: variables).exitCode == 0)
            #expect(provider.with { $0.refreshes } == 0)
            #expect(try ConfigStore(variables: variables).load() == old)
        }
    }

    @Test("When the provider refuses the refresh token, the tokens are cleared and the user told to log in again")
    func refusedRefreshSignsOut() async throws {
        let provider = FakeOAuthProvider()
        try await provider.run { base in
            let home = try temporaryConfigHome()
            defer { try? FileManager.default.removeItem(at: home) }
            let (variables, old) = try savedLogin(provider, base: base, home: home, expiresIn: -10)
            provider.with { _ = $0.liveRefresh.remove(old.refreshToken ?? "") }  // revoked elsewhere
            let result = await runCLI(["operations", "list"], variables: variables)
            #expect(result.exitCode == 1)
            #expect(result.stderr.contains("has expired or was revoked; run `enclave login --url \(base)` again"), "\(result.stderr)")
            let saved = try #require(try ConfigStore(variables: variables).load())
            #expect(saved.token.isEmpty && saved.refreshToken == nil && saved.url == base)
            #expect(try ConfigStore(variables: variables).load()?.canRefresh == false)
        }
    }

    @Test("logout revokes the refresh token at the provider, then removes the file")
    func logoutRevokes() async throws {
        let provider = FakeOAuthProvider()
        try await provider.run { base in
            let home = try temporaryConfigHome()
            defer { try? FileManager.default.removeItem(at: home) }
            let (variables, old) = try savedLogin(provider, base: base, home: home, expiresIn: 3600)
            let result = await runCLI(["logout"], variables: variables)
            #expect(result.exitCode == 0, "\(result.stderr)")
            #expect(provider.with { $0.revoked } == [old.refreshToken ?? "-"])
            #expect(result.stderr.contains("Revoked the sign-in"))
            #expect(try ConfigStore(variables: variables).load() == nil)
        }
    }

    @Test("logout signs out locally even when the provider cannot be reached")
    func logoutWithoutProvider() async throws {
        let home = try temporaryConfigHome()
        defer { try? FileManager.default.removeItem(at: home) }
        let variables = ["XDG_CONFIG_HOME": home.path]
        try ConfigStore(variables: variables).save(
            StoredLogin(
                url: "http://127.0.0.1:1", token: "a", refreshToken: "r", issuer: "http://127.0.0.1:1/oidc", clientId: "enclave-cli",
                tokenEndpoint: "http://127.0.0.1:1/oidc/token", revocationEndpoint: "http://127.0.0.1:1/oidc/revoke"))
        let result = await runCLI(["logout"], variables: variables)
        #expect(result.exitCode == 0)
        #expect(result.stderr.contains("Warning: could not revoke"))
        #expect(try ConfigStore(variables: variables).load() == nil)
    }

    @Test("A config file written before sign-in existed (url and token only) still loads and is never refreshed")
    func oldFormatLoads() throws {
        let home = try temporaryConfigHome()
        defer { try? FileManager.default.removeItem(at: home) }
        let variables = ["XDG_CONFIG_HOME": home.path]
        let store = ConfigStore(variables: variables)
        try FileManager.default.createDirectory(at: store.directory, withIntermediateDirectories: true)
        try Data(#"{"token": "old-token", "url": "http://old"}"#.utf8).write(to: store.file)
        let loaded = try #require(try store.load())
        #expect(loaded == StoredLogin(url: "http://old", token: "old-token"))
        #expect(!loaded.canRefresh)
        let client = try ConnectionOptions.parse([]).client(Captured().environment(variables: variables))
        #expect(client.tokenProvider == nil && client.token == "old-token")
    }

    @Test("The new fields survive a save and load, and the file stays 0600")
    func newFieldsRoundTrip() throws {
        let home = try temporaryConfigHome()
        defer { try? FileManager.default.removeItem(at: home) }
        let store = ConfigStore(variables: ["XDG_CONFIG_HOME": home.path])
        let login = StoredLogin(
            url: "https://e", token: "a", refreshToken: "r", expiresAt: 1_700_000_000.5, issuer: "https://i", clientId: "c",
            tokenEndpoint: "https://i/token", revocationEndpoint: "https://i/revoke")
        try store.save(login)
        #expect(try store.load() == login)
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: store.file.path)[.posixPermissions] as? Int)
        #expect(mode == 0o600)
        let text = try String(contentsOf: store.file, encoding: .utf8)
        #expect(text.contains(#""refreshToken" : "r""#))
    }

    @Test("A token given by flag or environment is never refreshed")
    func explicitTokenIsStatic() throws {
        let home = try temporaryConfigHome()
        defer { try? FileManager.default.removeItem(at: home) }
        var variables = ["XDG_CONFIG_HOME": home.path]
        try ConfigStore(variables: variables).save(
            StoredLogin(url: "http://e", token: "a", refreshToken: "r", clientId: "c", tokenEndpoint: "http://e/token"))
        #expect(try ConnectionOptions.parse([]).client(Captured().environment(variables: variables)).tokenProvider != nil)
        #expect(try ConnectionOptions.parse(["--token", "t"]).client(Captured().environment(variables: variables)).tokenProvider == nil)
        variables["ENCLAVE_TOKEN"] = "e"
        #expect(try ConnectionOptions.parse([]).client(Captured().environment(variables: variables)).tokenProvider == nil)
    }
}
