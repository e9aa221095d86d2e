import EnclaveCore
import EnclavePortal
import Hummingbird

/// POST `/workspaces/{id}/workspace-services/{sid}/user-resources/{uid}/actions/{action}`: the Start and Stop
/// buttons. The same checks and use case as `POST …/user-resources/{uid}/invoke-action?action=…`.
extension WorkspacePages {
    func userResourceAction(_ request: Request, _ context: PortalContext) async throws -> Response {
        let workspaceId = try Self.id(context, "workspaceId")
        let serviceId = try Self.id(context, "serviceId")
        let resourceId = try Self.id(context, "resourceId")
        let action = try context.parameters.require("action")
        let form = try await portal.form(request, context: context)
        let (workspace, actor) = try await portal.access.workspace(workspaceId, user: context.user)
        try portal.access.require(actor, .readUserResources)
        let service = try await portal.access.service(serviceId, in: workspace)
        let resource = try await portal.access.userResource(resourceId, in: service)
        try portal.access.require(actor, .manageUserResource, resourceOwnerId: resource.ownerId)
        _ = try await portal.controlPlane.invoke(resource, action: action, actor: actor, requestId: context.requestId)
        // Back to the page the button was on: a page of this workspace, named by a plain path.
        let back = form["return_to"].flatMap { path in
            ResourcePath.isInside(path, workspace: workspace.id) && path.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "/" || $0 == "-") }
                ? path : nil
        }
        return portal.redirect(
            back ?? "/workspaces/\(workspace.id)",
            notice: "\(WorkspaceViews.actionWords(action)) requested for \(PortalText.displayName(resource)); its progress is under Operations.")
    }
}
