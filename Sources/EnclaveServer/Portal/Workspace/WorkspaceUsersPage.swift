import EnclaveCore
import EnclavePortal
import EnclaveStore
import Foundation
import Hummingbird

/// `/workspaces/{id}/users`: who holds which role (owners and admins), and for admins the forms that assign
/// and remove roles — through `WorkspaceMembership`, as `POST/DELETE /api/workspaces/{id}/users/assign` do,
/// so each change is audited the same way.
extension WorkspacePages {
    struct UsersView {
        var workspaceId: String
        var members: [Member]
        var canManage: Bool
        var csrf: String
        var roles: [RoleOption]
        /// Suggestions for the user field: everyone enabled in the directory (built-in accounts and users seen).
        var directory: [DirectoryOption]
        var userId: String
        var userError: String?
        var roleError: String?
    }

    struct Member {
        var id: String
        var name: String
        var email: String
        var roles: [HeldRole]
    }

    struct HeldRole {
        var id: String
        var name: String
        var userId: String
        var userName: String
    }

    struct RoleOption {
        var id: String
        var name: String
        var selected: Bool
    }

    struct DirectoryOption {
        var id: String
        var label: String
    }

    var membership: WorkspaceMembership { WorkspaceMembership(controlPlane: portal.controlPlane) }

    func usersPage(_ request: Request, _ context: PortalContext) async throws -> Response {
        let (workspace, actor) = try await portal.access.workspace(try Self.id(context, "workspaceId"), user: context.user)
        try portal.access.require(actor, .readWorkspaceMembers)
        return try await renderUsers(request, context, workspace: workspace, actor: actor)
    }

    func renderUsers(
        _ request: Request, _ context: PortalContext, workspace: Resource, actor: Actor, typed: (user: String, role: String)? = nil,
        errors: (user: String?, role: String?) = (nil, nil)
    ) async throws -> Response {
        let canManage = Policy.decide(actor, .manageWorkspaceUsers).isAllowed
        let members = try await membership.members(of: workspace).map { member in
            Member(
                id: member.id, name: member.name, email: member.email ?? "",
                roles: member.roles.map { HeldRole(id: $0.rawValue, name: $0.displayName, userId: member.id, userName: member.name) })
        }
        var directory: [DirectoryOption] = []
        if canManage {
            let users = UserDirectory.users(accounts: try await portal.store.users(), seen: try await portal.store.seenUsers())
            directory = users.filter(\.enabled).map {
                DirectoryOption(id: $0.id, label: $0.name.isEmpty ? $0.username : "\($0.name) (\($0.username))")
            }
        }
        let chosenRole = typed?.role ?? WorkspaceRole.researcher.rawValue
        let view = UsersView(
            workspaceId: workspace.id, members: members, canManage: canManage, csrf: context.session.csrf,
            roles: WorkspaceRole.allCases.map { RoleOption(id: $0.rawValue, name: $0.displayName, selected: $0.rawValue == chosenRole) },
            directory: directory, userId: typed?.user ?? "", userError: errors.user, roleError: errors.role)
        let failed = errors.user != nil || errors.role != nil
        let layout = try await portal.layout(
            context, request: request, title: "Users and roles", section: "home", breadcrumbs: Self.crumbs(workspace),
            error: failed ? "The role was not assigned: correct the form below." : nil)
        return portal.page("workspace-users", view, layout: layout, status: failed ? .unprocessableContent : .ok)
    }

    func assignRole(_ request: Request, _ context: PortalContext) async throws -> Response {
        let workspaceId = try Self.id(context, "workspaceId")
        let form = try await portal.form(request, context: context)
        let (workspace, actor) = try await portal.access.workspace(workspaceId, user: context.user)
        try portal.access.require(actor, .manageWorkspaceUsers)
        let userId = (form["user_id"] ?? "").trimmingCharacters(in: .whitespaces)
        let roleId = form["role_id"] ?? ""
        guard !userId.isEmpty, let role = WorkspaceRole(rawValue: roleId) else {
            return try await renderUsers(
                request, context, workspace: workspace, actor: actor, typed: (userId, roleId),
                errors: (
                    userId.isEmpty ? "Enter the user's id, or pick them from the suggestions" : nil,
                    WorkspaceRole(rawValue: roleId) == nil ? "Choose one of the roles" : nil
                ))
        }
        try await membership.assign(role, to: [userId], in: workspace, actor: actor, requestId: context.requestId)
        let name = try await portal.store.knownUsers(ids: [userId]).first.map { $0.name.isEmpty ? userId : $0.name } ?? userId
        return portal.redirect("/workspaces/\(workspace.id)/users", notice: "\(name) is now \(role.displayName) in this workspace.")
    }

    func removeRole(_ request: Request, _ context: PortalContext) async throws -> Response {
        let workspaceId = try Self.id(context, "workspaceId")
        let form = try await portal.form(request, context: context)
        let (workspace, actor) = try await portal.access.workspace(workspaceId, user: context.user)
        try portal.access.require(actor, .manageWorkspaceUsers)
        let userId = form["user_id"] ?? ""
        let role = try WorkspaceMembership.role(form["role_id"] ?? "")
        try await membership.unassign(role, from: userId, in: workspace, actor: actor, requestId: context.requestId)
        let name = try await portal.store.knownUsers(ids: [userId]).first.map { $0.name.isEmpty ? userId : $0.name } ?? userId
        return portal.redirect("/workspaces/\(workspace.id)/users", notice: "\(name) is no longer \(role.displayName) in this workspace.")
    }
}
