import EnclaveCore
import EnclavePortal
import EnclaveStore
import Foundation
import Hummingbird

/// The pages of one workspace: the workspace itself, a service, operations with live progress, users and
/// roles, and the start/stop buttons of user resources.
///
/// Every handler reads through `WorkspaceContents` (the API's `Access` + `Policy` checks) and acts through the
/// same use cases as the API (`ControlPlane.invoke`, `WorkspaceMembership`), so a page shows and does exactly
/// what the API would let the same user see and do.
struct WorkspacePages: Sendable {
    let portal: Portal

    func register(on pages: RouterGroup<PortalContext>) {
        let workspace = "/workspaces/:workspaceId"
        pages.get(RouterPath(workspace)) { request, context in try await workspacePage(request, context) }
        pages.get(RouterPath("\(workspace)/workspace-services/:serviceId")) { request, context in
            try await servicePage(request, context)
        }
        pages.post(RouterPath("\(workspace)/workspace-services/:serviceId/user-resources/:resourceId/actions/:action")) {
            request, context in try await userResourceAction(request, context)
        }
        pages.get(RouterPath("\(workspace)/operations")) { request, context in try await operationsPage(request, context) }
        pages.get(RouterPath("\(workspace)/operations/:operationId")) { request, context in try await operationPage(request, context) }
        pages.get(RouterPath("\(workspace)/users")) { request, context in try await usersPage(request, context) }
        pages.post(RouterPath("\(workspace)/users/assign")) { request, context in try await assignRole(request, context) }
        pages.post(RouterPath("\(workspace)/users/remove")) { request, context in try await removeRole(request, context) }
    }

    /// A resource id from the path; any other text is no page at all (404, not the API's 422).
    static func id(_ context: PortalContext, _ name: String) throws -> String {
        guard let value = context.parameters.get(name), UUID(uuidString: value) != nil else {
            throw EnclaveError.notFound("There is no such page.")
        }
        return value.lowercased()
    }

    /// Breadcrumbs down to the workspace page.
    static func crumbs(_ workspace: Resource) -> [PageLayout.Link] {
        [PageLayout.Link("Workspaces", "/workspaces"), PageLayout.Link(PortalText.displayName(workspace), "/workspaces/\(workspace.id)")]
    }

    /// Display names of the workspace and everything visible in it, for operation titles and steps.
    static func resourceNames(_ contents: WorkspaceContents) -> [String: String] {
        var names = [contents.workspace.id: PortalText.displayName(contents.workspace)]
        for resource in contents.services + contents.userResources { names[resource.id] = PortalText.displayName(resource) }
        return names
    }

    /// The custom actions of every user-resource template version in use, by `name@version`: one query per
    /// distinct template name (a handful), not per resource.
    func customActions(of resources: [Resource]) async throws -> [String: Set<String>] {
        var actions: [String: Set<String>] = [:]
        for name in Set(resources.map(\.templateName)).sorted() {
            for template in try await portal.store.templates(type: .userResource, name: name, parent: nil) {
                actions["\(template.name)@\(template.version)"] = Set(template.customActions.map(\.name))
            }
        }
        return actions
    }

    /// The user-resource rows for `resources`, with their owners' names when the viewer sees others' resources.
    func userResourceRows(_ resources: [Resource], in contents: WorkspaceContents, viewer: User) async throws -> [WorkspaceViews.UserResource] {
        guard !resources.isEmpty else { return [] }
        let actions = try await customActions(of: resources)
        var names = [viewer.id: viewer.name.isEmpty ? viewer.id : viewer.name]
        let others = Set(resources.compactMap(\.ownerId)).subtracting([viewer.id])
        if !others.isEmpty {
            for user in try await portal.store.knownUsers(ids: others.sorted()) where !user.name.isEmpty { names[user.id] = user.name }
        }
        return resources.map { WorkspaceViews.userResource($0, in: contents, actions: actions, names: names) }
    }

    /// Every operation status with its badge class (`deploying:busy deployed:ok …`), for `operations.js`:
    /// it keeps polling while an operation's class is `busy`, and colours badges as the server does.
    static let statusClasses = OperationStatus.allCases.map { "\($0.rawValue):\(PortalText.statusClass($0.rawValue))" }
        .joined(separator: " ")
}
