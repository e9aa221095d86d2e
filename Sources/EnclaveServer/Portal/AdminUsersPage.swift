import EnclaveAuth
import EnclaveCore
import EnclaveEngine
import EnclavePortal
import EnclaveStore
import Foundation
import HTTPTypes
import Hummingbird

/// `/admin/users`: everyone who can use the TRE, with the same changes as `/api/users` made through
/// `AccountAdministration` as the signed-in admin: invite (the link is shown once, on the answer to the
/// post), disable or enable, add or remove a core role. Users of an external identity provider are listed
/// but managed there. `/account/users`, where this page used to be, redirects here.
struct AdminUsersPage: Sendable {
    let portal: Portal
    let provider: BuiltInProvider

    func register(on pages: RouterGroup<PortalContext>) {
        pages.get("/admin/users") { request, context in try await list(request, context) }
        pages.post("/admin/users") { request, context in try await invite(request, context) }
        pages.post("/admin/users/:userId/enabled") { request, context in try await setEnabled(request, context) }
        pages.post("/admin/users/:userId/roles") { request, context in try await changeRole(request, context) }
        pages.get("/account/users") { _, _ in portal.redirect("/admin/users") }
    }

    struct View {
        var csrf: String
        var users: [Row]
        var invitation: Invitation?
        var invite: InviteForm
    }

    struct Row {
        var id: String
        var username: String
        var name: String
        var email: String?
        var roles: [String]
        var rolesText: String
        var enabled: Bool
        var builtin: Bool
        var mfa: String
        var lastSeen: String
        var addable: [String]
    }

    struct Invitation {
        var username: String
        var link: String
        var until: String
    }

    struct InviteForm {
        var username: String = ""
        var name: String = ""
        var email: String = ""
        var roles: [PortalOption] = []
    }

    func list(_ request: Request, _ context: PortalContext) async throws -> Response {
        _ = try await portal.requireAudited(.manageUsers, request, context)
        return try await render(request, context)
    }

    private func administration(_ context: PortalContext) -> AccountAdministration {
        AccountAdministration(store: portal.store, actor: AuditActor(context.user), now: portal.controlPlane.environment.now)
    }

    func render(
        _ request: Request, _ context: PortalContext, invite: InviteForm = InviteForm(), invitation: Invitation? = nil,
        error: String? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let coreRoles = CoreRole.allCases.map(\.rawValue)
        let users = UserDirectory.users(accounts: try await portal.store.users(), seen: try await portal.store.seenUsers()).map { user in
            Row(
                id: user.id, username: user.username, name: user.name, email: user.email.isEmpty ? nil : user.email, roles: user.roles,
                rolesText: user.roles.isEmpty ? "none" : user.roles.joined(separator: ", "), enabled: user.enabled,
                builtin: user.source == .builtin,
                mfa: user.source == .builtin ? (user.mfaEnrolled ? "enrolled" : "not enrolled") : "identity provider",
                lastSeen: user.lastSeen.map(Portal.time) ?? "never", addable: coreRoles.filter { !user.roles.contains($0) })
        }
        var invite = invite
        let chosen = invite.roles.first { $0.selected }?.value ?? CoreRole.treUser.rawValue
        invite.roles = PortalOption.list(coreRoles.map { ($0, $0) }, selected: chosen)
        let view = View(csrf: context.session.csrf, users: users, invitation: invitation, invite: invite)
        let layout = try await portal.layout(context, request: request, title: "Users", section: "admin", breadcrumbs: AdminPages.crumbs, error: error)
        return portal.page("admin-users", view, layout: layout, status: status)
    }

    func invite(_ request: Request, _ context: PortalContext) async throws -> Response {
        _ = try await portal.requireAudited(.manageUsers, request, context)
        let form = try await portal.form(request, context: context)
        let role = form["role"] ?? CoreRole.treUser.rawValue
        let typed = InviteForm(
            username: form["username"] ?? "", name: form["name"] ?? "", email: form["email"] ?? "",
            roles: [PortalOption(value: role, label: role, selected: true)])
        do {
            let issued = try await administration(context).invite(username: typed.username, name: typed.name, email: typed.email, roles: [role])
            let invitation = Invitation(
                username: issued.account.username, link: provider.invitationURL(token: issued.token),
                until: Portal.time(issued.expiresAt))
            // The link is shown on this answer only (never in a redirect or a cookie), like the API's response.
            return try await render(request, context, invitation: invitation, status: .created)
        } catch let error as EnclaveError {
            return try await render(request, context, invite: typed, error: error.message, status: HTTPResponse.Status(code: error.statusCode))
        }
    }

    func setEnabled(_ request: Request, _ context: PortalContext) async throws -> Response {
        _ = try await portal.requireAudited(.manageUsers, request, context)
        let form = try await portal.form(request, context: context)
        let enabled = form["enabled"] == "true"
        return try await change(request, context) {
            let account = try await administration(context).setEnabled(.id(try context.parameters.require("userId")), enabled)
            return "\(account.username) was \(enabled ? "enabled" : "disabled")."
        }
    }

    func changeRole(_ request: Request, _ context: PortalContext) async throws -> Response {
        _ = try await portal.requireAudited(.manageUsers, request, context)
        let form = try await portal.form(request, context: context)
        return try await change(request, context) {
            let id = try context.parameters.require("userId")
            let role = form["role"] ?? ""
            switch form["change"] {
            case "add": return "\(try await administration(context).addRole(.id(id), role).username) now has \(role)."
            case "remove": return "\(try await administration(context).removeRole(.id(id), role).username) no longer has \(role)."
            default: throw EnclaveError.badRequest("The form must say whether to add or remove the role")
            }
        }
    }

    /// Runs a change: back to the list with a notice on success (303, so a reload does not repeat it), the
    /// list with the reason and the refusal's status otherwise (nothing changed).
    private func change(_ request: Request, _ context: PortalContext, _ body: () async throws -> String) async throws -> Response {
        do {
            return portal.redirect("/admin/users", notice: try await body())
        } catch let error as EnclaveError {
            return try await render(request, context, error: error.message, status: HTTPResponse.Status(code: error.statusCode))
        }
    }
}
