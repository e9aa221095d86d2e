import EnclaveCore
import Testing

/// Azure TRE's permission matrix (reference §4.3) as a table: every action × every role.
@Suite("Policy")
struct PolicyTests {
    enum Who: String, CaseIterable, CustomTestStringConvertible {
        case admin, treUser, owner, researcher, manager, noRole, otherOwner
        var testDescription: String { rawValue }

        /// Each caller as the policy sees them inside "the" workspace of a request.
        var actor: Actor {
            let base = User(id: rawValue, name: rawValue, email: "\(rawValue)@x", roles: [])
            switch self {
            case .admin: return Actor(user: User(id: "admin", name: "", email: "", roles: ["TREAdmin"]))
            case .treUser: return Actor(user: User(id: "u", name: "", email: "", roles: ["TREUser"]))
            case .owner: return Actor(user: base, workspaceRoles: [.owner])
            case .researcher: return Actor(user: base, workspaceRoles: [.researcher])
            case .manager: return Actor(user: base, workspaceRoles: [.airlockManager])
            case .noRole: return Actor(user: base)
            // The owner of another workspace holds no role in this one.
            case .otherOwner: return Actor(user: User(id: "oo", name: "", email: "", roles: ["TREUser"]))
            }
        }
    }

    /// Who may do what; everything not listed is denied.
    static let allowed: [PolicyAction: Set<Who>] = [
        .readWorkspaceTemplates: [.admin],
        .registerTemplate: [.admin],
        .createWorkspace: [.admin],
        .manageWorkspace: [.admin],
        .manageSharedServices: [.admin],
        .manageWorkspaceUsers: [.admin],
        .readAudit: [.admin],
        .readUsers: [.admin],
        .manageUsers: [.admin],
        .readAdminArea: [.admin],
        .readOtherTemplates: [.admin, .treUser, .otherOwner],
        .listWorkspaces: [.admin, .treUser, .otherOwner],
        .readWorkspaceScope: [.admin, .treUser, .otherOwner],
        .readSharedServices: [.admin, .treUser, .otherOwner],
        .listMyOperations: [.admin, .treUser, .otherOwner],
        .readWorkspace: [.admin, .owner, .researcher, .manager],
        .readWorkspaceOperations: [.admin, .owner],
        .readWorkspaceAudit: [.admin, .owner],
        .readWorkspaceMembers: [.admin, .owner],
        .readWorkspaceServices: [.owner, .researcher, .manager],
        .readUserResources: [.owner, .researcher, .manager],
        .createUserResource: [.owner, .researcher, .manager],
        .manageWorkspaceService: [.owner],
        .readWorkspaceServiceOperations: [.owner, .manager],
        // The gateway: a service's UI is for those who work in the workspace, not for its airlock managers.
        .connectWorkspaceService: [.owner, .researcher],
        .createAirlockRequest: [.owner, .researcher],
        .readAirlockRequests: [.owner, .researcher, .manager],
        .reviewAirlockRequest: [.manager],
        .listMyAirlockRequests: [.admin, .treUser, .otherOwner],
    ]

    static let table: [(PolicyAction, Who)] = PolicyAction.allCases.filter { $0 != .manageUserResource && $0 != .connectUserResource }
        .flatMap { action in Who.allCases.map { (action, $0) } }

    @Test("every role × every action matches Azure TRE's matrix", arguments: table)
    func matrix(action: PolicyAction, who: Who) {
        let expected = Self.allowed[action, default: []].contains(who)
        let decision = Policy.decide(who.actor, action)
        #expect(decision.isAllowed == expected, "\(who) \(action): expected \(expected ? "allow" : "deny")")
        if case .deny(let message) = decision { #expect(message.contains("missing a required role")) }
    }

    static let ownershipScoped: [PolicyAction] = [.manageUserResource, .connectUserResource]

    @Test("owners act on (and open) every user resource in their workspace", arguments: ownershipScoped)
    func ownerManagesAnyUserResource(action: PolicyAction) {
        #expect(Policy.decide(Who.owner.actor, action, resourceOwnerId: "someone-else").isAllowed)
    }

    @Test(
        "researchers and airlock managers act on (and open) only user resources they own",
        arguments: ownershipScoped, [Who.researcher, .manager])
    func researcherManagesOnlyOwn(action: PolicyAction, who: Who) {
        let actor = who.actor
        #expect(Policy.decide(actor, action, resourceOwnerId: actor.user.id).isAllowed)
        let other = Policy.decide(actor, action, resourceOwnerId: "someone-else")
        #expect(!other.isAllowed)
        if case .deny(let message) = other { #expect(message.contains("only its owner")) }
    }

    @Test(
        "admins without a workspace role cannot touch (or open) user resources",
        arguments: ownershipScoped, [Who.admin, .treUser, .noRole, .otherOwner])
    func outsidersCannotManageUserResources(action: PolicyAction, who: Who) {
        #expect(!Policy.decide(who.actor, action, resourceOwnerId: who.actor.user.id).isAllowed)
    }

    @Test("a template with authorizedRoles is usable only by callers holding one of them")
    func authorizedRoles() {
        #expect(Policy.mayUseTemplate(Who.researcher.actor, authorizedRoles: []))
        #expect(Policy.mayUseTemplate(Who.researcher.actor, authorizedRoles: ["WorkspaceOwner", "WorkspaceResearcher"]))
        #expect(!Policy.mayUseTemplate(Who.researcher.actor, authorizedRoles: ["AirlockManager"]))
        #expect(Policy.mayUseTemplate(Who.admin.actor, authorizedRoles: ["TREAdmin"]))
    }
}
