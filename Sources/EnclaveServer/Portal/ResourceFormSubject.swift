import EnclaveCore
import EnclavePortal
import Foundation
import Hummingbird

/// What a resource form acts on: the kind of resource, where it lives, who is asking and — for edit and
/// delete — the resource itself. Loaded and authorised exactly as the matching API route does
/// (`WorkspacesController`, `WorkspaceServicesController`), so a form never allows what the API refuses.
struct ResourceFormSubject: Sendable {
    var type: ResourceType
    var actor: Actor
    var workspace: Resource?
    var service: Resource?
    /// The resource being edited or deleted; nil on a "new" form.
    var resource: Resource?

    var placement: ControlPlane.Placement { .init(workspace: workspace, service: service) }

    var noun: String {
        switch type {
        case .workspace: "workspace"
        case .workspaceService: "workspace service"
        case .userResource: "user resource"
        case .sharedService: "shared service"
        }
    }

    var nounTitle: String { noun.prefix(1).uppercased() + noun.dropFirst() }

    /// Where this kind's forms live: `/workspaces`, `…/workspace-services`, `…/user-resources`.
    var basePath: String {
        switch type {
        case .workspace, .sharedService: "/workspaces"
        case .workspaceService: "/workspaces/\(workspace?.id ?? "")/workspace-services"
        case .userResource: "/workspaces/\(workspace?.id ?? "")/workspace-services/\(service?.id ?? "")/user-resources"
        }
    }

    var newPath: String { basePath + "/new" }
    var editPath: String { "\(basePath)/\(resource?.id ?? "")/edit" }
    var deletePath: String { "\(basePath)/\(resource?.id ?? "")/delete" }

    var workspaceHref: String { "/workspaces/\(workspace?.id ?? "")" }
    var serviceHref: String { "\(workspaceHref)/workspace-services/\(service?.id ?? "")" }

    /// The page that shows a resource of this kind: its own page, or its service's for a user resource.
    func pageHref(of id: String) -> String {
        switch type {
        case .workspace, .sharedService: "/workspaces/\(id)"
        case .workspaceService: "\(workspaceHref)/workspace-services/\(id)"
        case .userResource: serviceHref
        }
    }

    /// Where to go once the resource is being deleted: the page of what contained it.
    var parentHref: String {
        switch type {
        case .workspace, .sharedService: "/workspaces"
        case .workspaceService: workspaceHref
        case .userResource: serviceHref
        }
    }

    /// Home, then each parent; the resource itself last when `includingResource`.
    func breadcrumbs(includingResource: Bool) -> [PageLayout.Link] {
        var links = [PageLayout.Link("Workspaces", "/workspaces")]
        if let workspace, type != .workspace { links.append(.init(PortalText.displayName(workspace), workspaceHref)) }
        if let service, type == .userResource { links.append(.init(PortalText.displayName(service), serviceHref)) }
        if includingResource, let resource {
            links.append(.init(PortalText.displayName(resource), pageHref(of: resource.id)))
        }
        return links
    }

    /// The parent template name user-resource templates are registered under.
    var parentTemplateName: String? { type == .userResource ? service?.templateName : nil }
}

extension ResourceFormPages {
    // MARK: Loading and authorising, as the API's routes do

    func newWorkspace(_ context: PortalContext) throws -> ResourceFormSubject {
        let actor = Actor(user: context.user)
        try portal.access.require(actor, .createWorkspace)
        return ResourceFormSubject(type: .workspace, actor: actor)
    }

    func workspace(_ context: PortalContext) async throws -> ResourceFormSubject {
        let (workspace, actor) = try await portal.access.workspace(try requireUUID(context, "workspaceId"), user: context.user)
        try portal.access.require(actor, .manageWorkspace)
        return ResourceFormSubject(type: .workspace, actor: actor, workspace: workspace, resource: workspace)
    }

    func newService(_ context: PortalContext) async throws -> ResourceFormSubject {
        let (workspace, actor) = try await portal.access.workspace(try requireUUID(context, "workspaceId"), user: context.user)
        try portal.access.require(actor, .manageWorkspaceService)
        return ResourceFormSubject(type: .workspaceService, actor: actor, workspace: workspace)
    }

    func service(_ context: PortalContext) async throws -> ResourceFormSubject {
        var subject = try await newService(context)
        if let workspace = subject.workspace {
            subject.resource = try await portal.access.service(try requireUUID(context, "serviceId"), in: workspace)
        }
        return subject
    }

    func newUserResource(_ context: PortalContext) async throws -> ResourceFormSubject {
        let (workspace, actor) = try await portal.access.workspace(try requireUUID(context, "workspaceId"), user: context.user)
        try portal.access.require(actor, .createUserResource)
        let service = try await portal.access.service(try requireUUID(context, "serviceId"), in: workspace)
        return ResourceFormSubject(type: .userResource, actor: actor, workspace: workspace, service: service)
    }

    /// Researchers and airlock managers act on their own user resources only; owners on all (`Policy`).
    func userResource(_ context: PortalContext) async throws -> ResourceFormSubject {
        let (workspace, actor) = try await portal.access.workspace(try requireUUID(context, "workspaceId"), user: context.user)
        try portal.access.require(actor, .readUserResources)
        let service = try await portal.access.service(try requireUUID(context, "serviceId"), in: workspace)
        let resource = try await portal.access.userResource(try requireUUID(context, "resourceId"), in: service)
        try portal.access.require(actor, .manageUserResource, resourceOwnerId: resource.ownerId)
        return ResourceFormSubject(type: .userResource, actor: actor, workspace: workspace, service: service, resource: resource)
    }
}
