import EnclaveCore
import EnclavePortal
import Hummingbird

/// `/workspaces/{id}`: the workspace's header, overview, services with Connect, user resources with
/// start/stop, and its in-flight and recent operations.
extension WorkspacePages {
    /// How many of the newest operations the workspace page reads; it shows the running ones among them and
    /// the latest few finished ones, and links to the operations page for the rest.
    static let pageOperationWindow = 50
    static let recentFinishedShown = 10

    struct WorkspaceView {
        var id: String
        var name: String
        var description: String
        var status: String
        var statusClass: String
        var templateName: String
        var templateVersion: String
        var enabled: Bool
        var role: String?
        var overview: String
        var hasOverview: Bool
        var canEdit: Bool
        var canAddService: Bool
        var airlock: Bool
        var canViewUsers: Bool
        var mayReadServices: Bool
        var services: [WorkspaceViews.Service]
        var userResources: [WorkspaceViews.UserResource]
        /// Owners see everyone's user resources, so the table names each one's owner.
        var showOwners: Bool
        let showService = true
        var operations: [WorkspaceViews.Operation]
        var olderOperations: Bool
        var anyInFlight: Bool
        var statusClasses: String
        var csrf: String
        var returnTo: String
    }

    func workspacePage(_ request: Request, _ context: PortalContext) async throws -> Response {
        let contents = try await WorkspaceContents.load(
            portal, workspaceId: try Self.id(context, "workspaceId"), user: context.user, operationLimit: Self.pageOperationWindow)
        let workspace = contents.workspace
        let names = Self.resourceNames(contents)
        var shown = contents.operations.filter { !$0.status.isTerminal }
        shown += contents.operations.filter(\.status.isTerminal).prefix(Self.recentFinishedShown)
        shown.sort { ($0.createdWhen, $0.id) > ($1.createdWhen, $1.id) }
        let overview = SafeMarkdown.html(workspace.properties["overview"]?.stringValue ?? "")
        let view = WorkspaceView(
            id: workspace.id, name: PortalText.displayName(workspace), description: PortalText.description(workspace),
            status: PortalText.status(workspace), statusClass: PortalText.statusClass(workspace.deploymentStatus),
            templateName: workspace.templateName, templateVersion: workspace.templateVersion, enabled: workspace.isEnabled,
            role: PortalText.roles(contents.actor.workspaceRoles, admin: contents.actor.isAdmin), overview: overview,
            hasOverview: !overview.isEmpty, canEdit: contents.may(.manageWorkspace), canAddService: contents.may(.manageWorkspaceService),
            airlock: workspace.isAirlockEnabled && contents.may(.readAirlockRequests), canViewUsers: contents.may(.readWorkspaceMembers),
            mayReadServices: contents.mayReadServices, services: contents.services.map { WorkspaceViews.service($0, in: contents) },
            userResources: try await userResourceRows(contents.userResources, in: contents, viewer: context.user),
            showOwners: contents.actor.workspaceRoles.contains(.owner),
            operations: shown.map { WorkspaceViews.operation($0, workspaceId: workspace.id, names: names) },
            olderOperations: contents.operations.count > shown.count, anyInFlight: shown.contains { !$0.status.isTerminal },
            statusClasses: Self.statusClasses, csrf: context.session.csrf, returnTo: "/workspaces/\(workspace.id)")
        let layout = try await portal.layout(
            context, request: request, title: view.name, section: "home",
            breadcrumbs: [PageLayout.Link("Workspaces", "/workspaces")], scripts: ["operations.js"])
        return portal.page("workspace", view, layout: layout)
    }
}
