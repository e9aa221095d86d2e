import EnclaveAPI
import EnclaveCore
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import EnclaveCLI

/// The loopback listener that receives the browser's redirect.
@Suite("Loopback redirect receiver")
struct LoopbackReceiverTests {
    @Test("The first request to /callback ends the wait with its query; other paths get 404; the port closes after")
    func firstCallbackEndsTheWait() async throws {
        let (uris, sink) = AsyncStream<String>.makeStream()
        async let received = LoopbackReceiver.receive(timeout: .seconds(30)) { uri in
            sink.yield(uri)
        } judge: { query in
            .success(query["code"] ?? "")
        }
        var iterator = uris.makeAsyncIterator()
        let uri = try #require(await iterator.next())
        #expect(uri.hasPrefix("http://127.0.0.1:") && uri.hasSuffix("/callback"))
        let port = try #require(Int(uri.dropFirst("http://127.0.0.1:".count).prefix(while: \.isNumber)))

        // A browser's idle pre-connection must not hold up the real request.
        let idle = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get()
        let api = EnclaveClient(baseURL: uri, token: nil)
        let favicon = try await api.send(.get, "http://127.0.0.1:\(port)/favicon.ico")
        #expect(favicon.status == 404)
        let page = try await api.send(.get, uri + "?code=abc&state=xyz")
        #expect(page.status == 200)
        #expect(page.text.contains("You can close this tab"))
        #expect(try await received == "abc")
        try? await idle.close()

        await #expect(throws: EnclaveClientError.self) { try await api.send(.get, uri) }
    }

    @Test("A refused redirect shows the reason in the tab and throws it")
    func refusalIsShownAndThrown() async throws {
        let (uris, sink) = AsyncStream<String>.makeStream()
        async let received: String = LoopbackReceiver.receive(timeout: .seconds(30)) { uri in
            sink.yield(uri)
        } judge: { query in
            BrowserSignIn.judge(query, state: "expected-state", issuer: "https://idp")
        }
        var iterator = uris.makeAsyncIterator()
        let uri = try #require(await iterator.next())
        let page = try await EnclaveClient(baseURL: uri, token: nil).send(.get, uri + "?code=abc&state=forged")
        #expect(page.status == 400)
        #expect(page.text.contains("did not carry this login&#39;s state") || page.text.contains("did not carry this login"))
        do {
            _ = try await received
            Issue.record("a forged state was accepted")
        } catch {
            #expect(error is CLIError)
        }
    }

