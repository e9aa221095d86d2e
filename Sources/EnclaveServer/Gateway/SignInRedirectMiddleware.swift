import Foundation
import HTTPTypes
import Hummingbird

/// Sends a browser that opens a gateway URL without being signed in to the sign-in page, which brings it back.
///
/// A request with neither a bearer token nor a valid session that asks for HTML (`Accept: text/html`, as a
/// browser's navigation does) with GET or HEAD gets `303 See Other` to `/auth/login?return_to=<its path>`.
/// API clients (no `text/html`, or an `Authorization` header) still get the 401 of the authenticated group.
struct SignInRedirectMiddleware: RouterMiddleware {
    typealias Context = EnclaveRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard context.user == nil, request.headers[.authorization] == nil, [.get, .head].contains(request.method),
            request.headers[values: .accept].contains(where: { $0.lowercased().contains("text/html") })
        else { return try await next(request, context) }
        return Response(status: .seeOther, headers: [.location: Self.signIn(returningTo: request.uri.string)])
    }

    /// `/auth/login?return_to=<target, percent-encoded>`.
    static func signIn(returningTo target: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~/")
        let encoded = target.addingPercentEncoding(withAllowedCharacters: allowed) ?? "%2F"
        return "/auth/login?return_to=\(encoded)"
    }
}
