import EnclaveCore
import EnclaveEngine
import EnclaveGateway
import EnclaveStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket

/// The gateway's routes, `/workspaces/{ws}/services/{svc}[/user-resources/{ur}]/…`, reverse-proxied to the
/// upstream the resource's deployer reported (`GatewayOutputs`).
///
/// The caller authenticates as on `/api` (bearer token or session cookie, same middleware; a browser that has
/// neither is sent to sign in, `SignInRedirectMiddleware`) and needs
/// `connectWorkspaceService` in the workspace, or `connectUserResource` for a user resource (its owner or a
/// workspace owner). WebSocket upgrades are decided in `shouldUpgrade`, before any router runs, with the same
/// checks; a refused upgrade is answered by the router (`WebSocketRefusal`), so it gets the same 401/403/404
/// as over HTTP (and the same `auth.denied` record).
struct GatewayController: Sendable {
    let access: Access
    let store: any Store
    let secrets: SecretBox
    let proxy: GatewayHTTPProxy
    let audit: GatewayAudit
    let authentication: TokenAuthMiddleware
    let environment: EngineEnvironment
    /// `http` or `https`, and host[:port], of the public URL (for `X-Forwarded-*` and the Origin check).
    let publicScheme: String
    let publicHost: String
    /// Decisions of `resolve` for a few seconds, by user (with their core roles) and resource: a page load
    /// fetches dozens of assets, and each would otherwise read the workspace, the service, the roles and
    /// unseal the credential again. A role removed or a resource disabled takes effect within `targetTTL`.
    let targets = BoundedCache<String, CachedTarget>(capacity: 10_000)
    static let targetTTL: Double = 2

    struct CachedTarget: Sendable {
        var target: GatewayTarget
        var expires: Double
    }

