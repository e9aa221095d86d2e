import EnclaveCore
import EnclaveStore
import Hummingbird

/// `/api/workspaces/{id}/workspace-services/…` and the user resources beneath them.
struct WorkspaceServicesController: Sendable {
    let routes: ResourceRoutes
    var access: Access { routes.access }
    var store: any Store { routes.store }

    func register(on group: RouterGroup<AuthenticatedContext>) {
        let svc = "workspaces/:workspaceId/workspace-services"
        group.get(RouterPath(svc), use: list)
        group.post(RouterPath(svc), use: create)
        group.get(RouterPath("\(svc)/:serviceId"), use: get)
        group.patch(RouterPath("\(svc)/:serviceId"), use: patch)
        group.delete(RouterPath("\(svc)/:serviceId"), use: delete)
        group.post(RouterPath("\(svc)/:serviceId/invoke-action"), use: invoke)
        group.get(RouterPath("\(svc)/:serviceId/operations"), use: operations)
        group.get(RouterPath("\(svc)/:serviceId/operations/:operationId"), use: operation)
        group.get(RouterPath("\(svc)/:serviceId/history"), use: history)

        let ur = "\(svc)/:serviceId/user-resources"
        group.get(RouterPath(ur), use: listUserResources)
        group.post(RouterPath(ur), use: createUserResource)
        group.get(RouterPath("\(ur)/:resourceId"), use: getUserResource)
        group.patch(RouterPath("\(ur)/:resourceId"), use: patchUserResource)
        group.delete(RouterPath("\(ur)/:resourceId"), use: deleteUserResource)
        group.post(RouterPath("\(ur)/:resourceId/invoke-action"), use: invokeUserResource)
        group.get(RouterPath("\(ur)/:resourceId/operations"), use: userResourceOperations)
        group.get(RouterPath("\(ur)/:resourceId/operations/:operationId"), use: userResourceOperation)
        group.get(RouterPath("\(ur)/:resourceId/history"), use: userResourceHistory)
    }

    /// The workspace and the service, after checking the caller may do `action` there.
    func service(_ context: AuthenticatedContext, _ action: PolicyAction) async throws -> (Resource, Resource, Actor) {
        let (workspace, actor) = try await access.workspace(try requireUUID(context, "workspaceId"), user: context.user)
        try access.require(actor, action)
        let service = try await access.service(try requireUUID(context, "serviceId"), in: workspace)
        return (workspace, service, actor)
    }

    /// The user resource, after the ownership rule: researchers and airlock managers only act on their own.
    func userResource(_ context: AuthenticatedContext) async throws -> (Resource, Actor) {
        let (_, service, actor) = try await service(context, .readUserResources)
        let resource = try await access.userResource(try requireUUID(context, "resourceId"), in: service)
        try access.require(actor, .manageUserResource, resourceOwnerId: resource.ownerId)
        return (resource, actor)
    }

    @Sendable func list(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (workspace, actor) = try await access.workspace(try requireUUID(context, "workspaceId"), user: context.user)
        try access.require(actor, .readWorkspaceServices)
        return try await routes.list(
            "workspaceServices", try await store.resources(ResourceFilter(type: .workspaceService, workspaceId: workspace.id)))
    }

    @Sendable func create(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (workspace, actor) = try await access.workspace(try requireUUID(context, "workspaceId"), user: context.user)
        try access.require(actor, .manageWorkspaceService)
        return try await routes.create(.workspaceService, request: request, placement: .init(workspace: workspace), actor: actor, requestId: context.requestId)
    }

    @Sendable func get(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (_, service, _) = try await service(context, .readWorkspaceServices)
        return try await routes.one("workspaceService", service)
    }

    @Sendable func patch(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (_, service, actor) = try await service(context, .manageWorkspaceService)
        return try await routes.patch(service, request: request, actor: actor, requestId: context.requestId)
    }

    @Sendable func delete(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (_, service, actor) = try await service(context, .manageWorkspaceService)
        return try await routes.delete(service, actor: actor, requestId: context.requestId)
    }

    @Sendable func invoke(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (_, service, actor) = try await service(context, .manageWorkspaceService)
        return try await routes.invoke(service, request: request, actor: actor, requestId: context.requestId)
    }

    @Sendable func operations(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        try await routes.operations(try await service(context, .readWorkspaceServiceOperations).1)
    }

    @Sendable func operation(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        try await routes.operation(try await service(context, .readWorkspaceServiceOperations).1, context: context)
    }

    @Sendable func history(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        try await routes.history(try await service(context, .readWorkspaceServiceOperations).1)
    }

    // MARK: User resources

    @Sendable func listUserResources(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (_, service, actor) = try await service(context, .readUserResources)
        let resources = try await store.resources(ResourceFilter(type: .userResource, parentServiceId: service.id))
        return try await routes.list("userResources", Policy.visibleUserResources(actor, resources))
    }

    @Sendable func createUserResource(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (workspace, service, actor) = try await service(context, .createUserResource)
        return try await routes.create(
            .userResource, request: request, placement: .init(workspace: workspace, service: service), actor: actor,
            requestId: context.requestId)
    }

    @Sendable func getUserResource(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        try await routes.one("userResource", try await userResource(context).0)
    }

    @Sendable func patchUserResource(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (resource, actor) = try await userResource(context)
        return try await routes.patch(resource, request: request, actor: actor, requestId: context.requestId)
    }

    @Sendable func deleteUserResource(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (resource, actor) = try await userResource(context)
        return try await routes.delete(resource, actor: actor, requestId: context.requestId)
    }

    @Sendable func invokeUserResource(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (resource, actor) = try await userResource(context)
        return try await routes.invoke(resource, request: request, actor: actor, requestId: context.requestId)
    }

    @Sendable func userResourceOperations(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        try await routes.operations(try await userResource(context).0)
    }

    @Sendable func userResourceOperation(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        try await routes.operation(try await userResource(context).0, context: context)
    }

    @Sendable func userResourceHistory(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        try await routes.history(try await userResource(context).0)
    }
}
