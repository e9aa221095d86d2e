import Foundation
import EnclaveAuth
import EnclaveCore
import EnclaveGateway
import EnclaveStore
import Hummingbird
import Logging
import HTTPTypes

/// Verifies the bearer token (or, without one, the browser session cookie) of `/api` requests and
/// records the caller in the context.
///
/// A cookie-authenticated request that changes anything must echo the session's CSRF token in
/// `X-CSRF-Token`: a browser sends cookies with cross-site requests too, so the cookie alone proves
/// nothing about who built the request. Bearer tokens need no such check (browsers never add them).
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
    let sessions: SessionManager?

    static let csrfHeader = HTTPField.Name("X-CSRF-Token")
    var seenRefresh: Double = 300
    /// Whether cookie-authenticated writes need `X-CSRF-Token`. The gateway turns it off: the tools behind it
    /// (Jupyter, noVNC) cannot send Enclave's header and carry their own CSRF protection, and the session
    /// cookie is SameSite=Lax, so browsers do not attach it to cross-site writes.
    var requireCSRF = true
    /// Whether `Authorization: Basic` with an access token as the password is accepted (the gateway turns it on:
    /// git speaks only Basic). `/api` keeps to Bearer.
    var acceptsBasic = false

    struct SeenEntry: Sendable {
        var user: User
        var at: Double
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let user = try await user(for: request, remoteAddress: context.remoteAddress) else {
            return try await next(request, context)
        }
        var context = context
        context.user = user
        context.logger[metadataKey: "user"] = .string(user.id)
        return try await next(request, context)
    }

    /// The caller of `request`: from its bearer token, else from its session cookie; nil when it has neither.
    /// Throws 401 for an invalid token and 403 for a cookie-authenticated write without the CSRF token (when
    /// `requireCSRF`). Also used by the gateway's WebSocket upgrade, which runs before any router.
    func user(for request: Request, remoteAddress: String?) async throws -> User? {
        guard let header = request.headers[.authorization] else {
            guard let sessions, let cookie = OIDCController.cookie(SessionController.sessionCookie, in: request),
                let session = try await sessions.session(cookie: cookie)
            else { return nil }
            if requireCSRF, ![.get, .head, .options].contains(request.method) {
                let sent = Self.csrfHeader.flatMap { request.headers[$0] } ?? ""
                guard ConstantTime.equals(sent, session.csrf) else {
                    try await sessions.refuseCSRF(session, target: request.uri.path, address: remoteAddress ?? "unknown")
                    throw EnclaveError.forbidden(
                        "This request came with a session cookie but without the session's X-CSRF-Token header: nothing was changed")
                }
            }
            return session.user
        }
        let token: String
        if acceptsBasic, BasicCredentials.isBasic(header) {
            guard !BasicCredentials.isCrossSiteBrowserRequest(request.headers) else {
                throw EnclaveError.forbidden("Basic credentials are for command-line clients such as git; this request came from another site")
            }
            token = try BasicCredentials.parse(header).get().password
        } else {
            let parts = header.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else {
                let basic = acceptsBasic ? ", or Basic with an Enclave access token as the password" : ""
                throw EnclaveError.unauthorized("Could not validate credentials: the Authorization header must be 'Bearer <token>'\(basic)")
            }
            token = String(parts[1])
        }
        let verified: Result<User, EnclaveError>
        do {
            verified = .success(try await cache.user(for: token, verifier: verifier))
        } catch {
            verified = .failure(error)
        }
        // (A `catch where` on this typed throw crashes Swift 6.3's SIL ownership verifier.)
        if case .failure(let error) = verified, error.message == ClaimRules.mfaRequiredMessage {
            try await auditMissingMFA(token, path: request.uri.path, address: remoteAddress)
        }
        let user = try verified.get()
        let time = now()
        let last = seen.value(for: user.id)
        if last?.user != user || time - (last?.at ?? 0) >= seenRefresh {
            try await store.recordUserSeen(user, now: time)
            seen.set(SeenEntry(user: user, at: time), for: user.id)
        }
        return user
    }

    /// Records a genuine token refused for lacking `otp` (who, which route), once per request.
    private func auditMissingMFA(_ token: String, path: String, address: String?) async throws {
        let claims = SessionManager.identity(ofSignatureCheckedToken: token)
        try await store.appendAudit([
            AuditEntry(
                id: UUID().uuidString.lowercased(), time: now(), actor: AuditActor(id: claims.id, name: claims.name), action: .authDenied,
                target: path, outcome: .denied,
                details: ["reason": "token without a second factor (amr lacks otp) under --require-mfa", "address": .string(address ?? "unknown")])
        ])
    }
}
