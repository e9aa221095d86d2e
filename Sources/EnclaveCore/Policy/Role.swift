/// Core roles carried in tokens (`roles` claim).
public enum CoreRole: String, Codable, Sendable, Hashable, CaseIterable {
    case treAdmin = "TREAdmin"
    case treUser = "TREUser"
}

/// Roles inside one workspace, stored in Enclave as assignments (Azure TRE keeps them in Entra ID).
public enum WorkspaceRole: String, Codable, Sendable, Hashable, CaseIterable {
    case owner = "WorkspaceOwner"
    case researcher = "WorkspaceResearcher"
    case airlockManager = "AirlockManager"

    public var displayName: String {
        switch self {
        case .owner: "Workspace Owner"
        case .researcher: "Workspace Researcher"
        case .airlockManager: "Airlock Manager"
        }
    }

    /// Precedence when one role must represent a user in a list: Owner > Researcher > AirlockManager.
    public var precedence: Int {
        switch self {
        case .owner: 0
        case .researcher: 1
        case .airlockManager: 2
        }
    }
}

/// Who is asking, with the roles that matter for the request at hand.
public struct Actor: Sendable, Hashable {
    public var user: User
    /// Roles this user holds in the workspace the request concerns (empty outside workspace routes).
    public var workspaceRoles: Set<WorkspaceRole>

    public init(user: User, workspaceRoles: Set<WorkspaceRole> = []) {
        self.user = user
        self.workspaceRoles = workspaceRoles
    }

    public var isAdmin: Bool { user.roles.contains(CoreRole.treAdmin.rawValue) }
    public var isTREUser: Bool { user.roles.contains(CoreRole.treUser.rawValue) }
    /// Every role name the actor holds here, for matching a template's `authorizedRoles`.
    public var allRoleNames: Set<String> { Set(user.roles).union(workspaceRoles.map(\.rawValue)) }
}
