import EnclaveCore
import EnclaveLocal
import EnclaveStore
import Hummingbird
import Logging

/// The airlock's second listener (`--airlock-workspace-port`): how a workspace fills its export drafts
/// from its own network, e.g. `curl -T results.csv <link>` in a notebook, without any way out of it.
///
/// A workspace reaches nothing on the host but the ports its nftables table allows on the host end of
/// its veth (every workspace is allowed this one), so the listener is bound on every address and decides
/// by the peer: only a workspace's end of a veth of the pool is served (anyone else: 403), only with a
/// link of that same workspace (a link used from another workspace: 403), and only to upload into or
/// delete from an export draft. Nothing is read through it: data enters a workspace only through an
/// approved import, so the listener never sends a file's bytes, or a list of what outside uploads put in
/// a draft, into a workspace. Uploads run `AirlockController.upload`, the same streaming, limits and
/// hashing as `PUT /api/…/files/{name}`. Every refusal is an `auth.denied` audit record.
struct AirlockWorkspaceListener: Sendable {
    let links: AirlockLinks
    let controller: AirlockController
    let port: Int

    /// What uploads through this listener record as their files' `source`, so reviewers see where they came from.
    static let source = "workspace network"

    static let readRefusal =
        "Files are not read through a workspace's network: data enters a workspace only through an approved import. List or download them from outside (GET /api/workspaces/{id}/requests/{rid}/files)"

    func router() -> Router<EnclaveRequestContext> {
        let router = Router(context: EnclaveRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: RequestLogMiddleware(level: .info))
        router.add(middleware: WorkspacePeerMiddleware(links: links))
        let files = "airlock-links/:workspaceId/:requestId/files"
        router.put("\(files)/:name", use: links.signed("w", on: .workspace, controller: controller, check: fromItsWorkspace) { controller in
            { try await controller.upload($0, context: $1, source: Self.source) }
        })
        router.delete("\(files)/:name", use: links.signed("d", on: .workspace, controller: controller, check: fromItsWorkspace) { $0.deleteFile })
        let links = self.links
        let refuseReads: AirlockLinks.Handler = { request, context in
            await links.recordRefusal(request, context: context, user: nil, reason: Self.readRefusal, listener: .workspace)
            throw EnclaveError.forbidden(Self.readRefusal)
        }
        router.get(RouterPath(files), use: refuseReads)
        router.get(RouterPath("\(files)/:name"), use: refuseReads)
        return router
    }

    /// The connection comes from the link's own workspace, and the request is an export: only exports
    /// are filled from inside (an import's files come from outside, and are scanned and reviewed before
    /// they enter). Checked before any byte of the body is read.
    @Sendable func fromItsWorkspace(_ context: EnclaveRequestContext) async throws {
        let workspaceId = try context.parameters.require("workspaceId")
        let requestId = try context.parameters.require("requestId")
        let placement = try await links.plane.placement(workspaceId: workspaceId)
        if let refusal = links.plane.configuration.pool.peerRefusal(context.remoteAddress, workspaceId: workspaceId, link: placement?.link) {
            throw EnclaveError.forbidden(refusal)
        }
        if let found = try await links.store.airlockRequest(id: requestId), found.workspaceId == workspaceId, found.type != .export {
            throw EnclaveError.forbidden(
                "Only export requests are filled from inside a workspace; request \(requestId) is an \(found.type.rawValue), whose files are uploaded from outside the workspace")
        }
    }

    /// The listener as an application (a service of the main one), on every IPv4 address of the host:
    /// workspaces' host ends come and go with workspaces, and the peer check decides who is served.
    func application(logger: Logger) -> some ApplicationProtocol {
        Application(
            router: router(), configuration: .init(address: .hostname("0.0.0.0", port: port), serverName: "enclave"), logger: logger)
    }
}

/// Refuses, before routing, every connection that does not come from a workspace's end of a veth of the pool.
struct WorkspacePeerMiddleware: RouterMiddleware {
    typealias Context = EnclaveRequestContext
    let links: AirlockLinks

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let refusal = links.plane.configuration.pool.outsiderRefusal(context.remoteAddress) {
            await links.recordRefusal(request, context: context, user: nil, reason: refusal, listener: .workspace)
            throw EnclaveError.forbidden(refusal)
        }
        return try await next(request, context)
    }
}
