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
    /// The user details last written and when, so the users table is written when they change or
    /// `seenRefresh` seconds have passed (for `lastSeen` in `GET /api/users`), not on every request.
    let seen: BoundedCache<String, SeenEntry>
    let now: @Sendable () -> Double
    var seenRefresh: Double = 300

    struct SeenEntry: Sendable {
        var user: User
        var at: Double
    }

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
        let time = now()
        let last = seen.value(for: user.id)
        if last?.user != user || time - (last?.at ?? 0) >= seenRefresh {
            try await store.recordUserSeen(user, now: time)
            seen.set(SeenEntry(user: user, at: time), for: user.id)
        }
        return try await next(request, context)
    }
}
