import EnclaveCore
import EnclaveStore
import Hummingbird

/// What template lists show of each template.
struct TemplateSummary: Encodable {
    var name: String
    var title: String
    var description: String
    var authorizedRoles: [String]
    var customActions: [CustomAction]

    init(_ template: ResourceTemplate) {
        name = template.name
        title = template.title
        description = template.description
        authorizedRoles = template.authorizedRoles
        customActions = template.customActions
    }
}

/// `/api/{workspace,workspace-service,shared-service}-templates` and user-resource templates: Azure TRE's
/// registry, where registering a version is the only way to change what can be deployed.
struct TemplatesController: Sendable {
    let controlPlane: ControlPlane
    let access: Access
    var store: any Store { controlPlane.store }

    func register(on group: RouterGroup<AuthenticatedContext>) {
        for (path, type) in [
            ("workspace-templates", ResourceType.workspace), ("workspace-service-templates", .workspaceService),
            ("shared-service-templates", .sharedService),
        ] {
            group.get(RouterPath(path)) { request, context in try await list(type, parent: nil, request, context) }
            group.post(RouterPath(path)) { request, context in try await create(type, parent: nil, request, context) }
            group.get(RouterPath("\(path)/:templateName")) { request, context in
                try await get(type, parent: nil, request, context)
            }
        }
        // The service template's name shares the `templateName` parameter with the route above (one trie node).
        let ur = "workspace-service-templates/:templateName/user-resource-templates"
        group.get(RouterPath(ur)) { request, context in
            try await list(.userResource, parent: try context.parameters.require("templateName"), request, context)
        }
        group.post(RouterPath(ur)) { request, context in
            try await create(.userResource, parent: try context.parameters.require("templateName"), request, context)
        }
        group.get(RouterPath("\(ur)/:userResourceTemplateName")) { request, context in
            try await get(
                .userResource, parent: try context.parameters.require("templateName"), request, context,
                nameParameter: "userResourceTemplateName")
        }
    }

    func requireRead(_ type: ResourceType, _ context: AuthenticatedContext) throws -> Actor {
        let actor = Actor(user: context.user)
        try access.require(actor, type == .workspace ? .readWorkspaceTemplates : .readOtherTemplates)
        return actor
    }

    func list(_ type: ResourceType, parent: String?, _ request: Request, _ context: AuthenticatedContext) async throws
        -> Response
    {
        let actor = try requireRead(type, context)
        var templates = try await store.templates(type: type, name: nil, parent: parent).filter(\.current)
        if request.uri.queryParameters.get("authorized_only")?.lowercased() == "true" {
            templates = templates.filter { Policy.mayUseTemplate(actor, authorizedRoles: $0.authorizedRoles) }
        }
        return try JSONBody.response(Envelope("templates", templates.map(TemplateSummary.init)))
    }

    func get(
        _ type: ResourceType, parent: String?, _ request: Request, _ context: AuthenticatedContext,
        nameParameter: String = "templateName"
    ) async throws -> Response {
        _ = try requireRead(type, context)
        let name = try context.parameters.require(nameParameter)
        let version = request.uri.queryParameters.get("version").flatMap { $0.isEmpty ? nil : String($0) }
        let isUpdate = request.uri.queryParameters.get("is_update")?.lowercased() == "true"
        let template = try await controlPlane.template(type, name: name, version: version, parent: parent)
        return try JSONBody.response(template.enriched(isUpdate: isUpdate))
    }

    func create(_ type: ResourceType, parent: String?, _ request: Request, _ context: AuthenticatedContext) async throws
        -> Response
    {
        try access.require(Actor(user: context.user), .registerTemplate)
        try await Self.requireParent(parent, store: store)
        let body = try await JSONBody.decode(TemplateRegistration.self, from: request)
        let template = try await controlPlane.registerTemplate(
            body, type: type, parent: parent, by: AuditActor(context.user), requestId: context.requestId)
        return try JSONBody.response(template.enriched(isUpdate: false), status: .created)
    }

    /// A user-resource template is registered under a workspace-service template that exists (404 otherwise).
    static func requireParent(_ parent: String?, store: any Store) async throws {
        guard let parent else { return }
        if try await store.templates(type: .workspaceService, name: parent, parent: nil).isEmpty {
            throw EnclaveError.notFound("The parent workspace service template '\(parent)' is not registered")
        }
    }
}

extension ControlPlane {
    /// Validates and stores a new template version (409 on a duplicate name and version), with its audit record.
    ///
    /// - Parameter actor: the admin registering it, or `.system` for built-in templates at start-up.
    public func registerTemplate(
        _ registration: TemplateRegistration, type: ResourceType, parent: String?, by actor: AuditActor,
        requestId: String?
    ) async throws -> ResourceTemplate {
        let template = try ResourceTemplate(registration: registration, type: type, parent: parent, id: newId())
        let target = String(templateListPath(type, parent: parent).dropFirst("/api".count)) + "/" + template.name
        var details: [String: JSONValue] = [
            "resourceType": .string(type.rawValue), "templateName": .string(template.name),
            "templateVersion": .string(template.version),
        ]
        if let parent { details["parent"] = .string(parent) }
        let audit = AuditEntry(
            id: newId(), time: now, actor: actor, action: .templateRegister, target: target, details: .object(details),
            requestId: requestId)
        let registered = try await store.register(template, audit: audit)
        versionCache.invalidate()
        return registered
    }
}
