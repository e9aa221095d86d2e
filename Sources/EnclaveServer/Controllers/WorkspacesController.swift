import EnclaveCore
import EnclaveStore
import Foundation
import Hummingbird

/// `/api/workspaces/…`: workspaces, their users and roles, and the templates usable inside them.
struct WorkspacesController: Sendable {
    let routes: ResourceRoutes
    var access: Access { routes.access }
    var store: any Store { routes.store }

    func register(on group: RouterGroup<AuthenticatedContext>) {
        group.get("workspaces", use: list)
        group.post("workspaces", use: create)
        group.get("workspaces/:workspaceId", use: get)
        group.patch("workspaces/:workspaceId", use: patch)
        group.delete("workspaces/:workspaceId", use: delete)
        group.post("workspaces/:workspaceId/invoke-action", use: invoke)
        group.get("workspaces/:workspaceId/scopeid", use: scopeId)
        group.get("workspaces/:workspaceId/operations", use: operations)
        group.get("workspaces/:workspaceId/operations/:operationId", use: operation)
        group.get("workspaces/:workspaceId/history", use: history)
        group.get("workspaces/:workspaceId/workspace-service-templates", use: serviceTemplates)
        group.get(
            "workspaces/:workspaceId/workspace-service-templates/:serviceTemplateName/user-resource-templates",
            use: userResourceTemplates)
        group.get("workspaces/:workspaceId/users", use: users)
        group.get("workspaces/:workspaceId/roles", use: roles)
        group.post("workspaces/:workspaceId/users/assign", use: assign)
        group.delete("workspaces/:workspaceId/users/assign", use: unassign)
    }

    func workspace(_ context: AuthenticatedContext, _ action: PolicyAction) async throws -> (Resource, Actor) {
        let id = try requireUUID(context, "workspaceId")
        let (workspace, actor) = try await access.workspace(id, user: context.user)
        try access.require(actor, action)
        return (workspace, actor)
    }

    @Sendable func list(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let actor = Actor(user: context.user)
        try access.require(actor, .listWorkspaces)
        var workspaces = try await store.resources(ResourceFilter(type: .workspace))
        if !actor.isAdmin {
            let mine = try await store.workspaceIds(userId: context.user.id)
            workspaces = workspaces.filter { mine.contains($0.id) }
        }
        return try await routes.list("workspaces", workspaces)
    }

    @Sendable func create(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let actor = Actor(user: context.user)
        try access.require(actor, .createWorkspace)
        return try await routes.create(.workspace, request: request, placement: .init(), actor: actor, requestId: context.requestId)
    }

    @Sendable func get(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (workspace, _) = try await workspace(context, .readWorkspace)
        return try await routes.one("workspace", workspace)
    }

    @Sendable func patch(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (workspace, actor) = try await workspace(context, .manageWorkspace)
        return try await routes.patch(workspace, request: request, actor: actor, requestId: context.requestId)
    }

    @Sendable func delete(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (workspace, actor) = try await workspace(context, .manageWorkspace)
        return try await routes.delete(workspace, actor: actor, requestId: context.requestId)
    }

    @Sendable func invoke(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (workspace, actor) = try await workspace(context, .manageWorkspace)
        return try await routes.invoke(workspace, request: request, actor: actor, requestId: context.requestId)
    }

    @Sendable func scopeId(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        try access.require(Actor(user: context.user), .readWorkspaceScope)
        let id = try requireUUID(context, "workspaceId")
        guard let workspace = try await store.resource(id: id), workspace.resourceType == .workspace else {
            throw EnclaveError.notFound("Workspace \(id) does not exist")
        }
        let scope = workspace.properties["scope_id"]?.stringValue ?? ""
        return try JSONBody.response(["workspaceAuth": ["scopeId": scope]])
    }

    @Sendable func operations(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (workspace, _) = try await workspace(context, .readWorkspaceOperations)
        return try await routes.operations(workspace)
    }

    @Sendable func operation(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (workspace, _) = try await workspace(context, .readWorkspaceOperations)
        return try await routes.operation(workspace, context: context)
    }

    @Sendable func history(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (workspace, _) = try await workspace(context, .readWorkspaceOperations)
        return try await routes.history(workspace)
    }

    @Sendable func serviceTemplates(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (_, actor) = try await workspace(context, .readWorkspace)
        let templates = try await store.templates(type: .workspaceService, name: nil, parent: nil)
            .filter { $0.current && Policy.mayUseTemplate(actor, authorizedRoles: $0.authorizedRoles) }
        return try JSONBody.response(Envelope("templates", templates.map(TemplateSummary.init)))
    }

    @Sendable func userResourceTemplates(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (_, actor) = try await workspace(context, .readWorkspace)
        let parent = try context.parameters.require("serviceTemplateName")
        let templates = try await store.templates(type: .userResource, name: nil, parent: parent)
            .filter { $0.current && Policy.mayUseTemplate(actor, authorizedRoles: $0.authorizedRoles) }
        return try JSONBody.response(Envelope("templates", templates.map(TemplateSummary.init)))
    }

    struct UserView: Encodable {
        struct RoleView: Encodable {
            var id: String
            var displayName: String
        }
        var id: String
        var displayName: String
        var userPrincipalName: String
        var email: String
        var roles: [RoleView]
    }

    @Sendable func users(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (workspace, _) = try await workspace(context, .readWorkspace)
        let views = try await membership.members(of: workspace).map { member in
            UserView(
                id: member.id, displayName: member.name, userPrincipalName: member.email ?? member.id, email: member.email ?? "",
                roles: member.roles.map { UserView.RoleView(id: $0.rawValue, displayName: $0.displayName) })
        }
        return try JSONBody.response(Envelope("users", views))
    }

    struct RoleView: Encodable {
        var id: String
        var value: String
        var displayName: String
    }

    @Sendable func roles(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        _ = try await workspace(context, .manageWorkspaceUsers)
        return try JSONBody.response(
            Envelope("roles", WorkspaceRole.allCases.map { RoleView(id: $0.rawValue, value: $0.rawValue, displayName: $0.displayName) }))
    }

    struct AssignBody: Codable {
        var role_id: String
        var user_ids: [String]
    }

    var membership: WorkspaceMembership { WorkspaceMembership(controlPlane: routes.controlPlane) }

    @Sendable func assign(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (workspace, actor) = try await workspace(context, .manageWorkspaceUsers)
        let body = try await JSONBody.decode(AssignBody.self, from: request)
        let role = try WorkspaceMembership.role(body.role_id)
        try await membership.assign(role, to: body.user_ids, in: workspace, actor: actor, requestId: context.requestId)
        return try JSONBody.response(body, status: .accepted)
    }

    @Sendable func unassign(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let (workspace, actor) = try await workspace(context, .manageWorkspaceUsers)
        guard let userId = request.uri.queryParameters.get("user_id"), let roleId = request.uri.queryParameters.get("role_id")
        else { throw EnclaveError.unprocessable("Both user_id and role_id query parameters are required") }
        let role = try WorkspaceMembership.role(roleId)
        try await membership.unassign(role, from: userId, in: workspace, actor: actor, requestId: context.requestId)
        return try JSONBody.response(AssignBody(role_id: roleId, user_ids: [userId]), status: .accepted)
    }
}
