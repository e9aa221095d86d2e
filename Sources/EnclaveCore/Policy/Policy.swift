/// Everything a caller can ask of the control plane, at the grain Azure TRE's permission matrix uses.
public enum PolicyAction: String, Sendable, Hashable, CaseIterable {
    // Templates (core)
    case readWorkspaceTemplates, readOtherTemplates, registerTemplate
    // Workspaces
    case listWorkspaces, readWorkspaceScope, createWorkspace, manageWorkspace
    case readWorkspace, readWorkspaceOperations
    // Workspace services
    case readWorkspaceServices, manageWorkspaceService, readWorkspaceServiceOperations
    // User resources (ownership-scoped)
    case readUserResources, createUserResource, manageUserResource
    // Shared services
    case readSharedServices, manageSharedServices
    // Operations, users
    case listMyOperations, manageWorkspaceUsers
    // The portal's users-and-roles page of a workspace: its owners and admins. (The API's `GET …/users` lets
    // every workspace role list, as Azure TRE does; the page shows who holds which role, an owner's concern.)
    case readWorkspaceMembers
    // The audit log (who did what): TREAdmin only, since it names every user and workspace.
    case readAudit
    // A workspace's own records (`/api/workspaces/{id}/audit`): its owners see what happened in it.
    case readWorkspaceAudit
    // Users of the TRE (`/api/users`, `assignable-users`): listing names everyone, changing grants power.
    case readUsers, manageUsers
    // The portal's admin area and its health page (which names the server's parts and their problems).
    case readAdminArea
    // The gateway (`/workspaces/{ws}/services/{svc}/…`): opening a service's or a user resource's web UI.
    case connectWorkspaceService, connectUserResource
    // The airlock (reference §4.3): requesters are owners and researchers; reviewers are airlock managers.
    case createAirlockRequest, readAirlockRequests, reviewAirlockRequest
    // `GET /api/requests`: a core route; each request is still filtered by the caller's workspace roles.
    case listMyAirlockRequests
}

/// The outcome of a policy check, with the message a denied caller sees.
public enum PolicyDecision: Sendable, Hashable {
    case allow
    case deny(String)

    public var isAllowed: Bool { self == .allow }
}

/// Azure TRE's permission matrix (reference §4.3, code not docs) as one pure function.
///
/// Every handler calls `Policy.decide` before doing anything, so the whole matrix is testable as a
/// table without HTTP. One deliberate difference: Azure TRE separates core and workspace tokens by
/// audience and answers some mismatches with 401; Enclave has one audience, so a valid caller
/// without the role always gets 403.
public enum Policy {
    /// - Parameters:
    ///   - resourceOwnerId: for `manageUserResource`, the `ownerId` of the user resource concerned.
    public static func decide(_ actor: Actor, _ action: PolicyAction, resourceOwnerId: String? = nil) -> PolicyDecision {
        let admin = actor.isAdmin
        let core = admin || actor.isTREUser
        let ws = actor.workspaceRoles
        let owner = ws.contains(.owner)
        let researcher = ws.contains(.researcher)
        let manager = ws.contains(.airlockManager)

        func need(_ allowed: Bool, _ roles: [String]) -> PolicyDecision {
            allowed ? .allow : .deny("The user is missing a required role: [\(roles.map { "'\($0)'" }.joined(separator: ", "))]")
        }
        let a = CoreRole.treAdmin.rawValue, u = CoreRole.treUser.rawValue
        let o = WorkspaceRole.owner.rawValue, r = WorkspaceRole.researcher.rawValue, m = WorkspaceRole.airlockManager.rawValue

        switch action {
        case .readWorkspaceTemplates, .registerTemplate, .createWorkspace, .manageWorkspace, .manageSharedServices,
            .manageWorkspaceUsers, .readAudit, .readUsers, .manageUsers, .readAdminArea:
            return need(admin, [a])
        case .readOtherTemplates, .listWorkspaces, .readWorkspaceScope, .readSharedServices, .listMyOperations,
            .listMyAirlockRequests:
            return need(core, [a, u])
        case .readWorkspace:
            return need(admin || owner || researcher || manager, [o, r, m, a])
        case .readWorkspaceOperations, .readWorkspaceAudit, .readWorkspaceMembers:
            return need(admin || owner, [o, a])
        case .readWorkspaceServices, .readUserResources, .createUserResource:
            return need(owner || researcher || manager, [o, r, m])
        case .manageWorkspaceService:
            return need(owner, [o])
        case .readWorkspaceServiceOperations:
            return need(owner || manager, [o, m])
        case .connectWorkspaceService, .createAirlockRequest:
            return need(owner || researcher, [o, r])
        case .readAirlockRequests:
            return need(owner || researcher || manager, [o, r, m])
        case .reviewAirlockRequest:
            return need(manager, [m])
        case .manageUserResource, .connectUserResource:
            if owner { return .allow }
            guard researcher || manager else { return need(false, [o, r, m]) }
            guard let resourceOwnerId, resourceOwnerId == actor.user.id else {
                return .deny("The user is not authorized to access this user resource: only its owner or a workspace owner may")
            }
            return .allow
        }
    }

    /// Whether a template's `authorizedRoles` lets this actor use it (empty list = everyone).
    public static func mayUseTemplate(_ actor: Actor, authorizedRoles: [String]) -> Bool {
        authorizedRoles.isEmpty || !actor.allRoleNames.isDisjoint(with: authorizedRoles)
    }
}
