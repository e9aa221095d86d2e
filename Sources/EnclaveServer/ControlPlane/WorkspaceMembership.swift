import EnclaveCore
import EnclaveStore
import Foundation

/// Assigning and removing workspace roles, each change committed with its audit record.
///
/// `POST/DELETE /api/workspaces/{id}/users/assign` and the portal's users page both call these, after
/// checking `manageWorkspaceUsers`, so a role changes the same way whichever door it came through.
struct WorkspaceMembership: Sendable {
    let controlPlane: ControlPlane

    /// The role named `id` (`WorkspaceOwner`, …); 400 naming the valid ones otherwise.
    static func role(_ id: String) throws -> WorkspaceRole {
        guard let role = WorkspaceRole(rawValue: id) else {
            throw EnclaveError.badRequest(
                "Unknown role '\(id)': use one of \(WorkspaceRole.allCases.map(\.rawValue).joined(separator: ", ")) (GET …/roles)")
        }
        return role
    }

    /// Someone holding roles in a workspace, named as Enclave last saw them (their id when never seen).
    struct Member: Sendable {
        var id: String
        var name: String
        /// nil when Enclave has never seen the user.
        var email: String?
        /// Highest precedence first (Owner, Researcher, Airlock Manager).
        var roles: [WorkspaceRole]
    }

    /// Everyone holding a role in `workspace`, in the order they were first assigned, in two queries.
    func members(of workspace: Resource) async throws -> [Member] {
        let store = controlPlane.store
        var order: [String] = []
        var roles: [String: [WorkspaceRole]] = [:]
        for assignment in try await store.assignments(workspaceId: workspace.id) {
            if roles[assignment.userId] == nil { order.append(assignment.userId) }
            roles[assignment.userId, default: []].append(assignment.role)
        }
        let known = Dictionary(try await store.knownUsers(ids: order).map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        return order.map { id in
            Member(
                id: id, name: known[id]?.name ?? id, email: known[id]?.email,
                roles: (roles[id] ?? []).sorted { $0.precedence < $1.precedence })
        }
    }

    /// Gives `role` to every user in `userIds` (trimmed; none may be empty).
    func assign(_ role: WorkspaceRole, to userIds: [String], in workspace: Resource, actor: Actor, requestId: String?) async throws {
        let ids = userIds.map { $0.trimmingCharacters(in: .whitespaces) }
        if ids.isEmpty || ids.contains(where: \.isEmpty) {
            throw EnclaveError.badRequest("user_ids must list at least one non-empty user id")
        }
        var changes = ChangeSet()
        changes.assignRoles = ids.map { RoleAssignment(workspaceId: workspace.id, userId: $0, role: role) }
        changes.appendAudit = [
            controlPlane.auditEntry(
                .roleAssign, actor: actor, target: workspace.resourcePath, requestId: requestId,
                details: ["role": .string(role.rawValue), "userIds": .array(ids.map(JSONValue.string))])
        ]
        try await controlPlane.store.commit(changes)
    }

    /// Takes `role` from `userId`. The store refuses (404) when the role is not held, and then writes no record either.
    func unassign(_ role: WorkspaceRole, from userId: String, in workspace: Resource, actor: Actor, requestId: String?) async throws {
        var changes = ChangeSet()
        changes.unassignRoles = [RoleAssignment(workspaceId: workspace.id, userId: userId, role: role)]
        changes.appendAudit = [
            controlPlane.auditEntry(
                .roleUnassign, actor: actor, target: workspace.resourcePath, requestId: requestId,
                details: ["role": .string(role.rawValue), "userIds": [.string(userId)]])
        ]
        try await controlPlane.store.commit(changes)
    }
}
