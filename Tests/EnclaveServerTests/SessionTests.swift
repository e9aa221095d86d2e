import EnclaveAuth
import EnclaveCore
import EnclaveServer
import EnclaveStore
import EnclaveTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// A browser's cookie jar over the test client: sends its cookies, keeps what `Set-Cookie` sets.
struct CookieBrowser {
    let api: APIClient
    var cookies: [String: String] = [:]
    var lastSetCookies: [String] = []

    init(_ api: APIClient) { self.api = api }

    mutating func send(
        _ method: HTTPRequest.Method, _ uri: String, form: [String: String]? = nil, json: String? = nil, headers extra: HTTPFields = [:]
    ) async throws -> APIClient.Reply {
        var headers = extra
        if !cookies.isEmpty { headers[.cookie] = cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        var body: ByteBuffer?
        if let form {
            headers[.contentType] = "application/x-www-form-urlencoded"
            body = ByteBuffer(string: SignInBrowser.formBody(form))
        } else if let json {
            headers[.contentType] = "application/json"
            body = ByteBuffer(string: json)
        }
        let reply = try await api.client.execute(uri: Self.path(uri), method: method, headers: headers, body: body) {
            APIClient.Reply(status: $0.status, headers: $0.headers, body: $0.body)
        }
        lastSetCookies = reply.headers[values: .setCookie]
        for header in lastSetCookies {
            let pair = header.prefix(while: { $0 != ";" }).split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2 else { continue }
            cookies[String(pair[0])] = pair[1].isEmpty ? nil : String(pair[1])
        }
        return reply
    }

    /// The path and query of an absolute URL of this server (`http://127.0.0.1:0/…`), or the text itself.
    static func path(_ uri: String) -> String {
        guard uri.hasPrefix("http"), let components = URLComponents(string: uri) else { return uri }
        return components.percentEncodedPath + (components.percentEncodedQuery.map { "?\($0)" } ?? "")
    }
}

@Suite("Browser sessions")
struct SessionTests {
    /// Signs in through /auth/login and the built-in provider's pages; returns the browser holding the session.
    static func signIn(
        _ api: APIClient, username: String = "rosa", roles: [String] = ["TREAdmin"], planted: String? = nil, returnTo: String = "/account"
    ) async throws -> CookieBrowser {
        let (_, secret) = try await TestAccounts.create(api.enclave, username: username, roles: roles)
        var browser = CookieBrowser(api)
        let start = try await browser.send(
            .get, "/auth/login?return_to=\(returnTo.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")")
        #expect(start.status == .seeOther)
        let authorize = try #require(start.location)
        #expect(authorize.contains("/oidc/authorize?") && authorize.contains("client_id=enclave-portal"))
        #expect(browser.lastSetCookies.first?.contains("HttpOnly") == true)

        var pages = SignInBrowser(api)
        let page = try await pages.get(CookieBrowser.path(authorize))
        #expect(page.status == .ok, "\(page.text)")
        _ = try await pages.post(["username": username, "password": TestAccounts.password])
        let done = try await pages.post(["code": TOTPCode(secret: try #require(secret)).code(at: Date())])
        let callback = try #require(done.location, "\(done.text)")
        #expect(callback.contains("/auth/callback?"))

        if let planted { browser.cookies["enclave_session"] = planted }
        let landed = try await browser.send(.get, callback)
        #expect(landed.status == .seeOther, "\(landed.text)")
        #expect(landed.location == returnTo)
        return browser
    }

    @Test("sign-in through the portal client opens a session: HttpOnly SameSite=Lax cookie, a new id (no fixation), the account page")
    func signInOpensSession() async throws {
        try await withAPI(workers: 0) { api in
            var browser = try await Self.signIn(api, planted: "planted-by-attacker")
            let set = try #require(browser.lastSetCookies.first { $0.hasPrefix("enclave_session=") })
            #expect(set.contains("HttpOnly") && set.contains("SameSite=Lax") && !set.contains("Secure"))
            let session = try #require(browser.cookies["enclave_session"])
            #expect(session != "planted-by-attacker" && session.count >= 43)

            let account = try await browser.send(.get, "/account")
            #expect(account.status == .ok && account.text.contains("Rosa Franklin") && account.text.contains("TREAdmin"))
            #expect(account.headers[.contentSecurityPolicy]?.hasPrefix("default-src 'self'") == true, "the portal's CSP")
            let workspaces = try await browser.send(.get, "/api/workspaces")
            #expect(workspaces.status == .ok, "\(workspaces.text)")
            #expect(try await TestAccounts.audit(api.enclave, "auth.session_start").count == 1)

            var stranger = CookieBrowser(api)
            stranger.cookies["enclave_session"] = "planted-by-attacker"
            #expect(try await stranger.send(.get, "/api/workspaces").status == .unauthorized)
        }
    }

    @Test("a cookie-authenticated API write without the session's X-CSRF-Token is 403, audited, and changes nothing")
    func csrfOnCookieWrites() async throws {
        try await withAPI(workers: 0) { api in
            var browser = try await Self.signIn(api)
            let csrf = try #require(SignInBrowser.capture(#"name="csrf" value="([^"]+)""#, in: try await browser.send(.get, "/account").text))
            let body = #"{"templateName":"tre-workspace-base","properties":{"display_name":"W","description":"d"}}"#
            let refused = try await browser.send(.post, "/api/workspaces", json: body)
            #expect(refused.status == .forbidden && refused.text.contains("X-CSRF-Token"), "\(refused.text)")
            #expect(try await browser.send(.post, "/api/workspaces", json: body, headers: [HTTPField.Name("X-CSRF-Token")!: "wrong"]).status == .forbidden)
            #expect(try await api.enclave.deps.store.resources(ResourceFilter(type: .workspace)).isEmpty)
            let denials = try await TestAccounts.audit(api.enclave, "auth.denied")
            #expect(denials.count == 2 && denials.allSatisfy { $0.target == "/api/workspaces" })

            let accepted = try await browser.send(.post, "/api/workspaces", json: body, headers: [HTTPField.Name("X-CSRF-Token")!: csrf])
            #expect(accepted.status == .accepted, "\(accepted.text)")
        }
    }

    @Test("sign-out needs the CSRF token; then the session is over on the server, whatever the browser keeps")
    func signOut() async throws {
        try await withAPI(workers: 0) { api in
            var browser = try await Self.signIn(api)
            let session = try #require(browser.cookies["enclave_session"])
            let csrf = try #require(SignInBrowser.capture(#"name="csrf" value="([^"]+)""#, in: try await browser.send(.get, "/account").text))
            let forged = try await browser.send(.post, "/auth/logout", form: [:])
            #expect(forged.status == .forbidden)
            #expect(try await browser.send(.get, "/account").status == .ok, "a CSRF-less sign-out changes nothing")

            let out = try await browser.send(.post, "/auth/logout", form: ["csrf": csrf])
            #expect(out.status == .seeOther && out.location?.hasSuffix("/auth/signed-out") == true)
            #expect(browser.cookies["enclave_session"] == nil)
            browser.cookies["enclave_session"] = session  // a copy of the old cookie opens nothing
            let account = try await browser.send(.get, "/account")
            #expect(account.status == .seeOther && account.location?.hasPrefix("/auth/login") == true)
            #expect(try await browser.send(.get, "/api/workspaces").status == .unauthorized)
            let records = try await TestAccounts.audit(api.enclave, "auth.sign_out")
            #expect(records.map(\.outcome) == [.denied, .success])
        }
    }

    @Test("disabling the account ends its session at the next request; a role change applies at once")
    func accountChangesReachSessions() async throws {
        try await withAPI(workers: 0) { api in
            var browser = try await Self.signIn(api)
            #expect(try await browser.send(.get, "/api/workspace-templates").status == .ok)
            let store = api.enclave.deps.store
            var account = try #require(try await store.user(username: "rosa"))
            account.roles = ["TREUser"]
            try await store.updateUser(account, audit: [])
            #expect(try await browser.send(.get, "/api/workspace-templates").status == .forbidden)
            account.enabled = false
            try await store.updateUser(account, audit: [])
            #expect(try await browser.send(.get, "/api/workspaces").status == .unauthorized)
            let reasons = try await TestAccounts.audit(api.enclave, "auth.sign_out").map { $0.details["reason"]?.stringValue }
            #expect(reasons == ["account disabled"])
        }
    }

    @Test("a callback this browser did not start (no sign-in cookie, or another state) is refused and audited")
    func foreignCallback() async throws {
        try await withAPI(workers: 0) { api in
            var browser = CookieBrowser(api)
            let none = try await browser.send(.get, "/auth/callback?code=abc&state=xyz")
            #expect(none.status == .badRequest && none.text.contains("not started in this browser"))
            _ = try await browser.send(.get, "/auth/login")
            let wrongState = try await browser.send(.get, "/auth/callback?code=abc&state=xyz")
            #expect(wrongState.status == .badRequest)
            #expect(browser.cookies["enclave_session"] == nil)
            #expect(try await TestAccounts.audit(api.enclave, "auth.request_refused").count == 2)
        }
    }

    @Test("sessions end after 30 idle minutes or 12 hours, audited; return_to only ever names a local path")
    func timeouts() async throws {
        let enclave = try await TestEnclave.make(workers: 0)
        defer { enclave.remove() }
        let clock = ManualClock(1000)
        let manager = SessionManager(
            signIn: .builtIn(enclave.deps.provider, clientId: "enclave-portal"), store: enclave.deps.store,
            verifier: enclave.deps.tokens, publicURL: "https://tre.example.org", now: { clock.now })
        #expect(manager.secureCookies)
        let user = TestUsers.researcher
        for (cookie, created) in [("idle", 1000.0), ("long", 1000.0)] {
            try await enclave.deps.store.createSession(
                BrowserSession(id: SecretToken.sha256Hex(cookie), user: user, amr: [], csrf: "c", issuer: "i", idToken: nil, createdAt: created),
                audit: [])
        }
        clock.now = 1000 + 1700
        #expect(try await manager.session(cookie: "long") != nil)
        clock.now = 1000 + 1801
        #expect(try await manager.session(cookie: "idle") == nil)
        for step in 1...25 {
            clock.now = 1000 + 1700 + Double(step) * 1700
            _ = try await manager.session(cookie: "long")
        }
        clock.now = 1000 + 12 * 3600
        #expect(try await manager.session(cookie: "long") == nil)
        let reasons = try await enclave.deps.store.auditRecords(AuditFilter(action: "auth.sign_out"), after: nil, limit: 10)
            .map { $0.details["reason"]?.stringValue }
        #expect(reasons == ["idle_timeout", "absolute_timeout"])

        #expect(SessionManager.safeReturnPath("/workspaces/1?x=2") == "/workspaces/1?x=2")
        for hostile in ["//evil.example", "https://evil.example", "/\\evil.example", "evil", "/a\nb", nil] {
            #expect(SessionManager.safeReturnPath(hostile) == "/account")
        }
    }
}

/// A settable clock for rules that read `now`.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Double
    init(_ start: Double) { value = start }
    var now: Double {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}
