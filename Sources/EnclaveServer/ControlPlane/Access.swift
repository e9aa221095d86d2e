import EnclaveCore
import EnclaveStore

/// Loads what an authorisation decision needs (the resource, the caller's roles in its workspace) and
/// applies `Policy`. Every handler goes through here, so no route can skip the matrix.
struct Access: Sendable {
    let store: any Store

    func require(_ actor: Actor, _ action: PolicyAction, resourceOwnerId: String? = nil) throws {
        if case .deny(let message) = Policy.decide(actor, action, resourceOwnerId: resourceOwnerId) {
            throw EnclaveError.forbidden(message)
        }
    }

    /// The workspace and the caller as an actor inside it; 404 when the workspace does not exist (or is deleted).
    func workspace(_ id: String, user: User) async throws -> (Resource, Actor) {
        guard let (workspace, roles) = try await store.resourceAndRoles(id: id, userId: user.id),
            workspace.resourceType == .workspace
        else {
            throw EnclaveError.notFound("Workspace \(id) does not exist")
        }
        return (workspace, Actor(user: user, workspaceRoles: roles))
    }

    func service(_ id: String, in workspace: Resource) async throws -> Resource {
        guard let service = try await store.resource(id: id), service.resourceType == .workspaceService,
            service.workspaceId == workspace.id
        else { throw EnclaveError.notFound("Workspace service \(id) does not exist in workspace \(workspace.id)") }
        return service
    }

    func userResource(_ id: String, in service: Resource) async throws -> Resource {
        guard let resource = try await store.resource(id: id), resource.resourceType == .userResource,
            resource.parentWorkspaceServiceId == service.id
        else { throw EnclaveError.notFound("User resource \(id) does not exist in workspace service \(service.id)") }
        return resource
    }

    func sharedService(_ id: String) async throws -> Resource {
        guard let resource = try await store.resource(id: id), resource.resourceType == .sharedService else {
            throw EnclaveError.notFound("Shared service \(id) does not exist")
        }
        return resource
    }
}
