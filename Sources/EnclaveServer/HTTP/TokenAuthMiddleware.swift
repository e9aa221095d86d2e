import EnclaveAuth
import EnclaveCore
import EnclaveStore
import Hummingbird
import Logging
import HTTPTypes
import Synchronization

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
    let seen: SeenUsers
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
        if seen.shouldRecord(user) { try await store.recordUserSeen(user, now: now()) }
        return try await next(request, context)
    }
}

/// Remembers which user details were last written, so the users table is written when they change,
/// not on every request.
final class SeenUsers: Sendable {
    private let last = Mutex<[String: User]>([:])

    func shouldRecord(_ user: User) -> Bool {
        last.withLock { map in
            if map[user.id] == user { return false }
            if map.count > 10_000 { map.removeAll() }
            map[user.id] = user
            return true
        }
    }
}
