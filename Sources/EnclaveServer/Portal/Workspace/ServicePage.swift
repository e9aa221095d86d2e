import EnclaveCore
import EnclavePortal
import EnclaveStore
import Hummingbird

/// `/workspaces/{id}/workspace-services/{sid}`: one service — status, Connect, its user resources and its
/// operations (and those of its user resources).
extension WorkspacePages {
    struct ServiceView {
        var workspaceId: String
        var service: WorkspaceViews.Service
        var enabled: Bool
        var userResources: [WorkspaceViews.UserResource]
        var showOwners: Bool
        let showService = false
        var operations: [WorkspaceViews.Operation]
        var anyInFlight: Bool
        var statusClasses: String
        var csrf: String
        var returnTo: String
    }

    func servicePage(_ request: Request, _ context: PortalContext) async throws -> Response {
        let workspaceId = try Self.id(context, "workspaceId")
        let serviceId = try Self.id(context, "serviceId")
        let contents = try await WorkspaceContents.load(portal, workspaceId: workspaceId, user: context.user, operationLimit: 0)
        // As `GET /api/workspaces/{id}/workspace-services/{sid}`: readWorkspaceServices, then the service.
        try portal.access.require(contents.actor, .readWorkspaceServices)
        let service = try contents.service(serviceId)
        let userResources = contents.userResources.filter { $0.parentWorkspaceServiceId == service.id }
        // The service's operations and its visible user resources' (a service has a handful of those), each
        // only where `GET …/operations` of that resource would answer this user.
        var operations: [ResourceOperation] = []
        for resource in [service] + userResources
        where Policy.mayReadOperations(contents.actor, of: resource.resourceType, ownerId: resource.ownerId) {
            operations += try await portal.store.operations(resourceId: resource.id)
        }
        operations.sort { ($0.createdWhen, $0.id) > ($1.createdWhen, $1.id) }
        operations = Array(operations.prefix(Self.pageOperationWindow))
        let names = Self.resourceNames(contents)
        let path = "/workspaces/\(workspaceId)/workspace-services/\(service.id)"
        let view = ServiceView(
            workspaceId: workspaceId, service: WorkspaceViews.service(service, in: contents), enabled: service.isEnabled,
            userResources: try await userResourceRows(userResources, in: contents, viewer: context.user),
            showOwners: contents.actor.workspaceRoles.contains(.owner),
            operations: operations.map { WorkspaceViews.operation($0, workspaceId: workspaceId, names: names) },
            anyInFlight: operations.contains { !$0.status.isTerminal }, statusClasses: Self.statusClasses,
            csrf: context.session.csrf, returnTo: path)
        let layout = try await portal.layout(
            context, request: request, title: view.service.name, section: "home", breadcrumbs: Self.crumbs(contents.workspace),
            scripts: ["operations.js"])
        return portal.page("workspace-service", view, layout: layout)
    }
}
