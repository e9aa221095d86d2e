import EnclaveCore
import EnclaveStore
import Hummingbird

/// `/api/shared-services/…` (singletons per template) and `/api/operations`.
struct SharedServicesController: Sendable {
    let routes: ResourceRoutes
    var access: Access { routes.access }
    var store: any Store { routes.store }

    func register(on group: RouterGroup<AuthenticatedContext>) {
        group.get("shared-services", use: list)
        group.post("shared-services", use: create)
        group.get("shared-services/:sharedServiceId", use: get)
        group.patch("shared-services/:sharedServiceId", use: patch)
        group.delete("shared-services/:sharedServiceId", use: delete)
        group.post("shared-services/:sharedServiceId/invoke-action", use: invoke)
        group.get("shared-services/:sharedServiceId/operations", use: operations)
        group.get("shared-services/:sharedServiceId/operations/:operationId", use: operation)
        group.get("shared-services/:sharedServiceId/history", use: history)
        group.get("operations", use: myOperations)
    }

    func shared(_ context: AuthenticatedContext, _ action: PolicyAction) async throws -> (Resource, Actor) {
        let actor = Actor(user: context.user)
        try access.require(actor, action)
        return (try await access.sharedService(try requireUUID(context, "sharedServiceId")), actor)
    }

    @Sendable func list(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let actor = Actor(user: context.user)
        try access.require(actor, .readSharedServices)
        return try await routes.list(
            "sharedServices", try await store.resources(ResourceFilter(type: .sharedService)), restricted: !actor.isAdmin)
    }

    @Sendable func create(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let actor = Actor(user: context.user)
        try access.require(actor, .manageSharedServices)
        return try await routes.create(.sharedService, request: request, placement: .init(), actor: actor, requestId: context.requestId)
    }

    @Sendable func get(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (resource, actor) = try await shared(context, .readSharedServices)
        return try await routes.one("sharedService", resource, restricted: !actor.isAdmin)
    }

    @Sendable func patch(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (resource, actor) = try await shared(context, .manageSharedServices)
        return try await routes.patch(resource, request: request, actor: actor, requestId: context.requestId)
    }

    @Sendable func delete(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (resource, actor) = try await shared(context, .manageSharedServices)
        return try await routes.delete(resource, actor: actor, requestId: context.requestId)
    }

    @Sendable func invoke(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (resource, actor) = try await shared(context, .manageSharedServices)
        return try await routes.invoke(resource, request: request, actor: actor, requestId: context.requestId)
    }

    @Sendable func operations(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        try await routes.operations(try await shared(context, .manageSharedServices).0)
    }

    @Sendable func operation(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        try await routes.operation(try await shared(context, .manageSharedServices).0, context: context)
    }

    @Sendable func history(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        try await routes.history(try await shared(context, .manageSharedServices).0)
    }

    @Sendable func myOperations(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        try access.require(Actor(user: context.user), .listMyOperations)
        return try JSONBody.response(Envelope("operations", try await store.inFlightOperations(userId: context.user.id)))
    }
}
