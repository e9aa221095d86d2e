import EnclaveAuth
import EnclaveCore
import EnclaveStore
import Hummingbird
import Logging
import HTTPTypes

/// Verifies the bearer token of `/api` requests and records the caller in the context.
///
/// It never rejects by itself: routes that need a caller sit in the `AuthenticatedContext` group, whose
/// conversion turns a missing identity into 401. A present but invalid token is rejected here, with
/// the verifier's reason.
struct TokenAuthMiddleware: RouterMiddleware {
    typealias Context = EnclaveRequestContext
    let verifier: TrustedIssuers
    let cache: VerifiedTokenCache
    let store: any Store
    /// The user details last written, so the users table is written when they change, not on every request.
    let seen: BoundedCache<String, User>
    let now: @Sendable () -> Double

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let header = request.headers[.authorization] else { return try await next(request, context) }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw EnclaveError.unauthorized("Could not validate credentials: the Authorization header must be 'Bearer <token>'")
        }
        let user = try await cache.user(for: String(parts[1]), verifier: verifier)
        var context = context
        context.user = user
        context.logger[metadataKey: "user"] = .string(user.id)
        if seen.value(for: user.id) != user {
            try await store.recordUserSeen(user, now: now())
            seen.set(user, for: user.id)
        }
        return try await next(request, context)
    }
}