    static let methods: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options]

    init(deps: EnclaveDependencies, access: Access, authentication: TokenAuthMiddleware) {
        self.access = access
        self.store = deps.store
        self.secrets = deps.controlPlane.secrets
        self.proxy = deps.gatewayProxy
        self.audit = deps.gatewayAudit
        self.authentication = authentication
        self.environment = deps.controlPlane.environment
        let url = URLComponents(string: deps.configuration.resolvedPublicURL)
        self.publicScheme = url?.scheme ?? "http"
        let host = url?.host ?? deps.configuration.host
        self.publicHost = url?.port.map { "\(host):\($0)" } ?? host
    }

    func register(on router: Router<EnclaveRequestContext>) {
        let group = router.group("workspaces")
            .add(middleware: BasicChallengeMiddleware())
            .add(middleware: authentication)
            .add(middleware: SignInRedirectMiddleware())
            .group(context: AuthenticatedContext.self)
            .add(middleware: AuditDenialMiddleware(store: store, environment: environment))
        for method in Self.methods {
            group.on(":workspaceId/services/**", method: method) { request, context in
                try await forward(request, context: context)
            }
        }
    }

    func forward(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        try ForwardedHeaders.checkLimits(request.headers)
        let path = try GatewayPath.parse(request.uri.string)
        let target = try await resolve(path, user: context.user)
        if Self.isWebSocketUpgrade(request.headers) {
            // Only upgrades `shouldUpgrade` refused get here (through `WebSocketRefusal`).
            guard sameOrigin(request.headers, authority: request.head.authority) else {
                throw EnclaveError.forbidden("A WebSocket from another origin was refused: open the tool through \(publicScheme)://\(publicHost)")
            }
            throw EnclaveError.badGateway("The WebSocket could not be opened")
        }
        if path.remainder.isEmpty {
            var location = path.prefix + "/"
            if let query = path.query { location += "?\(query)" }
            return Response(status: .permanentRedirect, headers: [.location: location])
        }
        try await audit.httpRequest(user: context.user, path: path, address: context.remoteAddress, requestId: context.requestId)
        return try await proxy.forward(
            request, path: path, to: target, origin: origin(path, address: context.remoteAddress, user: context.user),
            sessionCookie: SessionController.sessionCookie)
    }

    /// Authorises `user` for the resource `path` names and returns where its traffic goes.
    func resolve(_ path: GatewayPath, user: User) async throws -> GatewayTarget {
        let key = "\(user.id)|\(user.roles.joined(separator: ","))|\(path.resourcePath)"
        let now = environment.now()
        if let cached = targets.value(for: key), cached.expires > now { return cached.target }
        let target = try await resolveUncached(path, user: user)
        targets.set(CachedTarget(target: target, expires: now + Self.targetTTL), for: key)
        return target
    }

    private func resolveUncached(_ path: GatewayPath, user: User) async throws -> GatewayTarget {
        let (workspace, actor) = try await access.workspace(path.workspaceId, user: user)
        let service = try await access.service(path.serviceId, in: workspace)
        var resource = service
        if let id = path.userResourceId {
            let userResource = try await access.userResource(id, in: service)
            try access.require(actor, .connectUserResource, resourceOwnerId: userResource.ownerId)
            resource = userResource
        } else {
            try access.require(actor, .connectWorkspaceService)
        }
        guard workspace.isEnabled, service.isEnabled, resource.isEnabled else {
            throw EnclaveError.conflict("\(path.resourcePath) is disabled: enable it to open it")
        }
        if resource.azureStatus["powerState"]?.stringValue == "stopped" {
            throw EnclaveError.serviceUnavailable("\(path.resourcePath) is stopped: start it first")
        }
        let opened = try await store.sealedSecrets(resourceId: resource.id).map { try secrets.open($0) } ?? [:]
        guard let target = try GatewayTarget(secrets: opened) else {
            throw EnclaveError.notFound(
                "\(path.resourcePath) has nothing to open through the gateway (not deployed yet, or its template reports no gateway_upstream)")
        }
        return target
    }

    /// Decides a WebSocket upgrade request: gateway paths whose caller may open the resource are relayed to it;
    /// other gateway paths get the router's answer through `refusal` (401, 403…); other paths hummingbird's 400.
    func shouldUpgrade(_ head: HTTPRequest, channel: any Channel, logger: Logger, refusal: WebSocketRefusal) async
        -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>>
    {
        guard let target = head.path, target.hasPrefix("/workspaces/") else { return .dontUpgrade }
        let address = channel.remoteAddress?.ipAddress
        let decided: Result<(User, GatewayPath, GatewayTarget), any Error> = await asyncResult {
            try ForwardedHeaders.checkLimits(head.headerFields)
            let path = try GatewayPath.parse(target)
            guard sameOrigin(head.headerFields, authority: head.authority) else { throw EnclaveError.forbidden("cross-origin WebSocket") }
            let request = Request(head: head, body: .init(buffer: ByteBuffer()))
            guard let user = try await authentication.user(for: request, remoteAddress: address) else {
                throw EnclaveError.unauthorized("no credentials")
            }
            return (user, path, try await resolve(path, user: user))
        }
        let user: User, path: GatewayPath, upstream: GatewayTarget
        switch decided {
        case .success(let decision): (user, path, upstream) = decision
        case .failure(let error):
            logger.notice("gateway WebSocket refused", metadata: ["path": .string(target), "reason": .string("\(error)")])
            await refusal.answer(head, channel: channel, logger: logger)
            return .dontUpgrade
        }
        let forwarded = ForwardedHeaders.request(
            head.headerFields, origin: origin(path, address: address, user: user), credential: upstream.credential,
            sessionCookie: SessionController.sessionCookie, webSocket: true)
        var response = HTTPFields()
        if let offered = head.headerFields[.secWebSocketProtocol], let first = offered.split(separator: ",").first {
            response[.secWebSocketProtocol] = first.trimmingCharacters(in: .whitespaces)
        }
        let url = upstream.url(for: path, webSocket: true)
        let audit = self.audit
        return .upgrade(response) { inbound, outbound, context in
            let openedAt: Double
            do {
                openedAt = try await audit.webSocketOpened(user: user, path: path, address: address)
            } catch {
                context.logger.error("could not record a gateway connect; closing", metadata: ["error": "\(error)"])
                try? await outbound.close(.unexpectedServerError, reason: "audit unavailable")
                return
            }
            let relayed = await asyncResult {
                try await WebSocketRelay.run(client: inbound, outbound, upstreamURL: url, headers: forwarded, logger: context.logger)
            }
            switch relayed {
            case .success(let counts):
                await audit.webSocketClosed(user: user, path: path, openedAt: openedAt, counts: counts, error: nil, logger: context.logger)
            case .failure(let error):
                await audit.webSocketClosed(user: user, path: path, openedAt: openedAt, counts: .init(), error: error, logger: context.logger)
            }
        }
    }

    func origin(_ path: GatewayPath, address: String?, user: User) -> ForwardedHeaders.Origin {
        ForwardedHeaders.Origin(
            clientAddress: address, proto: publicScheme, host: publicHost, prefix: path.prefix + "/", user: user.id,
            email: user.email.isEmpty ? nil : user.email)
    }

    static func isWebSocketUpgrade(_ headers: HTTPFields) -> Bool {
        headers[.upgrade]?.lowercased().contains("websocket") == true
    }

    /// A browser's WebSocket carries `Origin`; it must be this server (the public URL, or the Host it was sent
    /// to), or a page elsewhere could open a tool with the user's cookie. Clients without `Origin` are not browsers.
    func sameOrigin(_ headers: HTTPFields, authority: String?) -> Bool {
        guard let sent = headers[.origin] else { return true }
        guard let url = URLComponents(string: sent), let host = url.host else { return false }
        let allowed = [publicHost, authority].compactMap { $0 }
        guard let port = url.port else {
            // An Origin without a port (the scheme's default) must name the host of one of them.
            return allowed.contains { $0 == host || $0.hasPrefix("\(host):") }
        }
        return allowed.contains("\(host):\(port)")
    }
}


/// `Result(catching:)` for async bodies.
func asyncResult<T>(_ body: () async throws -> T) async -> Result<T, any Error> {
    do {
        return .success(try await body())
    } catch {
        return .failure(error)
    }
}
