import Crypto
import EnclaveCore
import EnclaveStore
import Foundation
import Hummingbird

/// Azure TRE's `GET …/requests/{id}/link` (`containerUrl`): a signed, expiring URL to the request's
/// files, for tools that cannot send a bearer token. It names the user who asked for it, and every use
/// is checked again as that user (roles, request status, file access), so removing someone's role or
/// deciding the request stops the link at once; it only saves the token, never widens access.
struct AirlockLinks: Sendable {
    let key: SymmetricKey
    let publicURL: String
    let store: any Store
    let now: @Sendable () -> Double
    /// Links last an hour, as Azure TRE's SAS tokens do by default.
    static let lifetime: Double = 3600

    init(secretsKey: SymmetricKey, publicURL: String, store: any Store, now: @escaping @Sendable () -> Double) {
        // A key of its own, derived from the data directory's secrets key, so a link signature reveals nothing else.
        key = HKDF<SHA256>.deriveKey(inputKeyMaterial: secretsKey, info: Data("enclave airlock links v1".utf8), outputByteCount: 32)
        self.publicURL = publicURL
        self.store = store
        self.now = now
    }

    func signature(workspaceId: String, requestId: String, userId: String, permissions: String, expires: Int) -> String {
        let message = "\(workspaceId)\n\(requestId)\n\(userId)\n\(permissions)\n\(expires)"
        return Data(HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: key)).map { String(format: "%02x", $0) }.joined()
    }

    /// The link for a user: read and list always; write and delete while the request is a draft.
    func link(workspaceId: String, requestId: String, user: User, draft: Bool) -> (url: String, expires: Int) {
        let expires = Int(now() + Self.lifetime)
        let permissions = draft ? "rwdl" : "rl"
        let sig = signature(workspaceId: workspaceId, requestId: requestId, userId: user.id, permissions: permissions, expires: expires)
        let user = user.id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? user.id
        return ("\(publicURL)/airlock-links/\(workspaceId)/\(requestId)?user=\(user)&perm=\(permissions)&exp=\(expires)&sig=\(sig)", expires)
    }

    /// The user a signed URL speaks for, if its signature is genuine, it has not expired and it grants `permission`.
    func verify(_ request: Request, context: EnclaveRequestContext, permission: Character) async throws -> User {
        let query = request.uri.queryParameters
        guard let userId = query.get("user"), let permissions = query.get("perm"), let exp = query.get("exp").flatMap({ Int($0) }),
            let sig = query.get("sig"), let workspaceId = context.parameters.get("workspaceId"), let requestId = context.parameters.get("requestId")
        else {
            throw EnclaveError.unauthorized("This airlock link is incomplete: ask for a new one (GET …/requests/{id}/link)")
        }
        let expected = signature(workspaceId: workspaceId, requestId: requestId, userId: userId, permissions: permissions, expires: exp)
        guard ConstantTime.equals(Array(expected.utf8), Array(sig.utf8)) else {
            throw EnclaveError.unauthorized("This airlock link's signature is not valid: ask for a new one")
        }
        guard Double(exp) > now() else { throw EnclaveError.unauthorized("This airlock link has expired: ask for a new one") }
        guard permissions.contains(permission) else {
            throw EnclaveError.forbidden("This airlock link does not allow that (it allows '\(permissions)'); links of submitted requests are read-only")
        }
        return try await store.knownUsers(ids: [userId]).first ?? User(id: userId, name: "", email: "", roles: [])
    }

    /// `/airlock-links/{ws}/{rid}/files[/{name}]`: the file routes of `AirlockController`, authorised by the link.
    func register(on router: Router<EnclaveRequestContext>, controller: AirlockController) {
        func signed(
            _ permission: Character, _ handler: @escaping @Sendable (AirlockController) -> (Request, AuthenticatedContext) async throws -> Response
        ) -> @Sendable (Request, EnclaveRequestContext) async throws -> Response {
            { request, context in
                var context = context
                context.user = try await verify(request, context: context, permission: permission)
                return try await handler(controller)(request, try AuthenticatedContext(context: context))
            }
        }
        router.get("airlock-links/:workspaceId/:requestId/files", use: signed("l") { $0.listFiles })
        router.get("airlock-links/:workspaceId/:requestId/files/:name", use: signed("r") { $0.download })
        router.put("airlock-links/:workspaceId/:requestId/files/:name", use: signed("w") { $0.upload })
        router.delete("airlock-links/:workspaceId/:requestId/files/:name", use: signed("d") { $0.deleteFile })
    }
}
