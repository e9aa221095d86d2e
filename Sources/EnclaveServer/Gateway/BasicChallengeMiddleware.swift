import EnclaveCore
import EnclaveGateway
import HTTPTypes
import Hummingbird

/// Adds the Basic challenge to the gateway's 401s for clients that can answer it (git), so they ask for (or send)
/// an access token as the password; see `BasicCredentials.shouldChallenge` for who gets it.
///
/// It sits outside the authentication middleware and the authenticated group, so it sees both ways a request is
/// refused: an invalid token (thrown by `TokenAuthMiddleware`) and no credentials at all (the group's conversion).
struct BasicChallengeMiddleware: RouterMiddleware {
    typealias Context = EnclaveRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let outcome: Result<Response, any Error> = await asyncResult { try await next(request, context) }
        // (Matched on the Result: a `catch let … where` here crashes Swift 6.3's SIL ownership verifier.)
        guard case .failure(let failure) = outcome, let error = failure as? EnclaveError, error.kind == .unauthorized,
            BasicCredentials.shouldChallenge(request.headers, sessionCookie: SessionController.sessionCookie)
        else { return try outcome.get() }
        var response = try error.response(from: request, context: context)
        response.headers.append(HTTPField(name: .wwwAuthenticate, value: BasicCredentials.challenge))
        return response
    }
}
