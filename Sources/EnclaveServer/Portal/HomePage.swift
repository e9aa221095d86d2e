import EnclaveCore
import EnclavePortal
import EnclaveStore
import Foundation
import Hummingbird

/// `/workspaces` (where `/` sends browsers): the signed-in user's workspaces as cards (all of them for admins), with their status and role.
struct HomePage: Sendable {
    let portal: Portal

    func register(on pages: RouterGroup<PortalContext>) {
        pages.get("/workspaces") { request, context in try await home(request, context) }
    }

    struct View {
        var workspaces: [Card]
        var canCreate: Bool
    }

    struct Card {
        var id: String
        var name: String
        var description: String
        var status: String
        var statusClass: String
        var role: String?
    }

    func home(_ request: Request, _ context: PortalContext) async throws -> Response {
        let actor = Actor(user: context.user)
        try portal.access.require(actor, .listWorkspaces)
        let roles = try await portal.store.workspaceRoles(userId: context.user.id)
        var workspaces = try await portal.store.resources(ResourceFilter(type: .workspace))
        if !actor.isAdmin { workspaces = workspaces.filter { roles[$0.id] != nil } }
        let cards = workspaces.map { workspace in
            Card(
                id: workspace.id, name: PortalText.displayName(workspace), description: PortalText.description(workspace),
                status: PortalText.status(workspace), statusClass: PortalText.statusClass(workspace.deploymentStatus),
                role: PortalText.roles(roles[workspace.id] ?? [], admin: actor.isAdmin))
        }.sorted { $0.name.localizedCaseInsensitiveCompare($1.name) == .orderedAscending }
        let layout = try await portal.layout(context, request: request, title: "Your workspaces", section: "home")
        return portal.page("home", View(workspaces: cards, canCreate: actor.isAdmin), layout: layout)
    }
}

/// How resources read on pages: their display name, description, status words and badge class.
enum PortalText {
    static func displayName(_ resource: Resource) -> String {
        let name = resource.properties["display_name"]?.stringValue ?? ""
        return name.isEmpty ? resource.templateName : name
    }

    static func description(_ resource: Resource) -> String { resource.properties["description"]?.stringValue ?? "" }

    /// The deployment status in words, with "disabled" when a deployed resource is turned off.
    static func status(_ resource: Resource) -> String {
        let status = (resource.deploymentStatus ?? "unknown").replacingOccurrences(of: "_", with: " ")
        return resource.isEnabled ? status : "\(status), disabled"
    }

    /// `ok`, `busy` or `bad`: the badge colour for a deployment or operation status.
    static func statusClass(_ status: String?) -> String {
        guard let status, let known = OperationStatus(rawValue: status) else { return "neutral" }
        if known.isFailure { return "bad" }
        return known.isTerminal ? "ok" : "busy"
    }

    static func roles(_ roles: Set<WorkspaceRole>, admin: Bool) -> String? {
        let names = roles.map(\.displayName).sorted()
        if names.isEmpty { return admin ? "TRE Administrator" : nil }
        return names.joined(separator: ", ")
    }
}