    @Test("Waiting ends at the timeout with advice, and the port is closed")
    func timeoutClosesThePort() async throws {
        let start = ContinuousClock.now
        let port = Mutex(0)
        let error = await #expect(throws: CLIError.self) {
            try await LoopbackReceiver.receive(timeout: .milliseconds(300)) { uri in
                port.withLock { $0 = Int(uri.dropFirst("http://127.0.0.1:".count).prefix(while: \.isNumber)) ?? 0 }
            } judge: { _ in
                .success("")
            }
        }
        #expect(error?.message.contains("run `enclave login` again") == true)
        // Only "it ends": the whole suite shares two cores, and a loaded run has taken 24 s here.
        #expect(ContinuousClock.now - start < .seconds(45))
        let closed = port.withLock { $0 }
        await #expect(throws: (any Error).self) {
            try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: closed).get()
        }
    }

    @Test("Cancelling the wait ends it promptly")
    func cancellationEndsTheWait() async throws {
        let start = ContinuousClock.now
        let task = Task {
            try await LoopbackReceiver.receive(timeout: .seconds(60)) { _ in
            } judge: { _ in
                .success("")
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        await #expect(throws: (any Error).self) { try await task.value }
        // Well before the 60 s timeout (a loaded run has taken 24 s: the suite shares two cores).
        #expect(ContinuousClock.now - start < .seconds(45))
    }

    @Test(
        "The redirect is judged by state, issuer and error",
        arguments: [
            (["code": "c", "state": "s"], "c"),
            (["code": "c", "state": "s", "iss": "https://idp"], "c"),
            (["code": "c", "state": "other"], nil),
            (["code": "c"], nil),
            (["code": "c", "state": "s", "iss": "https://evil"], nil),
            (["error": "access_denied", "state": "s"], nil),
            (["state": "s"], nil),
        ] as [([String: String], String?)])
    func redirectJudgement(query: [String: String], code: String?) {
        let result = BrowserSignIn.judge(query, state: "s", issuer: "https://idp")
        #expect((try? result.get()) == code)
    }
}

/// `enclave login` against a fake provider: browser (PKCE) and device code.
@Suite("Sign-in")
struct SignInTests {
    func permissions(_ url: URL) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int)
    }

    @Test("login signs in in the browser with PKCE S256 and a fresh state, and saves the tokens 0600")
    func browserSignIn() async throws {
        let provider = FakeOAuthProvider()
        try await provider.run { base in
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
            let page = try await ScriptedBrowser.signIn(authorizationURL)
            let result = await login
            #expect(result.exitCode == 0, "\(result.stderr)")
            #expect(page.status == 200 && page.page.contains("signed in"))
            #expect(result.stderr.contains(authorizationURL), "the URL is printed in case the browser does not open")

            let query = try #require(provider.with { $0.authorizeQueries.first })
            let form = try #require(provider.with { $0.tokenForms.first })
            let verifier = try #require(form["code_verifier"])
            #expect(query["code_challenge_method"] == "S256")
            #expect(PKCE.challenge(for: verifier) == query["code_challenge"])
            #expect(!authorizationURL.contains(verifier), "the verifier never leaves the CLI before the code is redeemed")
            #expect((query["state"]?.count ?? 0) >= 20)
            #expect(query["scope"] == "openid profile offline_access")
            #expect(form["redirect_uri"] == query["redirect_uri"])

            let store = ConfigStore(variables: variables)
            let saved = try #require(try store.load())
            #expect(provider.with { $0.liveAccess.contains(saved.token) && $0.liveRefresh.contains(saved.refreshToken ?? "") })
            #expect(saved.url == base && saved.issuer == provider.issuer && saved.clientId == "enclave-cli")
            #expect(saved.tokenEndpoint == provider.issuer + "/token" && saved.revocationEndpoint == provider.issuer + "/revoke")
            #expect(abs((saved.expiresAt ?? 0) - (Date().timeIntervalSince1970 + 3600)) < 60)
            #expect(try permissions(store.file) == 0o600)
        }
    }

    @Test("A redirect with another state is refused: nothing is redeemed or saved")
    func stateMismatchIsRefused() async throws {
        let provider = FakeOAuthProvider()
        try await provider.run { base in
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
            let page = try await ScriptedBrowser.signIn(authorizationURL) { location in
                guard var components = URLComponents(string: location) else { return location }
                let items = components.queryItems ?? []
                components.queryItems = items.map { $0.name == "state" ? URLQueryItem(name: "state", value: "forged") : $0 }
                return components.string ?? location
            }
            let result = await login
            #expect(page.status == 400)
            #expect(result.exitCode == 1)
            #expect(result.stderr.contains("did not carry this login's state"))
            #expect(provider.with { $0.tokenForms.isEmpty })
            #expect(try ConfigStore(variables: variables).load() == nil)
        }
    }

    @Test("Without a browser, login uses a device code: pending, slow_down (5 s slower), then tokens")
    func deviceSignInWithoutBrowser() async throws {
        let provider = FakeOAuthProvider()
        provider.with { $0.deviceAnswers = ["authorization_pending", "slow_down"] }
        let clock = FakeClock()
        try await provider.run { base in
            let home = try temporaryConfigHome()
            defer { try? FileManager.default.removeItem(at: home) }
            let variables = ["XDG_CONFIG_HOME": home.path]
            let result = await runCLI(["login", "--url", base], variables: variables) { environment in
                environment.now = { clock.now }
                environment.sleep = { clock.sleep($0) }
            }
            #expect(result.exitCode == 0, "\(result.stderr)")
            #expect(result.stderr.contains("visit \(provider.issuer)/device and enter the code"))
            #expect(result.stderr.contains("WDJB-MJHT"))
            #expect(result.stderr.contains("\(provider.issuer)/device?user_code=WDJB-MJHT"))
            #expect(clock.sleeps == [5, 5, 10])
            let saved = try #require(try ConfigStore(variables: variables).load())
            #expect(saved.refreshToken != nil)
            #expect(saved.expiresAt == clock.now + 3600)
        }
    }

    @Test("--device uses a device code even when a browser is available")
    func deviceFlagSkipsTheBrowser() async throws {
        let provider = FakeOAuthProvider()
        let opened = Mutex(false)
        try await provider.run { base in
            let home = try temporaryConfigHome()
            defer { try? FileManager.default.removeItem(at: home) }
            let result = await runCLI(["login", "--url", base, "--device"], variables: ["XDG_CONFIG_HOME": home.path]) { environment in
                environment.openBrowser = { _ in
                    opened.withLock { $0 = true }
                    return true
                }
                environment.sleep = { _ in }
            }
            #expect(result.exitCode == 0, "\(result.stderr)")
            #expect(!opened.withLock { $0 })
            #expect(provider.with { $0.devicePolls } == 1)
        }
    }

    @Test(
        "Device polling stops with a clear message when the user denies or the code expires",
        arguments: [
            (["access_denied"], "denied"),
            (["expired_token"], "expired"),
            (Array(repeating: "authorization_pending", count: 20), "expired"),
        ])
    func devicePollingEnds(answers: [String], word: String) async throws {
        let provider = FakeOAuthProvider()
        provider.with { $0.deviceAnswers = answers }
        let clock = FakeClock()
        try await provider.run { _ in
            let flow = DeviceSignIn(
                oauth: OAuthClient(), clientId: FakeOAuthProvider.clientId, tokenEndpoint: provider.issuer + "/token",
                now: { clock.now }, sleep: { clock.sleep($0) })
            let authorization = DeviceAuthorization(
                deviceCode: "device-1", userCode: "U", verificationURI: "https://v", expiresIn: 12, interval: 5)
            let error = await #expect(throws: CLIError.self) { try await flow.poll(authorization) }
            #expect(error?.message.contains(word) == true, "\(String(describing: error))")
            #expect(error?.message.contains("run `enclave login`") == (word == "expired"))
            // 12 s of validity at 5 s intervals: at most two polls.
            #expect(provider.with { $0.devicePolls } <= 2)
        }
    }

    @Test("A server that names no provider for the CLI gets advice to use --token")
    func serverWithoutProvider() async throws {
        let provider = FakeOAuthProvider()
        provider.with { $0.advertisesProvider = false }
        try await provider.run { base in
            let home = try temporaryConfigHome()
            defer { try? FileManager.default.removeItem(at: home) }
            let result = await runCLI(["login", "--url", base], variables: ["XDG_CONFIG_HOME": home.path])
            #expect(result.exitCode == 1)
            #expect(result.stderr.contains("enclave login --url \(base) --token TOKEN"))
        }
    }
}
