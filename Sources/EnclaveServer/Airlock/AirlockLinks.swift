import Crypto
import EnclaveCore
import EnclaveLocal
import EnclaveStore
import Foundation
import Hummingbird
import Logging

/// Azure TRE's `GET …/requests/{id}/link` (`containerUrl`): a signed, expiring URL to the request's
/// files, for tools that cannot send a bearer token. It names the user who asked for it, and every use
/// is checked again as that user (roles, request status, file access), so removing someone's role or
/// deciding the request stops the link at once; it only saves the token, never widens access.
struct AirlockLinks: Sendable {
    let key: SymmetricKey
    let publicURL: String
    let store: any Store
    /// Where each workspace's network is (its veth's host end and address): links on a workspace's
    /// network are addressed to its host end, and the workspace listener checks who connects.
    let plane: LocalDataPlane
    /// The workspace listener's port (`--airlock-workspace-port`); nil: there is none.
    let workspacePort: Int?
    let now: @Sendable () -> Double
    let newId: @Sendable () -> String
    /// Links last an hour, as Azure TRE's SAS tokens do by default.
    static let lifetime: Double = 3600

    /// The links' own key, derived from the data directory's secrets key, so a link signature reveals nothing else.
    static func deriveKey(secretsKey: SymmetricKey) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: secretsKey, info: Data("enclave airlock links v1".utf8), outputByteCount: 32)
    }

    func signature(workspaceId: String, requestId: String, userId: String, permissions: String, expires: Int) -> String {
        let message = "\(workspaceId)\n\(requestId)\n\(userId)\n\(permissions)\n\(expires)"
        return Data(HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: key)).map { String(format: "%02x", $0) }.joined()
    }

    /// The link for a user at the public URL: read and list always; write and delete while the request is a draft.
    func link(workspaceId: String, requestId: String, user: User, draft: Bool) -> (url: String, expires: Int) {
        signedURL(base: publicURL, workspaceId: workspaceId, requestId: requestId, user: user, permissions: draft ? "rwdl" : "rl")
    }

    /// The link for use inside the workspace: the host end of its veth and the workspace listener's port,
    /// write and delete only (that listener never sends a file's bytes into a workspace).
    ///
    /// - Throws: 400 when this server has no workspace listener; 409 when the workspace has no network here.
    func workspaceLink(workspaceId: String, requestId: String, user: User) async throws -> (url: String, expires: Int) {
        guard let port = workspacePort else {
            throw EnclaveError.badRequest(
                "This server has no airlock listener on workspaces' networks (enclave serve --airlock-workspace-port); ask for the link without network=workspace")
        }
        guard let placement = try await plane.placement(workspaceId: workspaceId) else {
            throw EnclaveError.conflict("Workspace \(workspaceId) has no network of its own on this host (it is not isolated), so it has no address to upload from")
        }
        return signedURL(
            base: "http://\(placement.link.hostAddress):\(port)", workspaceId: workspaceId, requestId: requestId, user: user, permissions: "wd")
    }

    func signedURL(base: String, workspaceId: String, requestId: String, user: User, permissions: String) -> (url: String, expires: Int) {
        let expires = Int(now() + Self.lifetime)
        let sig = signature(workspaceId: workspaceId, requestId: requestId, userId: user.id, permissions: permissions, expires: expires)
        let user = user.id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? user.id
        return ("\(base)/airlock-links/\(workspaceId)/\(requestId)?user=\(user)&perm=\(permissions)&exp=\(expires)&sig=\(sig)", expires)
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

    /// Where a link was used: the main port, or the listener on workspaces' networks.
    enum Listener: String, Sendable {
        case `public`, workspace
    }

    typealias Handler = @Sendable (Request, EnclaveRequestContext) async throws -> Response

    /// A file route of `AirlockController` authorised by the link: run as the link's user once the link
    /// grants `permission` and `check` passes. Refusals (403; on the workspace listener also 401, since
    /// everyone reaching it is inside a workspace) are `auth.denied` audit records.
    func signed(
        _ permission: Character, on listener: Listener, controller: AirlockController,
        check: @escaping @Sendable (EnclaveRequestContext) async throws -> Void = { _ in },
        _ handler: @escaping @Sendable (AirlockController) -> (Request, AuthenticatedContext) async throws -> Response
    ) -> Handler {
        { request, context in
            var context = context
            var user: User?
            do {
                let verified = try await verify(request, context: context, permission: permission)
                user = verified
                context.user = verified
                try await check(context)
                return try await handler(controller)(request, try AuthenticatedContext(context: context))
            } catch {
                if let refusal = error as? EnclaveError, refusal.kind == .forbidden || (listener == .workspace && refusal.kind == .unauthorized) {
                    await recordRefusal(request, context: context, user: user, reason: refusal.message, listener: listener)
                }
                throw error
            }
        }
    }

    /// Records a refused use of a link as `auth.denied`: by the link's user once its signature was
    /// verified, else by `anonymous` with the user the link claims. If the record cannot be written the
    /// caller is refused all the same (the failure is logged).
    func recordRefusal(_ request: Request, context: EnclaveRequestContext, user: User?, reason: String, listener: Listener) async {
        var details: [String: JSONValue] = [
            "method": .string(request.method.rawValue), "path": .string(request.uri.path), "reason": .string(reason),
            "listener": .string(listener.rawValue),
        ]
        if let peer = context.remoteAddress { details["peer"] = .string(peer) }
        if user == nil, let claimed = request.uri.queryParameters.get("user") { details["linkUser"] = .string(String(claimed.prefix(128))) }
        var target = request.uri.path
        if let workspaceId = context.parameters.get("workspaceId"), let requestId = context.parameters.get("requestId") {
            target = "/workspaces/\(workspaceId)/requests/\(requestId)"
        }
        let entry = AuditEntry(
            id: newId(), time: now(), actor: user.map { AuditActor($0) } ?? AuditActor(id: "anonymous", name: ""), action: .authDenied,
            target: target, outcome: .denied, details: .object(details), requestId: context.requestId)
        do {
            try await store.appendAudit([entry])
        } catch {
            context.logger.error("could not record a refused airlock link in the audit log", metadata: ["error": "\(error)"])
        }
    }

    /// `/airlock-links/{ws}/{rid}/files[/{name}]` on the main port: the file routes of `AirlockController`, authorised by the link.
    func register(on router: Router<EnclaveRequestContext>, controller: AirlockController) {
        router.get("airlock-links/:workspaceId/:requestId/files", use: signed("l", on: .public, controller: controller) { $0.listFiles })
        router.get("airlock-links/:workspaceId/:requestId/files/:name", use: signed("r", on: .public, controller: controller) { $0.download })
        router.put("airlock-links/:workspaceId/:requestId/files/:name", use: signed("w", on: .public, controller: controller) { $0.upload })
        router.delete("airlock-links/:workspaceId/:requestId/files/:name", use: signed("d", on: .public, controller: controller) { $0.deleteFile })
    }
}
