import EnclaveAuth
import EnclaveCore
import EnclaveStore
import Foundation
import HTTPTypes
import Hummingbird

/// Browser sign-in and sign-out (`/auth/…`) and the account page (`/account`).
///
/// The pages are plain server-rendered HTML in the sign-in pages' style; every form carries the
/// session's CSRF token, and the session cookie is HttpOnly, SameSite=Lax, and Secure behind TLS.
struct SessionController {
    let sessions: SessionManager
    let store: any Store

    static let sessionCookie = "enclave_session"
    static let loginCookie = "enclave_login"

    func register(on router: Router<EnclaveRequestContext>) {
        router.get("/auth/login") { request, _ in try await login(request) }
        router.get("/auth/callback") { request, context in try await callback(request, context: context) }
        router.post("/auth/logout") { request, context in try await logout(request, context: context) }
        router.get("/auth/signed-out") { _, _ in
            page(SignInPage.page("Signed out", error: nil, body: "<p>You are signed out. <a href=\"/auth/login\">Sign in again</a></p>"))
        }
        router.get("/account") { request, _ in try await account(request) }
    }

    private func login(_ request: Request) async throws -> Response {
        let returnTo = request.uri.queryParameters["return_to"].map(String.init)
        let (cookie, location) = try await sessions.begin(returnTo: returnTo)
        var headers = HTTPFields()
        headers[.location] = location
        headers[.cacheControl] = "no-store"
        headers[.setCookie] = cookieHeader(Self.loginCookie, cookie, path: "/auth", maxAge: 900)
        return Response(status: .seeOther, headers: headers)
    }

    private func callback(_ request: Request, context: EnclaveRequestContext) async throws -> Response {
        let query = OIDCController.query(request)
        do {
            let (cookie, _, returnTo) = try await sessions.complete(
                loginCookie: OIDCController.cookie(Self.loginCookie, in: request), code: query["code"], state: query["state"],
                providerError: query["error"].map { [$0, query["error_description"]].compactMap { $0 }.joined(separator: ": ") },
                address: context.remoteAddress ?? "unknown")
            var headers = HTTPFields()
            headers[.location] = returnTo
            headers[.cacheControl] = "no-store"
            // A new session cookie replaces whatever the browser held; the pending sign-in's cookie is spent.
            headers.append(HTTPField(name: .setCookie, value: cookieHeader(Self.sessionCookie, cookie, path: "/", maxAge: nil)))
            headers.append(HTTPField(name: .setCookie, value: cookieHeader(Self.loginCookie, "", path: "/auth", maxAge: 0)))
            return Response(status: .seeOther, headers: headers)
        } catch let error as EnclaveError {
            return page(
                SignInPage.page("Sign-in problem", error: error.message, body: "<p><a href=\"/auth/login\">Sign in again</a></p>"),
                status: HTTPResponse.Status(code: error.statusCode))
        }
    }

    private func logout(_ request: Request, context: EnclaveRequestContext) async throws -> Response {
        let form = try await OIDCController.form(request, context: context)
        let location: String
        do {
            location = try await sessions.signOut(
                cookie: OIDCController.cookie(Self.sessionCookie, in: request), csrf: form["csrf"],
                address: context.remoteAddress ?? "unknown")
        } catch let error as EnclaveError {
            return page(SignInPage.page("Sign-out problem", error: error.message, body: ""), status: HTTPResponse.Status(code: error.statusCode))
        }
        var headers = HTTPFields()
        headers[.location] = location
        headers[.cacheControl] = "no-store"
        headers[.setCookie] = cookieHeader(Self.sessionCookie, "", path: "/", maxAge: 0)
        return Response(status: .seeOther, headers: headers)
    }

    private func account(_ request: Request) async throws -> Response {
        guard let cookie = OIDCController.cookie(Self.sessionCookie, in: request), let session = try await sessions.session(cookie: cookie)
        else {
            var headers = HTTPFields()
            headers[.location] = "/auth/login?return_to=%2Faccount"
            headers[.cacheControl] = "no-store"
            return Response(status: .seeOther, headers: headers)
        }
        let user = session.user
        let workspaces = try await store.workspaceRoles(userId: user.id)
        var rows = ""
        for (id, held) in workspaces.sorted(by: { $0.key < $1.key }) {
            let roles = held.map(\.rawValue).sorted()
            rows += "<li><code>\(SignInPage.escape(id))</code>: \(SignInPage.escape(roles.joined(separator: ", ")))</li>"
        }
        let expires = Date(timeIntervalSince1970: session.createdAt + sessions.policy.absolute)
        let body = """
            <dl>
            <dt>Name</dt><dd id="account-name">\(SignInPage.escape(user.name))</dd>
            <dt>Email</dt><dd>\(SignInPage.escape(user.email))</dd>
            <dt>User id</dt><dd><code>\(SignInPage.escape(user.id))</code></dd>
            <dt>Roles</dt><dd id="account-roles">\(SignInPage.escape(user.roles.isEmpty ? "none" : user.roles.joined(separator: ", ")))</dd>
            <dt>Signed in with</dt><dd>\(SignInPage.escape(session.amr.isEmpty ? session.issuer : session.amr.joined(separator: " + ")))</dd>
            <dt>Session ends</dt><dd>after \(Int(sessions.policy.idle / 60)) minutes without activity, and at the latest \(SignInPage.escape(ISO8601DateFormatter().string(from: expires)))</dd>
            </dl>
            \(user.roles.contains(CoreRole.treAdmin.rawValue) ? "<p><a href=\"/account/users\">Manage users</a></p>" : "")
            <h2>Workspaces</h2>
            \(rows.isEmpty ? "<p>You have no workspace role yet.</p>" : "<ul>\(rows)</ul>")
            <form method="post" action="/auth/logout">
            <input type="hidden" name="csrf" value="\(SignInPage.escape(session.csrf))">
            <button type="submit" id="sign-out">Sign out</button>
            </form>
            """
        return page(SignInPage.page("Your account", error: nil, body: body))
    }

    // MARK: Helpers

    private func cookieHeader(_ name: String, _ value: String, path: String, maxAge: Int?) -> String {
        var parts = ["\(name)=\(value)", "Path=\(path)", "HttpOnly", "SameSite=Lax"]
        if let maxAge { parts.append("Max-Age=\(maxAge)") }
        if sessions.secureCookies { parts.append("Secure") }
        return parts.joined(separator: "; ")
    }

    private func page(_ html: String, status: HTTPResponse.Status = .ok) -> Response {
        SignInPage.response(html, status: status)
    }
}
