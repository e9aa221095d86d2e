import EnclaveAuth
import EnclaveCore
import EnclavePortal
import EnclaveStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// What every portal page controller shares: the views, the store and control plane it reads and acts
/// through (the same use cases and policy checks as the API), and the page/redirect/form helpers.
///
/// Pages read with the signed-in user's own permissions (`Access`, `Policy`), exactly as the API would
/// answer them, so a page can never show more than the API would.
struct Portal: Sendable {
    let views: PortalViews
    let store: any Store
    let controlPlane: ControlPlane
    let access: Access
    let sessions: SessionManager
    /// Extra `form-action` sources: sign-out posts to `/auth/logout`, which may redirect to an external
    /// identity provider's end-session endpoint (browsers apply `form-action` to the redirect too).
    let formActionOrigins: [String]

    static let noticeCookie = "enclave_notice"

    /// The Content-Security-Policy of every portal page: only Enclave's own scripts, styles and images; no
    /// inline code, no framing, forms only to Enclave (and the sign-out redirect's provider).
    var contentSecurityPolicy: String {
        let formAction = (["'self'"] + formActionOrigins).joined(separator: " ")
        return "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
            + "form-action \(formAction); frame-ancestors 'none'"
    }

    // MARK: Layout

    /// The layout for a page as `context`'s user sees it: navigation by role, the CSRF token, and the
    /// notice a previous action left in the notice cookie.
    func layout(
        _ context: PortalContext, request: Request, title: String, section: String,
        breadcrumbs: [PageLayout.Link] = [], scripts: [String] = [], error: String? = nil
    ) async throws -> PageLayout {
        let user = context.user
        let roles = try await store.workspaceRoles(userId: user.id)
        let notice = OIDCController.cookie(Self.noticeCookie, in: request).flatMap { $0.removingPercentEncoding }
        return PageLayout(
            title: title, userName: user.name.isEmpty ? user.id : user.name, isAdmin: Actor(user: user).isAdmin,
            isAirlockManager: roles.values.contains { $0.contains(.airlockManager) }, csrf: context.session.csrf,
            section: section, notice: notice.flatMap { $0.isEmpty ? nil : String($0.prefix(300)) }, error: error,
            breadcrumbs: breadcrumbs, scriptNames: scripts)
    }

    // MARK: Responses

    /// A rendered page with the portal's headers. A notice shown on this page is cleared from its cookie.
    func page(_ template: String, _ view: Any, layout: PageLayout, status: HTTPResponse.Status = .ok) -> Response {
        var response = html(views.render(template, view, layout: layout), status: status)
        if layout.notice != nil { response.headers.append(HTTPField(name: .setCookie, value: Self.noticeCookieHeader(""))) }
        return response
    }

    func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        if let frameOptions = HTTPField.Name("X-Frame-Options") { headers[frameOptions] = "DENY" }
        if let referrerPolicy = HTTPField.Name("Referrer-Policy") { headers[referrerPolicy] = "same-origin" }
        if let contentTypeOptions = HTTPField.Name("X-Content-Type-Options") { headers[contentTypeOptions] = "nosniff" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// 303 to `location` (a path on this server), leaving `notice` for the next page to show.
    func redirect(_ location: String, notice: String? = nil) -> Response {
        var headers = HTTPFields()
        headers[.location] = location.hasPrefix("/") && !location.hasPrefix("//") ? location : "/"
        headers[.cacheControl] = "no-store"
        if let notice { headers[.setCookie] = Self.noticeCookieHeader(notice) }
        return Response(status: .seeOther, headers: headers)
    }

    static func noticeCookieHeader(_ text: String) -> String {
        let value = text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        return "\(noticeCookie)=\(value); Path=/; HttpOnly; SameSite=Lax; Max-Age=\(text.isEmpty ? 0 : 60)"
    }

    // MARK: Forms

    /// A form post's fields, after checking its CSRF token against the session's (403 otherwise, and the
    /// handler never runs). Every portal form handler reads its body through this.
    func form(_ request: Request, context: PortalContext) async throws -> FormData {
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        let form = FormData(urlEncoded: String(buffer: buffer))
        guard let token = form["csrf"], ConstantTime.equals(token, context.session.csrf) else {
            try await sessions.refuseCSRF(context.session, target: request.uri.path, address: context.remoteAddress ?? "unknown")
            throw EnclaveError.forbidden("This form has expired or did not come from Enclave (CSRF token missing or wrong): reload the page and try again")
        }
        return form
    }
}

/// Turns errors of portal pages into pages: a missing session becomes a redirect to sign-in (and back
/// here afterwards), every other error a page with its status and message.
struct PortalErrorMiddleware: RouterMiddleware {
    typealias Context = EnclaveRequestContext
    let views: PortalViews
    let contentSecurityPolicy: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch is PortalSignInRequired {
            if request.method == .get || request.method == .head {
                var target = request.uri.path
                if let query = request.uri.query, !query.isEmpty { target += "?" + query }
                let encoded = target.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "%2F"
                var headers = HTTPFields()
                headers[.location] = "/auth/login?return_to=\(encoded)"
                headers[.cacheControl] = "no-store"
                return Response(status: .seeOther, headers: headers)
            }
            return errorPage(.unauthorized, "Your session has ended. Sign in again, then repeat what you were doing.", signIn: true, context: context)
        } catch let error as EnclaveError {
            if error.kind == .internal { context.logger.error("internal error", metadata: ["error": "\(error.message)"]) }
            return errorPage(HTTPResponse.Status(code: error.statusCode), error.message, signIn: error.kind == .unauthorized, context: context)
        } catch is NIOTooManyBytesError {
            return errorPage(.contentTooLarge, "The form is larger than the 1 MiB limit.", signIn: false, context: context)
        } catch let error as HTTPError {
            let message = error.status == .notFound ? "There is no such page." : (error.body ?? error.status.reasonPhrase)
            return errorPage(error.status, message, signIn: false, context: context)
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            return errorPage(.internalServerError, "Something went wrong on our side. Try again; if it persists, tell your administrator.", signIn: false, context: context)
        }
    }

    struct ErrorView {
        var message: String
        var signIn: Bool
        var requestId: String?
    }

    func errorPage(_ status: HTTPResponse.Status, _ message: String, signIn: Bool, context: Context) -> Response {
        let title = switch status.code {
        case 401: "Please sign in"
        case 403: "Not allowed"
        case 404: "Not found"
        case 409: "Conflict"
        case 422, 400: "Cannot do that"
        default: status.code >= 500 ? "Something went wrong" : status.reasonPhrase
        }
        let user = context.browserSession?.user
        let layout = PageLayout(
            title: title, userName: user.map { $0.name.isEmpty ? $0.id : $0.name }, isAdmin: user.map { Actor(user: $0).isAdmin } ?? false,
            csrf: context.browserSession?.csrf ?? "")
        let text = views.render("error", ErrorView(message: message, signIn: signIn, requestId: context.id), layout: layout)
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
