import EnclaveCore
import EnclavePortal
import EnclaveStore
import Hummingbird

/// `/workspaces/{id}/operations` (every operation the user may see in the workspace, with steps, and the
/// workspace's history) and `/workspaces/{id}/operations/{opid}` (one operation). `operations.js` keeps
/// running ones up to date; without JavaScript the pages show the state when loaded and a Refresh link.
extension WorkspacePages {
    /// The operations page reads at most this many of the newest operations.
    static let operationsPageLimit = 500

    struct OperationsView {
        var id: String
        var operations: [WorkspaceViews.Operation]
        var truncated: Bool
        var limit: Int
        var anyInFlight: Bool
        var statusClasses: String
        var returnTo: String
        var showHistory: Bool
        var history: [HistoryRow]
    }

    struct HistoryRow {
        var version: Int
        var updated: String
        var updatedISO: String
        var userName: String
        var templateVersion: String
        var enabled: Bool
    }

    func operationsPage(_ request: Request, _ context: PortalContext) async throws -> Response {
        let contents = try await WorkspaceContents.load(
            portal, workspaceId: try Self.id(context, "workspaceId"), user: context.user, operationLimit: Self.operationsPageLimit)
        let workspace = contents.workspace
        let names = Self.resourceNames(contents)
        // As `GET /api/workspaces/{id}/history`: owners and admins.
        let showHistory = contents.may(.readWorkspaceOperations)
        let history = showHistory ? try await portal.store.history(resourceId: workspace.id) : []
        let view = OperationsView(
            id: workspace.id, operations: contents.operations.map { WorkspaceViews.operation($0, workspaceId: workspace.id, names: names) },
            truncated: contents.operations.count >= Self.operationsPageLimit, limit: Self.operationsPageLimit,
            anyInFlight: contents.operations.contains { !$0.status.isTerminal }, statusClasses: Self.statusClasses,
            returnTo: "/workspaces/\(workspace.id)/operations", showHistory: showHistory,
            history: history.sorted { $0.resourceVersion > $1.resourceVersion }.map {
                HistoryRow(
                    version: $0.resourceVersion, updated: PortalTime.utc($0.updatedWhen), updatedISO: PortalTime.iso($0.updatedWhen),
                    userName: $0.user.name.isEmpty ? $0.user.id : $0.user.name, templateVersion: $0.templateVersion, enabled: $0.isEnabled)
            })
        let layout = try await portal.layout(
            context, request: request, title: "Operations", section: "home", breadcrumbs: Self.crumbs(workspace), scripts: ["operations.js"])
        return portal.page("workspace-operations", view, layout: layout)
    }

    struct OperationView {
        var id: String
        var operation: WorkspaceViews.Operation
        var updated: String
        var anyInFlight: Bool
        var statusClasses: String
        var returnTo: String
    }

    func operationPage(_ request: Request, _ context: PortalContext) async throws -> Response {
        let workspaceId = try Self.id(context, "workspaceId")
        let operationId = try Self.id(context, "operationId")
        let contents = try await WorkspaceContents.load(portal, workspaceId: workspaceId, user: context.user, operationLimit: 0)
        guard let op = try await portal.store.operation(id: operationId), ResourcePath.isInside(op.resourcePath, workspace: workspaceId),
            let type = ResourcePath.type(of: op.resourcePath)
        else { throw EnclaveError.notFound("There is no operation \(operationId) in this workspace") }
        // As `GET …/operations/{opid}` of the operation's resource would decide.
        let ownerId = type == .userResource ? try await portal.store.resourceIncludingDeleted(id: op.resourceId)?.ownerId : nil
        guard Policy.mayReadOperations(contents.actor, of: type, ownerId: ownerId) else {
            throw EnclaveError.forbidden("You may not see this operation: it concerns a resource you have no access to")
        }
        let shown = WorkspaceViews.operation(op, workspaceId: workspaceId, names: Self.resourceNames(contents))
        let view = OperationView(
            id: workspaceId, operation: shown, updated: PortalTime.utc(op.updatedWhen), anyInFlight: shown.inFlight,
            statusClasses: Self.statusClasses, returnTo: shown.href)
        let layout = try await portal.layout(
            context, request: request, title: shown.title, section: "home",
            breadcrumbs: Self.crumbs(contents.workspace) + [PageLayout.Link("Operations", "/workspaces/\(workspaceId)/operations")],
            scripts: ["operations.js"])
        return portal.page("workspace-operation", view, layout: layout)
    }
}
