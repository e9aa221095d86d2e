import EnclaveAuth
import EnclaveCore
import Foundation
import HTTPTypes
import Hummingbird

/// Browser sign-in and sign-out (`/auth/…`); the account page is the portal's (`AccountPage`).
///
/// The pages are plain server-rendered HTML in the sign-in pages' style; the sign-out form carries the
/// session's CSRF token, and the session cookie is HttpOnly, SameSite=Lax, and Secure behind TLS.
struct SessionController {
    let sessions: SessionManager

    static let sessionCookie = "enclave_session"
    static let loginCookie = "enclave_login"

    func register(on router: Router<EnclaveRequestContext>) {
        router.get("/auth/login") { request, _ in try await login(request) }
        router.get("/auth/callback") { request, context in try await callback(request, context: context) }
        router.post("/auth/logout") { request, context in try await logout(request, context: context) }
        router.get("/auth/signed-out") { _, _ in
            page(SignInPage.page("Signed out", error: nil, body: "<p>You are signed out. <a href=\"/auth/login\">Sign in again</a></p>"))
        }
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
