/// Which resources and operations of a workspace a caller may see, for lists that span many resources
/// (the API's user-resource list, the portal's workspace and operations pages).
///
/// Both rules are the per-resource checks of `decide` applied to every item, so a list never shows what
/// the single-resource route would refuse.
extension Policy {
    /// The user resources of a service the caller may list: every one for workspace owners, their own for
    /// researchers and airlock managers (`readUserResources` must be allowed first; this only filters).
    public static func visibleUserResources(_ actor: Actor, _ resources: [Resource]) -> [Resource] {
        actor.workspaceRoles.contains(.owner) ? resources : resources.filter { $0.ownerId == actor.user.id }
    }

    /// Whether the caller may read the operations of `resource` (a workspace or something inside the one
    /// `actor`'s roles are for), as `GET …/operations` of that resource would decide.
    ///
    /// - Parameter ownerId: for a user resource, its owner; nil when unknown (e.g. deleted), which only
    ///   workspace owners pass.
    public static func mayReadOperations(_ actor: Actor, of type: ResourceType, ownerId: String?) -> Bool {
        switch type {
        case .workspace:
            return decide(actor, .readWorkspaceOperations).isAllowed
        case .workspaceService:
            return decide(actor, .readWorkspaceServiceOperations).isAllowed
        case .userResource:
            return decide(actor, .readUserResources).isAllowed
                && decide(actor, .manageUserResource, resourceOwnerId: ownerId).isAllowed
        case .sharedService:
            return decide(actor, .readSharedServices).isAllowed
        }
    }
}
