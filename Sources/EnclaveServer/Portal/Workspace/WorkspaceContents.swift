import EnclaveCore
import EnclaveStore
import Foundation
import Hummingbird

/// One workspace as a signed-in user may see it on its pages: the workspace, and — where the API would
/// show them to this user — its services, user resources and operations.
///
/// Each list is one store query however many rows it has (the workspace page must render quickly with
/// dozens of services and hundreds of operations), and each is filtered with the same `Policy` rules as
/// the API's routes for a single item.
struct WorkspaceContents: Sendable {
    let workspace: Resource
    let actor: Actor
    /// Whether the user may list services and user resources (`readWorkspaceServices`); admins without a
    /// role in the workspace may not, as in the API.
    let mayReadServices: Bool
    let services: [Resource]
    /// The user resources this user may see: all for owners, their own for others.
    let userResources: [Resource]
    /// The visible operations, newest first.
    let operations: [ResourceOperation]

    /// Reads workspace `id` for `user`: 404 when it does not exist, 403 without `readWorkspace`.
    static func load(_ portal: Portal, workspaceId id: String, user: User, operationLimit: Int) async throws -> WorkspaceContents {
        let (workspace, actor) = try await portal.access.workspace(id, user: user)
        try portal.access.require(actor, .readWorkspace)
        let mayReadServices = Policy.decide(actor, .readWorkspaceServices).isAllowed
        var services: [Resource] = []
        var userResources: [Resource] = []
        if mayReadServices {
            for resource in try await portal.store.resources(ResourceFilter(workspaceId: workspace.id)) {
                switch resource.resourceType {
                case .workspaceService: services.append(resource)
                case .userResource: userResources.append(resource)
                case .workspace, .sharedService: break
                }
            }
            userResources = Policy.visibleUserResources(actor, userResources)
        }
        var operations: [ResourceOperation] = []
        if operationLimit > 0 {
            let owners = Dictionary(userResources.map { ($0.id, $0.ownerId) }, uniquingKeysWith: { first, _ in first })
            operations = try await portal.store.operations(workspaceId: workspace.id, limit: operationLimit).filter { op in
                guard let type = ResourcePath.type(of: op.resourcePath) else { return false }
                return Policy.mayReadOperations(actor, of: type, ownerId: owners[op.resourceId] ?? nil)
            }
        }
        return WorkspaceContents(
            workspace: workspace, actor: actor, mayReadServices: mayReadServices, services: byName(services),
            userResources: byName(userResources), operations: operations)
    }

    /// Sorted by display name, case-insensitively (keys computed once: a localized compare per pair was a
    /// noticeable part of the workspace page's time with 50 services).
    static func byName(_ resources: [Resource]) -> [Resource] {
        resources.map { (key: PortalText.displayName($0).lowercased(), resource: $0) }
            .sorted { ($0.key, $0.resource.id) < ($1.key, $1.resource.id) }
            .map(\.resource)
    }

    func may(_ action: PolicyAction, resourceOwnerId: String? = nil) -> Bool {
        Policy.decide(actor, action, resourceOwnerId: resourceOwnerId).isAllowed
    }

    /// The service `id` of this workspace, 404 when there is none (or the user may not list services).
    func service(_ id: String) throws -> Resource {
        guard let service = services.first(where: { $0.id == id }) else {
            throw EnclaveError.notFound("There is no service \(id) in this workspace")
        }
        return service
    }
}

/// What kind of resource an operation's `resourcePath` names (`/workspaces/w`, `…/workspace-services/s`,
/// `…/user-resources/u`, `/shared-services/x`), so operations can be filtered without loading each resource.
enum ResourcePath {
    static func type(of path: String) -> ResourceType? {
        let parts = path.split(separator: "/")
        switch (parts.count, parts.first) {
        case (2, "workspaces"): return .workspace
        case (4, "workspaces") where parts[2] == "workspace-services": return .workspaceService
        case (6, "workspaces") where parts[2] == "workspace-services" && parts[4] == "user-resources": return .userResource
        case (2, "shared-services"): return .sharedService
        default: return nil
        }
    }

    /// Whether `path` is workspace `id` or something inside it.
    static func isInside(_ path: String, workspace id: String) -> Bool {
        let root = "/workspaces/\(id)"
        return path == root || path.hasPrefix(root + "/")
    }
}
