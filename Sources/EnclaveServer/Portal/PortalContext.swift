import EnclaveCore
import Hummingbird
import Logging

/// The context of portal pages: a browser session is required, so a handler cannot forget the check.
/// Without one, `PortalErrorMiddleware` sends a page request to sign-in and back.
struct PortalContext: ChildRequestContext {
    typealias ParentContext = EnclaveRequestContext
    var coreContext: CoreRequestContextStorage
    let session: BrowserSession
    let remoteAddress: String?

    var user: User { session.user }

    init(context: EnclaveRequestContext) throws {
        guard let session = context.browserSession else { throw PortalSignInRequired() }
        self.coreContext = context.coreContext
        self.session = session
        self.remoteAddress = context.remoteAddress
    }

    /// Form posts are small; files go through the API's streamed upload route, not through forms.
    var maxUploadSize: Int { 1024 * 1024 }
}

/// Thrown when a portal page is asked for without a live session.
struct PortalSignInRequired: Error {}

/// Resolves the browser session cookie for portal pages. It never rejects by itself: the conversion to
/// `PortalContext` does, so the error middleware can answer with a redirect to sign-in.
struct PortalSessionMiddleware: RouterMiddleware {
    typealias Context = EnclaveRequestContext
    /// The live session for a cookie value (the session manager's lookup, which also ends expired sessions).
    let session: @Sendable (String) async throws -> BrowserSession?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let cookie = OIDCController.cookie(SessionController.sessionCookie, in: request),
            let session = try await session(cookie)
        {
            context.browserSession = session
            context.user = session.user
            context.logger[metadataKey: "user"] = .string(session.user.id)
        }
        return try await next(request, context)
    }
}
